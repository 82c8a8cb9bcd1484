# The services on ECS Fargate in private subnets A, one task definition and service each, found by
# their peers through Cloud Map (<service>.<name>.internal); the Game Service and the Matchmaker
# behind the NLB, the gateway behind the ALB. Every task gets the same GRL_* settings as
# deploy/compose.yaml.

locals {
  ports = { game = 50051, matchmaker = 50052, model = 50053, elo = 50054, replay = 50055, gateway = 8080 }
  # Game, Matchmaker and gateway are reachable from the internet (through a load balancer).
  public_services = ["game", "matchmaker", "gateway"]
  namespace       = "${var.name}.internal"

  gateway_spec = { cpu = 256, memory = 1024, desired = 1 }
  ecs_services = merge(var.services, var.gateway ? { gateway = local.gateway_spec } : {})

  # GRL_* settings of every process (src/generals_rl/settings.py), as in deploy/compose.yaml.
  grl_environment = merge(
    {
      GRL_HOST                 = "0.0.0.0"
      GRL_SQL_URI              = var.database.sql_uri
      GRL_CACHE_URI            = var.database.cache_uri
      GRL_BLOB_URI             = var.storage.blob_uri
      GRL_LOG_FORMAT           = "json"
      GRL_CLOUDWATCH_NAMESPACE = var.metrics_namespace
      GRL_DEPLOYMENT           = var.name
      PGSSLMODE                = "require"
      AWS_DEFAULT_REGION       = var.region
    },
    { for service, port in local.ports : "GRL_${upper(service)}_ADDR" => "${service}.${local.namespace}:${port}" },
  )
  # The image's HEALTHCHECK does not apply on ECS: each container gets the same probe here.
  health_command = "exec python -m generals_rl.cli.health --quiet --timeout 4 127.0.0.1:"
}

resource "aws_ecs_cluster" "this" {
  #checkov:skip=CKV_AWS_65:on by default and in prod; dev turns it off (container_insights) because its metrics cost more than the services they watch
  name = var.name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = var.services_on_spot ? "FARGATE_SPOT" : "FARGATE"
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_158:the default CloudWatch Logs encryption; a KMS key costs more than these logs are worth
  #checkov:skip=CKV_AWS_338:a year of service logs is not worth its price here; retention is a setting
  for_each = local.ecs_services

  name              = "/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = local.namespace
  description = "Where the services find each other"
  vpc         = var.vpc_id
}

resource "aws_service_discovery_service" "this" {
  for_each = local.ecs_services

  name = each.key

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this.id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_task_definition" "service" {
  for_each = local.ecs_services

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "scratch"
  }

  container_definitions = jsonencode([{
    name                   = each.key
    image                  = var.image
    essential              = true
    command                = ["serve", each.key]
    readonlyRootFilesystem = true
    user                   = "10001:10001"
    portMappings           = [{ containerPort = local.ports[each.key], protocol = "tcp" }]
    environment = [
      for key, value in merge(local.grl_environment, { GRL_HEALTH_PORT = tostring(local.ports[each.key]) }) :
      { name = key, value = value }
    ]
    secrets     = [{ name = "PGPASSWORD", valueFrom = var.database.password_secret_arn }]
    mountPoints = [{ sourceVolume = "scratch", containerPath = "/tmp" }]
    healthCheck = each.key == "gateway" ? null : {
      command     = ["CMD-SHELL", "${local.health_command}${local.ports[each.key]}"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }
    stopTimeout = 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.service[each.key].name
        awslogs-region        = var.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "this" {
  for_each = local.ecs_services

  name                               = each.key
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.service[each.key].arn
  desired_count                      = each.value.desired
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = contains(local.public_services, each.key) ? 60 : null
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"

  capacity_provider_strategy {
    capacity_provider = var.services_on_spot ? "FARGATE_SPOT" : "FARGATE"
    weight            = 1
  }

  network_configuration {
    subnets          = var.service_subnet_ids
    assign_public_ip = false
    security_groups  = [contains(local.public_services, each.key) ? var.security_group_ids.public_services : var.security_group_ids.private_services]
  }

  service_registries {
    registry_arn = aws_service_discovery_service.this[each.key].arn
  }

  dynamic "load_balancer" {
    for_each = contains(keys(local.nlb_ports), each.key) ? [each.key] : []
    content {
      target_group_arn = aws_lb_target_group.grpc[load_balancer.value].arn
      container_name   = each.key
      container_port   = local.ports[each.key]
    }
  }

  dynamic "load_balancer" {
    for_each = each.key == "gateway" ? [each.key] : []
    content {
      target_group_arn = aws_lb_target_group.http[0].arn
      container_name   = each.key
      container_port   = local.ports[each.key]
    }
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.grpc, aws_lb_listener.http]
}
