# The public entry points, in the public subnets: an NLB for gRPC (Game 50051, Matchmaker 50052;
# TLS when a certificate is given, with ALPN h2 for gRPC) and an ALB for the HTTP gateway.

locals {
  nlb_ports = { game = 50051, matchmaker = 50052 }
  tls       = var.certificate_arn != ""
}

resource "aws_lb" "grpc" {
  #checkov:skip=CKV2_AWS_28:WAF does not inspect gRPC over an NLB; security groups and TLS bound the listener
  name                             = "${var.name}-grpc"
  load_balancer_type               = "network"
  internal                         = false
  subnets                          = var.public_subnet_ids
  security_groups                  = [var.security_group_ids.nlb]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.load_balancer_deletion_protection

  access_logs {
    bucket  = var.storage.logs_bucket
    prefix  = "lb/grpc"
    enabled = true
  }
}

resource "aws_lb_target_group" "grpc" {
  for_each = local.nlb_ports

  name                 = "${var.name}-${each.key}"
  port                 = each.value
  protocol             = "TCP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30 # the servers drain for grace_s after SIGTERM

  health_check {
    protocol            = "TCP"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "grpc" {
  #checkov:skip=CKV_AWS_2:an NLB listener is TCP or TLS: TLS whenever certificate_arn is set (dev runs without)
  #checkov:skip=CKV_AWS_103:TLS 1.2+ policy applied whenever the listener is TLS (certificate_arn set)
  for_each = local.nlb_ports

  load_balancer_arn = aws_lb.grpc.arn
  port              = each.value
  protocol          = local.tls ? "TLS" : "TCP"
  certificate_arn   = local.tls ? var.certificate_arn : null
  ssl_policy        = local.tls ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  alpn_policy       = local.tls ? "HTTP2Only" : null

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.grpc[each.key].arn
  }
}

resource "aws_lb" "http" {
  #checkov:skip=CKV2_AWS_28:no WAF (about $10 a month before rules); the gateway is behind the ALB's security group
  count = var.gateway ? 1 : 0

  name                       = "${var.name}-http"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [var.security_group_ids.alb]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.load_balancer_deletion_protection

  access_logs {
    bucket  = var.storage.logs_bucket
    prefix  = "lb/http"
    enabled = true
  }
}

resource "aws_lb_target_group" "http" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to the task stays inside the VPC
  count = var.gateway ? 1 : 0

  name                 = "${var.name}-gateway"
  port                 = local.ports.gateway
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:HTTPS whenever certificate_arn is set (dev runs without)
  #checkov:skip=CKV_AWS_103:TLS 1.2+ policy applied whenever the listener is HTTPS
  #checkov:skip=CKV2_AWS_20:there is one listener: HTTPS with a certificate, HTTP only without one
  count = var.gateway ? 1 : 0

  load_balancer_arn = aws_lb.http[0].arn
  port              = local.tls ? 443 : 80
  protocol          = local.tls ? "HTTPS" : "HTTP"
  certificate_arn   = local.tls ? var.certificate_arn : null
  ssl_policy        = local.tls ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.http[0].arn
  }
}
