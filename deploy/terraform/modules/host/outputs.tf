output "public_ip" {
  description = "The host's address: Game on 50051, Matchmaker on 50052, the gateway on 8080."
  value       = aws_eip.host.public_ip
}

output "instance_id" {
  description = "The host (for `aws ec2 start-instances` after an idle stop)."
  value       = aws_instance.host.id
}
