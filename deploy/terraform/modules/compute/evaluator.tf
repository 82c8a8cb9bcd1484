# The evaluation loop (`grl evaluate --watch --running`): one Fargate task in private subnets A that
# plays every new version against the champion and the bots through the Matchmaker and the Game
# Service, has the games rated by the Elo Service and promotes by SPRT in the Model Service. A
# client only: no port, no load balancer, no Cloud Map name, no gRPC health check; it talks to the
# services, not to the data stores (the training group's rules and settings). One task, never more:
# two evaluators would judge the same versions twice.

locals {
  evaluator_command = ["evaluate", "--watch", "--running"]
  evaluator_spec    = { cpu = 256, memory = 1024 }
}

resource "aws_cloudwatch_log_group" "evaluator" {
  #checkov:skip=CKV_AWS_158:the default CloudWatch Logs encryption; a KMS key costs more than these logs are worth
  #checkov:skip=CKV_AWS_338:a year of evaluation logs is not worth its price here; retention is a setting
  name              = "/${var.name}/evaluator"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "evaluator" {
  family                   = "${var.name}-evaluator"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = local.evaluator_spec.cpu
  memory                   = local.evaluator_spec.memory
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
    name                   = "evaluator"
    image                  = var.image
    essential              = true
    command                = local.evaluator_command
    readonlyRootFilesystem = true
    user                   = "10001:10001"
    environment            = [for key, value in local.training_environment : { name = key, value = value }]
    mountPoints            = [{ sourceVolume = "scratch", containerPath = "/tmp" }]
    stopTimeout            = 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.evaluator.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "evaluator"
      }
    }
  }])
}

resource "aws_ecs_service" "evaluator" {
  name                               = "evaluator"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.evaluator.arn
  desired_count                      = 1
  deployment_minimum_healthy_percent = 0 # stop the old task before the new one starts: one evaluator at a time
  deployment_maximum_percent         = 100
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"

  capacity_provider_strategy {
    capacity_provider = var.services_on_spot ? "FARGATE_SPOT" : "FARGATE"
    weight            = 1
  }

  network_configuration {
    subnets          = var.service_subnet_ids
    assign_public_ip = false
    security_groups  = [var.security_group_ids.training]
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}
