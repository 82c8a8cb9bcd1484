# The services' SQL and cache seams in production: Aurora PostgreSQL Serverless v2 (game metadata,
# results, ratings, the model registry; schema by `grl db upgrade`) and ElastiCache Redis (tickets
# and queues of the Matchmaker, leaderboards, active games), both in private subnets A, reachable
# only from the services' security groups.
#
# The database password is made by Secrets Manager and reaches Aurora as a write-only argument, so
# it is in neither this configuration nor the state; the services get it as PGPASSWORD and
# PGSSLMODE=require (libpq reads both when GRL_SQL_URI carries no password).

ephemeral "aws_secretsmanager_random_password" "database" {
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "database" {
  #checkov:skip=CKV2_AWS_57:the services read the password once at start; rotating it means a new deployment (`terraform apply -replace`), not a Lambda
  #checkov:skip=CKV_AWS_149:the AWS-managed key: no key to pay for or rotate
  name_prefix             = "${var.name}-database-"
  description             = "Password of the Aurora user `grl` (PGPASSWORD of the services)"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "database" {
  secret_id                = aws_secretsmanager_secret.database.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.database.random_password
  secret_string_wo_version = 1
}

ephemeral "aws_secretsmanager_secret_version" "database" {
  secret_id  = aws_secretsmanager_secret.database.id
  version_id = aws_secretsmanager_secret_version.database.version_id
}

resource "aws_db_subnet_group" "this" {
  name        = "${var.name}-database"
  description = "Aurora in private subnets A"
  subnet_ids  = var.subnet_ids
}

resource "aws_rds_cluster_parameter_group" "this" {
  name        = "${var.name}-aurora-pg16"
  family      = "aurora-postgresql16"
  description = "TLS only, slow statements logged"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
}

resource "aws_rds_cluster" "this" {
  #checkov:skip=CKV2_AWS_8:AWS Backup is not used; Aurora's continuous backups (backup_retention_period) cover point-in-time restore
  #checkov:skip=CKV_AWS_327:the AWS-managed key: no key to pay for or rotate
  #checkov:skip=CKV2_AWS_27:logging every statement (log_statement=all) costs more than it tells; statements over a second are logged
  cluster_identifier                  = var.name
  engine                              = "aurora-postgresql"
  engine_mode                         = "provisioned"
  engine_version                      = "16.6"
  database_name                       = "grl"
  master_username                     = "grl"
  master_password_wo                  = ephemeral.aws_secretsmanager_secret_version.database.secret_string
  master_password_wo_version          = 1
  db_subnet_group_name                = aws_db_subnet_group.this.name
  db_cluster_parameter_group_name     = aws_rds_cluster_parameter_group.this.name
  vpc_security_group_ids              = [var.database_security_group_id]
  storage_encrypted                   = true
  backup_retention_period             = var.database.backup_days
  preferred_backup_window             = "03:00-04:00"
  copy_tags_to_snapshot               = true
  deletion_protection                 = var.database.deletion_protect
  skip_final_snapshot                 = !var.database.deletion_protect
  final_snapshot_identifier           = var.database.deletion_protect ? "${var.name}-final" : null
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql"]

  serverlessv2_scaling_configuration {
    min_capacity             = var.database.min_acu
    max_capacity             = var.database.max_acu
    seconds_until_auto_pause = var.database.min_acu == 0 ? 3600 : null
  }
}

resource "aws_rds_cluster_instance" "this" {
  #checkov:skip=CKV_AWS_118:enhanced monitoring costs extra; CloudWatch's standard Aurora metrics suffice here
  #checkov:skip=CKV_AWS_354:the AWS-managed key for Performance Insights
  count = var.database.instances

  identifier                   = "${var.name}-${count.index}"
  cluster_identifier           = aws_rds_cluster.this.id
  instance_class               = "db.serverless"
  engine                       = aws_rds_cluster.this.engine
  engine_version               = aws_rds_cluster.this.engine_version
  db_subnet_group_name         = aws_db_subnet_group.this.name
  auto_minor_version_upgrade   = true
  performance_insights_enabled = true
  publicly_accessible          = false
}

# ---- Redis ---------------------------------------------------------------------------------------
resource "aws_elasticache_subnet_group" "this" {
  name        = "${var.name}-cache"
  description = "Redis in private subnets A"
  subnet_ids  = var.subnet_ids
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV_AWS_31:TLS is on (rediss://); no AUTH token: it would sit in Terraform state and in GRL_CACHE_URI, and only the services' security groups reach the port
  #checkov:skip=CKV_AWS_191:the AWS-managed key: no key to pay for or rotate
  #checkov:skip=CKV2_AWS_50:Multi-AZ failover follows the node count: on with 2 nodes (prod), off with 1 (dev); the cache can be rebuilt from SQL
  replication_group_id       = var.name
  description                = "generals-rl cache: matchmaking queues, leaderboards, active games"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.cache.node_type
  num_cache_clusters         = var.cache.nodes
  automatic_failover_enabled = var.cache.nodes > 1
  multi_az_enabled           = var.cache.nodes > 1
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [var.cache_security_group_id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  snapshot_retention_limit   = 1
  auto_minor_version_upgrade = true
  apply_immediately          = true
}
