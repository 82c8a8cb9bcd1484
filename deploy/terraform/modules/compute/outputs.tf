output "cluster_name" {
  description = "The ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "grpc_endpoint" {
  description = "DNS name of the NLB: Game on 50051, Matchmaker on 50052."
  value       = aws_lb.grpc.dns_name
}

output "http_endpoint" {
  description = "DNS name of the ALB (the HTTP gateway), when the gateway runs."
  value       = var.gateway ? aws_lb.http[0].dns_name : null
}

output "autoscaling_groups" {
  description = "Names of the actor and learner groups."
  value       = { for role, group in aws_autoscaling_group.training : role => group.name }
}

output "service_environment" {
  description = "The GRL_* settings every task gets (secrets excluded)."
  value       = local.grl_environment
}
