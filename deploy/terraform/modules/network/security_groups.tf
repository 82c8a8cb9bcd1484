# Who talks to whom. From the internet: only the NLB (gRPC of the Game Service and the Matchmaker),
# the ALB (the HTTP gateway) and, in the single-host topology, the host itself, on those ports.
# Inside: the services take gRPC from the VPC; PostgreSQL and Redis only from the services; the
# training cluster takes nothing but its own traffic (learners' torch.distributed) and calls out to
# the services and AWS APIs.

# ---- load balancers ----------------------------------------------------------------------------
resource "aws_security_group" "nlb" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-nlb"
  description = "gRPC load balancer: Game and Matchmaker ports from the allowed CIDRs"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-nlb" }
}

resource "aws_vpc_security_group_ingress_rule" "nlb_public" {
  for_each = { for pair in setproduct(var.public_tcp_ports, var.public_ingress_cidrs) : "${pair[0]}-${pair[1]}" => pair }

  security_group_id = aws_security_group.nlb.id
  description       = "gRPC ${each.value[0]} from ${each.value[1]}"
  ip_protocol       = "tcp"
  from_port         = each.value[0]
  to_port           = each.value[0]
  cidr_ipv4         = each.value[1]
}

resource "aws_vpc_security_group_egress_rule" "nlb_targets" {
  for_each = toset([for port in var.public_tcp_ports : tostring(port)])

  security_group_id            = aws_security_group.nlb.id
  description                  = "to the public services' tasks on ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
  referenced_security_group_id = aws_security_group.public_services.id
}

resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-alb"
  description = "HTTP load balancer: the gateway's listener from the allowed CIDRs"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-alb" }
}

resource "aws_vpc_security_group_ingress_rule" "alb_public" {
  for_each = toset(var.public_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP(S) ${var.http_port} from ${each.key}"
  ip_protocol       = "tcp"
  from_port         = var.http_port
  to_port           = var.http_port
  cidr_ipv4         = each.key
}

resource "aws_vpc_security_group_egress_rule" "alb_targets" {
  security_group_id            = aws_security_group.alb.id
  description                  = "to the gateway's tasks"
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = aws_security_group.public_services.id
}

# ---- services ------------------------------------------------------------------------------------
resource "aws_security_group" "public_services" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-public-services"
  description = "Game, Matchmaker and gateway tasks: from the load balancers and the VPC"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-public-services" }
}

resource "aws_vpc_security_group_ingress_rule" "public_services_from_nlb" {
  for_each = toset([for port in var.public_tcp_ports : tostring(port)])

  security_group_id            = aws_security_group.public_services.id
  description                  = "gRPC ${each.key} from the NLB"
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
  referenced_security_group_id = aws_security_group.nlb.id
}

resource "aws_vpc_security_group_ingress_rule" "public_services_from_alb" {
  security_group_id            = aws_security_group.public_services.id
  description                  = "HTTP 8080 from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_ingress_rule" "public_services_from_vpc" {
  security_group_id = aws_security_group.public_services.id
  description       = "gRPC of Game and Matchmaker from inside the VPC (services, actors)"
  ip_protocol       = "tcp"
  from_port         = local.grpc_ports.game
  to_port           = local.grpc_ports.matchmaker
  cidr_ipv4         = var.cidr
}

resource "aws_security_group" "private_services" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-private-services"
  description = "Model, Elo and Replay tasks: gRPC from inside the VPC only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-private-services" }
}

resource "aws_vpc_security_group_ingress_rule" "private_services_from_vpc" {
  security_group_id = aws_security_group.private_services.id
  description       = "gRPC of Model, Elo and Replay from inside the VPC"
  ip_protocol       = "tcp"
  from_port         = local.grpc_ports.model
  to_port           = local.grpc_ports.replay
  cidr_ipv4         = var.cidr
}

# ---- training cluster ----------------------------------------------------------------------------
resource "aws_security_group" "training" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-training"
  description = "Actors, learners and the evaluator: no ingress but each other (torch.distributed between learners)"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-training" }
}

