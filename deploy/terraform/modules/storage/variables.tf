variable "bucket_prefix" {
  description = "Buckets are <prefix>-models, -replays, -experiences, -checkpoints and -logs."
  type        = string
}

variable "lifecycle_days" {
  description = "Days before objects move to cheaper classes or expire."
  type = object({
    replays_to_ia            = number
    replays_expire           = number
    experiences_expire       = number
    checkpoints_expire       = number
    noncurrent_versions_keep = number
  })
}

variable "logs_expire_days" {
  description = "Days the logs bucket keeps access and flow logs."
  type        = number
  default     = 90
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets."
  type        = bool
  default     = false
}
