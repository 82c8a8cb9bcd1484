# generals-rl on AWS, as the seed's cloud architecture draws it. One root, three profiles
# (profiles/*.tfvars): `hobby` runs everything on one instance (topology=single); `dev` and
# `prod` run the cluster (topology=cluster): services on ECS Fargate behind an NLB (gRPC) and an
# ALB (HTTP), Aurora PostgreSQL, ElastiCache Redis, S3, actors and learners on Spot.
#
#   terraform init -backend-config=...            (see versions.tf)
#   terraform apply -var-file=profiles/dev.tfvars
#
# Modules: network (VPC, subnets, NAT, S3 endpoint, security groups), storage (buckets),
# data (Aurora, Redis), compute (ECS, load balancers, actor and learner groups and their scaling),
# host (the single instance), cost (budget, idle shutdown of training capacity).

locals {
  cluster           = var.topology == "cluster"
  metrics_namespace = "GeneralsRL"
  image             = "${aws_ecr_repository.this.repository_url}:${var.image_tag}"
  learner_image     = "${aws_ecr_repository.this.repository_url}:${var.learner_image_tag}"
}

module "storage" {
  source = "./modules/storage"

  bucket_prefix  = var.bucket_prefix
  lifecycle_days = var.lifecycle_days
  force_destroy  = var.force_destroy_buckets
}

module "network" {
  source = "./modules/network"

  name                 = var.name
  cidr                 = var.vpc_cidr
  availability_zones   = var.availability_zones
  nat_gateways         = local.cluster ? var.nat_gateways : 0
  public_ingress_cidrs = var.public_ingress_cidrs
  http_port            = var.certificate_arn != "" ? 443 : 80
  flow_log_bucket_arn  = module.storage.logs_bucket_arn
}

module "data" {
  source = "./modules/data"
  count  = local.cluster ? 1 : 0

  name                       = var.name
  subnet_ids                 = module.network.private_a_subnet_ids
  database_security_group_id = module.network.security_group_ids.database
  cache_security_group_id    = module.network.security_group_ids.cache
  database                   = var.database
  cache                      = var.cache
}

module "compute" {
  source = "./modules/compute"
  count  = local.cluster ? 1 : 0

  name                = var.name
  region              = var.region
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  service_subnet_ids  = module.network.private_a_subnet_ids
  training_subnet_ids = module.network.private_b_subnet_ids
  security_group_ids  = module.network.security_group_ids
  image               = local.image
  learner_image       = local.learner_image
  repository_arn      = aws_ecr_repository.this.arn
  services            = var.services
  gateway             = var.gateway
  services_on_spot    = var.services_on_spot
  container_insights  = var.container_insights
  certificate_arn     = var.certificate_arn
  actors              = var.actors
  learners            = var.learners
  idle_minutes        = var.training_idle_minutes
  log_retention_days  = var.log_retention_days
  metrics_namespace   = local.metrics_namespace

  load_balancer_deletion_protection = var.profile == "prod"

  storage = {
    blob_uri    = module.storage.blob_uri
    bucket_arns = module.storage.bucket_arns
    logs_bucket = module.storage.logs_bucket
  }
  database = {
    sql_uri             = module.data[0].sql_uri
    cache_uri           = module.data[0].cache_uri
    password_secret_arn = module.data[0].password_secret_arn
  }
}

module "host" {
  source = "./modules/host"
  count  = local.cluster ? 0 : 1

  name               = var.name
  region             = var.region
  subnet_id          = module.network.public_subnet_ids[0]
  security_group_id  = module.network.security_group_ids.host
  image              = local.image
  repository_arn     = aws_ecr_repository.this.arn
  blob_uri           = module.storage.blob_uri
  bucket_arns        = module.storage.bucket_arns
  instance_type      = var.host.instance_type
  volume_gb          = var.host.volume_gb
  idle_stop          = var.host.idle_stop
  log_retention_days = var.log_retention_days
}

module "cost" {
  source = "./modules/cost"

  name                      = var.name
  profile                   = var.profile
  monthly_budget_usd        = var.monthly_budget_usd
  budget_emails             = var.budget_emails
  training_groups           = local.cluster ? module.compute[0].autoscaling_groups : {}
  metrics_namespace         = local.metrics_namespace
  idle_minutes              = var.training_idle_minutes
  learner_backlog_threshold = var.learners.buffer_per_unit
  training_off_schedule     = var.training_off_schedule
}