# torch.distributed between learners: the rendezvous (29400-29600) and NCCL's sockets, which
# take ports from Linux's ephemeral range (32768-60999).
locals {
  training_peer_ports = { rendezvous = [29400, 29600], nccl = [32768, 60999] }
}

resource "aws_vpc_security_group_ingress_rule" "training_self" {
  for_each = local.training_peer_ports

  security_group_id            = aws_security_group.training.id
  description                  = "torch.distributed ${each.key} from other learners"
  ip_protocol                  = "tcp"
  from_port                    = each.value[0]
  to_port                      = each.value[1]
  referenced_security_group_id = aws_security_group.training.id
}

# ---- egress of every workload: the services' gRPC and storage inside the VPC, HTTPS out --------
locals {
  workload_groups = {
    public_services  = aws_security_group.public_services.id
    private_services = aws_security_group.private_services.id
    training         = aws_security_group.training.id
  }
}

resource "aws_vpc_security_group_egress_rule" "workload_grpc" {
  for_each = local.workload_groups

  security_group_id = each.value
  description       = "gRPC to the services inside the VPC"
  ip_protocol       = "tcp"
  from_port         = local.grpc_ports.game
  to_port           = local.grpc_ports.replay
  cidr_ipv4         = var.cidr
}

resource "aws_vpc_security_group_egress_rule" "workload_https" {
  for_each = local.workload_groups

  security_group_id = each.value
  description       = "HTTPS to AWS APIs (ECR, S3, CloudWatch, Secrets Manager) through the NAT or endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "training_self" {
  for_each = local.training_peer_ports

  security_group_id            = aws_security_group.training.id
  description                  = "torch.distributed ${each.key} to other learners"
  ip_protocol                  = "tcp"
  from_port                    = each.value[0]
  to_port                      = each.value[1]
  referenced_security_group_id = aws_security_group.training.id
}

# ---- data stores: only the services reach them ---------------------------------------------------
resource "aws_security_group" "database" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-database"
  description = "Aurora PostgreSQL: 5432 from the services only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-database" }
}

resource "aws_security_group" "cache" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-cache"
  description = "ElastiCache Redis: 6379 from the services only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-cache" }
}

locals {
  store_access = merge([
    for store, spec in { database = { group = aws_security_group.database.id, port = 5432 }, cache = { group = aws_security_group.cache.id, port = 6379 } } : {
      for client in ["public_services", "private_services"] : "${store}-${client}" => merge(spec, { client = client })
    }
  ]...)
}

resource "aws_vpc_security_group_ingress_rule" "store_from_services" {
  for_each = local.store_access

  security_group_id            = each.value.group
  description                  = "${each.value.port} from ${each.value.client}"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = local.workload_groups[each.value.client]
}

resource "aws_vpc_security_group_egress_rule" "services_to_store" {
  for_each = local.store_access

  security_group_id            = local.workload_groups[each.value.client]
  description                  = "to the ${split("-", each.key)[0]} on ${each.value.port}"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = each.value.group
}

# ---- the single host (topology=single) -----------------------------------------------------------
resource "aws_security_group" "host" {
  #checkov:skip=CKV2_AWS_5:attached in the compute, data or host module through this module's security_group_ids output, which checkov's graph does not follow (and the cluster and single-host groups exist in both topologies)
  name        = "${var.name}-host"
  description = "The one instance of the hobby setup: Game, Matchmaker and gateway ports from the allowed CIDRs"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-host" }
}

resource "aws_vpc_security_group_ingress_rule" "host_public" {
  for_each = { for pair in setproduct(concat(var.public_tcp_ports, [8080]), var.public_ingress_cidrs) : "${pair[0]}-${pair[1]}" => pair }

  security_group_id = aws_security_group.host.id
  description       = "port ${each.value[0]} from ${each.value[1]}"
  ip_protocol       = "tcp"
  from_port         = each.value[0]
  to_port           = each.value[0]
  cidr_ipv4         = each.value[1]
}

resource "aws_vpc_security_group_egress_rule" "host_https" {
  security_group_id = aws_security_group.host.id
  description       = "HTTPS out: image pulls, package updates, S3, SSM"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
