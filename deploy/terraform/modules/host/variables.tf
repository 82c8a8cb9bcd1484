variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "subnet_id" {
  description = "A public subnet."
  type        = string
}

variable "security_group_id" {
  description = "The host's security group (network module)."
  type        = string
}

variable "image" {
  description = "The generals-rl image (CPU variant), repository:tag."
  type        = string
}

variable "repository_arn" {
  description = "ECR repository of the image."
  type        = string
}

variable "blob_uri" {
  description = "GRL_BLOB_URI: the S3 buckets."
  type        = string
}

variable "bucket_arns" {
  description = "Bucket ARNs by role."
  type        = map(string)
}

variable "instance_type" {
  description = "Instance type (t3.small: 2 vCPU burstable, 2 GiB)."
  type        = string
}

variable "volume_gb" {
  description = "Root volume: the SQLite database and Docker images live here."
  type        = number
}

variable "idle_stop" {
  description = "Stop the instance after an hour below 2% CPU (start it again by hand; data stays on the volume)."
  type        = bool
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
}
