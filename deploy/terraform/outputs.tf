output "repository_url" {
  description = "Push the image here (see registry.tf)."
  value       = aws_ecr_repository.this.repository_url
}

output "buckets" {
  description = "The S3 buckets by role."
  value       = module.storage.bucket_names
}

output "grpc_endpoint" {
  description = "Where clients reach the Game Service (50051) and the Matchmaker (50052)."
  value       = local.cluster ? module.compute[0].grpc_endpoint : module.host[0].public_ip
}

output "http_endpoint" {
  description = "Where the HTTP gateway answers (cluster with gateway = true, or the host on 8080)."
  value       = local.cluster ? module.compute[0].http_endpoint : "${module.host[0].public_ip}:8080"
}

output "training_groups" {
  description = "Auto Scaling groups of the actors and learners (cluster only)."
  value       = local.cluster ? module.compute[0].autoscaling_groups : {}
}

output "budget" {
  description = "The AWS Budget watching this deployment."
  value       = module.cost.budget_name
}
