# Settings of a deployment. profiles/{hobby,dev,prod}.tfvars set them for the seed's three setups.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "generals-rl"
}

variable "profile" {
  description = "Which of the seed's setups this is: hobby, dev or prod (a tag, and the budget's name)."
  type        = string

  validation {
    condition     = contains(["hobby", "dev", "prod"], var.profile)
    error_message = "profile must be hobby, dev or prod."
  }
}

variable "topology" {
  description = "single: one EC2 instance runs every service (`grl up`); cluster: ECS services, data stores, actor and learner groups."
  type        = string
  default     = "cluster"

  validation {
    condition     = contains(["single", "cluster"], var.topology)
    error_message = "topology must be single or cluster."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "Two zones: each subnet tier (public, private A, private B) has one subnet in each."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]

  validation {
    condition     = length(var.availability_zones) == 2
    error_message = "give exactly two availability zones (the ALB and Aurora need two)."
  }
}

variable "vpc_cidr" {
  description = "The VPC's address range (the seed's 10.0.0.0/16)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "nat_gateways" {
  description = "NAT gateways for the private subnets: 0 (hobby: no private workloads), 1 (one shared), 2 (one per zone)."
  type        = number
  default     = 1

  validation {
    condition     = contains([0, 1, 2], var.nat_gateways)
    error_message = "nat_gateways must be 0, 1 or 2."
  }
}

variable "public_ingress_cidrs" {
  description = "Who may reach the public endpoints (Game, Matchmaker, HTTP gateway)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ACM certificate for TLS on the NLB (gRPC) and ALB (HTTPS). Empty: plain TCP and HTTP (dev only)."
  type        = string
  default     = ""
}

variable "bucket_prefix" {
  description = "Buckets are <prefix>-models, -replays, -experiences, -checkpoints (and -logs); the services get GRL_BLOB_URI=s3://<prefix>. S3 names are global: pick your own outside the seed's example."
  type        = string
  default     = "generals-rl"
}

variable "lifecycle_days" {
  description = "Days before objects move to cheaper classes or expire, per bucket (see modules/storage)."
  type = object({
    replays_to_ia            = number
    replays_expire           = number
    experiences_expire       = number
    checkpoints_expire       = number
    noncurrent_versions_keep = number
  })
  default = {
    replays_to_ia            = 30
    replays_expire           = 365
    experiences_expire       = 14
    checkpoints_expire       = 30
    noncurrent_versions_keep = 7
  }
}

variable "force_destroy_buckets" {
  description = "Let `terraform destroy` delete non-empty buckets (hobby and dev)."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of the generals-rl image in the ECR repository this configuration creates (CPU image)."
  type        = string
  default     = "0.1.0-cpu"
}

variable "learner_image_tag" {
  description = "Tag of the CUDA image (built with --build-arg TORCH_VARIANT=cu128) the learners run."
  type        = string
  default     = "0.1.0-cuda"
}

variable "services" {
  description = "ECS Fargate size and count of each service (cpu in units of 1/1024 vCPU, memory in MiB)."
  type = map(object({
    cpu     = number
    memory  = number
    desired = number
  }))
  default = {
    game       = { cpu = 512, memory = 1024, desired = 1 }
    matchmaker = { cpu = 256, memory = 1024, desired = 1 }
    model      = { cpu = 512, memory = 2048, desired = 1 }
    elo        = { cpu = 256, memory = 1024, desired = 1 }
    replay     = { cpu = 1024, memory = 4096, desired = 1 }
  }
}

variable "gateway" {
  description = "Run the HTTP gateway and web UI (`grl serve gateway`) behind an ALB (about $24 a month with its two public addresses)."
  type        = bool
  default     = false
}

variable "container_insights" {
  description = "ECS Container Insights: per-task CPU and memory metrics, at CloudWatch's custom-metric price."
  type        = bool
  default     = true
}

variable "services_on_spot" {
  description = "Run the services on Fargate Spot (dev: cheaper, may be interrupted) instead of Fargate."
  type        = bool
  default     = false
}

variable "actors" {
  description = "Actor Auto Scaling group: CPU instances playing self-play games (`grl actor`)."
  type = object({
    instance_type  = string
    min            = number
    max            = number
    spot           = bool
    queue_per_unit = number
  })
  default = {
    instance_type  = "c5.xlarge"
    min            = 0
    max            = 10
    spot           = true
    queue_per_unit = 16
  }
}

variable "learners" {
  description = "Learner Auto Scaling group: GPU instances training (`grl learner`)."
  type = object({
    instance_type   = string
    min             = number
    max             = number
    spot            = bool
    buffer_per_unit = number
  })
  default = {
    instance_type   = "p3.2xlarge"
    min             = 0
    max             = 3
    spot            = true
    buffer_per_unit = 500000
  }
}

variable "training_idle_minutes" {
  description = "Scale actors and learners to zero after this many minutes without a recorded experience."
  type        = number
  default     = 30
}

variable "training_off_schedule" {
  description = "Cron (UTC) at which actors and learners are scaled to zero whatever they do; empty for none."
  type        = string
  default     = ""
}

variable "database" {
  description = "Aurora PostgreSQL Serverless v2 capacity in ACUs (min 0 pauses the database when idle)."
  type = object({
    min_acu          = number
    max_acu          = number
    instances        = number
    backup_days      = number
    deletion_protect = bool
  })
  default = {
    min_acu          = 0.5
    max_acu          = 4
    instances        = 1
    backup_days      = 7
    deletion_protect = true
  }
}

variable "cache" {
  description = "ElastiCache Redis: node type and number of nodes (more than 1: a replica with automatic failover)."
  type = object({
    node_type = string
    nodes     = number
  })
  default = {
    node_type = "cache.t4g.micro"
    nodes     = 1
  }
}

variable "host" {
  description = "topology=single: the one instance running every service."
  type = object({
    instance_type = string
    volume_gb     = number
    idle_stop     = bool
  })
  default = {
    instance_type = "t3.small"
    volume_gb     = 20
    idle_stop     = true
  }
}

variable "monthly_budget_usd" {
  description = "AWS Budgets limit for this deployment; alerts at 80% actual and 100% forecast."
  type        = number
}

variable "budget_emails" {
  description = "Who gets the budget alerts."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the services, actors and learners."
  type        = number
  default     = 30
}
