# The seed's network: VPC 10.0.0.0/16; a public subnet (load balancers, NAT, the hobby host),
# private subnet A (the services, Aurora, Redis) and private subnet B (the training cluster), each
# tier in two zones; an S3 gateway endpoint so private subnets reach S3 without the NAT; and the
# security groups that decide who talks to whom.

locals {
  zones = { for i, zone in var.availability_zones : zone => i }
  # 10.0.0.0/24, 10.0.1.0/24 | 10.0.16.0/20, 10.0.32.0/20 | 10.0.64.0/19, 10.0.96.0/19
  public_cidrs    = { for zone, i in local.zones : zone => cidrsubnet(var.cidr, 8, i) }
  private_a_cidrs = { for zone, i in local.zones : zone => cidrsubnet(var.cidr, 4, 1 + i) }
  private_b_cidrs = { for zone, i in local.zones : zone => cidrsubnet(var.cidr, 3, 2 + i) }
  grpc_ports      = { game = 50051, matchmaker = 50052, model = 50053, elo = 50054, replay = 50055 }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

# No rules: anything left in the default group can talk to nothing.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-default-closed" }
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "REJECT"
  log_destination_type = "s3"
  log_destination      = "${var.flow_log_bucket_arn}/vpc-flow-logs/"
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  for_each = local.public_cidrs

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name}-public-${each.key}", Tier = "public" }
}

resource "aws_subnet" "private_a" {
  for_each = local.private_a_cidrs

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value
  tags              = { Name = "${var.name}-private-a-${each.key}", Tier = "services" }
}

resource "aws_subnet" "private_b" {
  for_each = local.private_b_cidrs

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value
  tags              = { Name = "${var.name}-private-b-${each.key}", Tier = "training" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count = var.nat_gateways

  domain = "vpc"
  tags   = { Name = "${var.name}-nat-${count.index}" }
}

resource "aws_nat_gateway" "this" {
  count = var.nat_gateways

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[var.availability_zones[count.index]].id
  tags          = { Name = "${var.name}-nat-${count.index}" }

  depends_on = [aws_internet_gateway.this]
}

# One private route table per zone, shared by tiers A and B: outbound through the zone's NAT
# gateway (or the only one), S3 through the gateway endpoint.
resource "aws_route_table" "private" {
  for_each = local.zones

  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-private-${each.key}" }
}

resource "aws_route" "private_nat" {
  for_each = var.nat_gateways > 0 ? local.zones : {}

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[min(each.value, var.nat_gateways - 1)].id
}

resource "aws_route_table_association" "private_a" {
  for_each = aws_subnet.private_a

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_route_table_association" "private_b" {
  for_each = aws_subnet.private_b

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

data "aws_region" "current" {}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = concat([aws_route_table.public.id], [for table in aws_route_table.private : table.id])
  tags              = { Name = "${var.name}-s3" }
}
