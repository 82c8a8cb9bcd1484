output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Public subnets (load balancers, NAT, the single host), one per zone."
  value       = [for zone in var.availability_zones : aws_subnet.public[zone].id]
}

output "private_a_subnet_ids" {
  description = "Private subnets A (services, Aurora, Redis), one per zone."
  value       = [for zone in var.availability_zones : aws_subnet.private_a[zone].id]
}

output "private_b_subnet_ids" {
  description = "Private subnets B (actors and learners), one per zone."
  value       = [for zone in var.availability_zones : aws_subnet.private_b[zone].id]
}

output "security_group_ids" {
  description = "Security groups by role."
  value = {
    nlb              = aws_security_group.nlb.id
    alb              = aws_security_group.alb.id
    public_services  = aws_security_group.public_services.id
    private_services = aws_security_group.private_services.id
    training         = aws_security_group.training.id
    database         = aws_security_group.database.id
    cache            = aws_security_group.cache.id
    host             = aws_security_group.host.id
  }
}

output "s3_endpoint_id" {
  description = "The S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}
