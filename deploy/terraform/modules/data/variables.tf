variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets A (two zones)."
  type        = list(string)
}

variable "database_security_group_id" {
  description = "Security group of Aurora."
  type        = string
}

variable "cache_security_group_id" {
  description = "Security group of Redis."
  type        = string
}

variable "database" {
  description = "Aurora Serverless v2 capacity, instances, backups, deletion protection."
  type = object({
    min_acu          = number
    max_acu          = number
    instances        = number
    backup_days      = number
    deletion_protect = bool
  })
}

variable "cache" {
  description = "Redis node type and count."
  type = object({
    node_type = string
    nodes     = number
  })
}
