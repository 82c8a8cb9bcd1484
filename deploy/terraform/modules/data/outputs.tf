output "sql_uri" {
  description = "GRL_SQL_URI of the services (no password: they get PGPASSWORD from the secret)."
  value       = "postgresql://grl@${aws_rds_cluster.this.endpoint}:5432/grl"
}

output "cache_uri" {
  description = "GRL_CACHE_URI of the services (TLS)."
  value       = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
}

output "password_secret_arn" {
  description = "Secrets Manager secret holding the database password."
  value       = aws_secretsmanager_secret.database.arn
}
