variable "name" {
  description = "Prefix of resource names."
  type        = string
}

variable "cidr" {
  description = "The VPC's range."
  type        = string
}

variable "availability_zones" {
  description = "Two zones."
  type        = list(string)
}

variable "nat_gateways" {
  description = "0, 1 (shared) or 2 (one per zone)."
  type        = number
}

variable "public_ingress_cidrs" {
  description = "Who may reach the public endpoints."
  type        = list(string)
}

variable "public_tcp_ports" {
  description = "Ports the load balancers (cluster) or the host (single) take from the internet: the gRPC ports of Game and Matchmaker."
  type        = list(number)
  default     = [50051, 50052]
}

variable "http_port" {
  description = "The ALB's listener port (443 with a certificate, 80 without)."
  type        = number
  default     = 443
}

variable "flow_log_bucket_arn" {
  description = "S3 bucket (ARN) receiving the VPC flow logs."
  type        = string
}
