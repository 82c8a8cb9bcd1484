variable "name" {
  description = "Bucket name."
  type        = string
}

variable "role" {
  description = "What the bucket holds (a tag)."
  type        = string
}

variable "log_bucket" {
  description = "Bucket receiving this bucket's access logs."
  type        = string
}

variable "transition_to_ia_days" {
  description = "Days before objects move to STANDARD_IA; null never."
  type        = number
  default     = null
}

variable "expire_days" {
  description = "Days before objects are deleted; null never."
  type        = number
  default     = null
}

variable "noncurrent_days" {
  description = "Days an overwritten or deleted object's old version is kept."
  type        = number
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a non-empty bucket."
  type        = bool
}
