output "blob_uri" {
  description = "GRL_BLOB_URI of the services: the storage seam derives the four bucket names from it."
  value       = "s3://${var.bucket_prefix}"
}

output "bucket_names" {
  description = "Bucket names by role (models, replays, experiences, checkpoints)."
  value       = { for role, bucket in module.bucket : role => bucket.name }
}

output "bucket_arns" {
  description = "Bucket ARNs by role."
  value       = { for role, bucket in module.bucket : role => bucket.arn }
}

output "logs_bucket" {
  description = "Name of the logs bucket (S3 access, VPC flow and load balancer logs)."
  value       = aws_s3_bucket.logs.id
}

output "logs_bucket_arn" {
  description = "ARN of the logs bucket."
  value       = aws_s3_bucket.logs.arn
}
