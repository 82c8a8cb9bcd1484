variable "name" {
  description = "Prefix of resource names; also the Deployment dimension of the custom metrics."
  type        = string
}

variable "region" {
  description = "AWS region (for logs and the ECR registry)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancers."
  type        = list(string)
}

variable "service_subnet_ids" {
  description = "Private subnets A: the services' tasks."
  type        = list(string)
}

variable "training_subnet_ids" {
  description = "Private subnets B: actors and learners."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups by role (network module)."
  type        = map(string)
}

variable "image" {
  description = "Image of the services and actors (CPU variant), repository:tag."
  type        = string
}

variable "learner_image" {
  description = "Image of the learners (CUDA variant), repository:tag."
  type        = string
}

variable "repository_arn" {
  description = "ECR repository the instances pull from."
  type        = string
}

variable "services" {
  description = "Fargate size and count of each gRPC service."
  type = map(object({
    cpu     = number
    memory  = number
    desired = number
  }))
}

variable "gateway" {
  description = "Run the HTTP gateway behind an ALB."
  type        = bool
}

variable "services_on_spot" {
  description = "Fargate Spot for the services."
  type        = bool
}

variable "certificate_arn" {
  description = "ACM certificate for TLS listeners; empty for plain TCP and HTTP."
  type        = string
}

variable "storage" {
  description = "Blob URI, bucket ARNs and the logs bucket (storage module)."
  type = object({
    blob_uri    = string
    bucket_arns = map(string)
    logs_bucket = string
  })
}

variable "database" {
  description = "SQL URI, cache URI and the password secret (data module)."
  type = object({
    sql_uri             = string
    cache_uri           = string
    password_secret_arn = string
  })
}

variable "actors" {
  description = "Actor group: instance type, bounds, Spot, queued games per actor."
  type = object({
    instance_type  = string
    min            = number
    max            = number
    spot           = bool
    queue_per_unit = number
  })
}

variable "learners" {
  description = "Learner group: instance type, bounds, Spot, replay backlog per learner."
  type = object({
    instance_type   = string
    min             = number
    max             = number
    spot            = bool
    buffer_per_unit = number
  })
}

variable "idle_minutes" {
  description = "Minutes of an empty game queue before actors scale in to their minimum."
  type        = number
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics the services publish."
  type        = string
}

variable "container_insights" {
  description = "ECS Container Insights (about $0.30 per metric and month: dozens of metrics for a cluster)."
  type        = bool
  default     = true
}

variable "load_balancer_deletion_protection" {
  description = "Protect the load balancers from deletion (prod)."
  type        = bool
  default     = true
}
