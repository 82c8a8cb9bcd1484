# The training cluster in private subnets B: actors (CPU, `grl actor`) and learners (GPU,
# `grl learner`), each an Auto Scaling group of Spot instances (on-demand where `spot` is false),
# scaled by the custom metrics the services publish (namespace var.metrics_namespace, dimension
# Deployment=var.name):
#
#   GameQueueLength   Matchmaker  games waiting for an actor        actors: out while > 0, in after idle
#   ReplayBufferSize  Replay      experiences not yet sampled       learners: out above buffer_per_unit
#   ExperiencesRecorded Replay    experiences acknowledged / minute learners: to zero when none (cost module)
#
# Step scaling rather than target tracking: it scales out from zero, which a per-instance target cannot.

locals {
  groups = {
    actors = merge(var.actors, {
      role         = "actor"
      command      = "actor"
      ami          = "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
      image        = var.image
      docker_flags = ""
      volume_gb    = 40
    })
    learners = merge(var.learners, {
      role         = "learner"
      command      = "learner"
      ami          = "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
      image        = var.learner_image
      docker_flags = "--gpus all --shm-size 8g"
      volume_gb    = 100
    })
  }
  training_environment = {
    for key, value in local.grl_environment : key => value
    if !contains(["GRL_SQL_URI", "GRL_CACHE_URI", "PGSSLMODE"], key) # training talks to services, not stores
  }
  metric_dimensions = { Deployment = var.name }
}

resource "aws_cloudwatch_log_group" "training" {
  #checkov:skip=CKV_AWS_158:the default CloudWatch Logs encryption; a KMS key costs more than these logs are worth
  #checkov:skip=CKV_AWS_338:a year of training logs is not worth its price here; retention is a setting
  for_each = local.groups

  name              = "/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_launch_template" "training" {
  for_each = local.groups

  name_prefix            = "${var.name}-${each.key}-"
  image_id               = each.value.ami
  instance_type          = each.value.instance_type
  update_default_version = true
  ebs_optimized          = true
  vpc_security_group_ids = [var.security_group_ids.training]

  user_data = base64encode(templatefile("${path.module}/user_data.sh.tftpl", {
    role         = each.value.role
    command      = each.value.command
    image        = each.value.image
    docker_flags = each.value.docker_flags
    region       = var.region
    log_group    = aws_cloudwatch_log_group.training[each.key].name
    environment  = local.training_environment
  }))

  iam_instance_profile {
    arn = aws_iam_instance_profile.training.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = each.value.volume_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-${each.value.role}", Role = each.value.role }
  }
}

resource "aws_autoscaling_group" "training" {
  for_each = local.groups

  name                      = "${var.name}-${each.key}"
  min_size                  = each.value.min
  max_size                  = each.value.max
  vpc_zone_identifier       = var.training_subnet_ids
  capacity_rebalance        = each.value.spot
  health_check_type         = "EC2"
  default_instance_warmup   = 300
  wait_for_capacity_timeout = "0"
  enabled_metrics           = ["GroupDesiredCapacity", "GroupInServiceInstances"]

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = 0
      on_demand_percentage_above_base_capacity = each.value.spot ? 0 : 100
      spot_allocation_strategy                 = "price-capacity-optimized"
    }

    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.training[each.key].id
        version            = "$Latest"
      }
      override {
        instance_type = each.value.instance_type
      }
    }
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-${each.value.role}"
    propagate_at_launch = true
  }

  tag {
    key                 = "Role"
    value               = each.value.role
    propagate_at_launch = true
  }

  lifecycle {
    ignore_changes = [desired_capacity] # owned by the scaling policies
  }
}

# ---- actors: on the game queue -------------------------------------------------------------------
resource "aws_autoscaling_policy" "actors_out" {
  name                      = "game-queue-out"
  autoscaling_group_name    = aws_autoscaling_group.training["actors"].name
  policy_type               = "StepScaling"
  adjustment_type           = "ChangeInCapacity"
  estimated_instance_warmup = 300

  # Steps are measured above the alarm's threshold (0 queued games).
  step_adjustment {
    metric_interval_lower_bound = 0
    metric_interval_upper_bound = var.actors.queue_per_unit
    scaling_adjustment          = 1
  }
  step_adjustment {
    metric_interval_lower_bound = var.actors.queue_per_unit
    metric_interval_upper_bound = 4 * var.actors.queue_per_unit
    scaling_adjustment          = 2
  }
  step_adjustment {
    metric_interval_lower_bound = 4 * var.actors.queue_per_unit
    scaling_adjustment          = 4
  }
}

resource "aws_cloudwatch_metric_alarm" "actors_out" {
  alarm_name          = "${var.name}-game-queue-waiting"
  alarm_description   = "Games wait for an actor: add actors (more the longer the queue)"
  namespace           = var.metrics_namespace
  metric_name         = "GameQueueLength"
  dimensions          = local.metric_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.actors_out.arn]
}

resource "aws_autoscaling_policy" "actors_in" {
  name                   = "game-queue-empty"
  autoscaling_group_name = aws_autoscaling_group.training["actors"].name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ExactCapacity"
  scaling_adjustment     = var.actors.min
  cooldown               = 300
}

resource "aws_cloudwatch_metric_alarm" "actors_in" {
  alarm_name          = "${var.name}-game-queue-idle"
  alarm_description   = "No game has waited for ${var.idle_minutes} minutes: actors back to their minimum"
  namespace           = var.metrics_namespace
  metric_name         = "GameQueueLength"
  dimensions          = local.metric_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = var.idle_minutes
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching" # no Matchmaker metric: nothing is queued
  alarm_actions       = [aws_autoscaling_policy.actors_in.arn]
}

# ---- learners: on the replay backlog -------------------------------------------------------------
resource "aws_autoscaling_policy" "learners_out" {
  name                      = "replay-backlog-out"
  autoscaling_group_name    = aws_autoscaling_group.training["learners"].name
  policy_type               = "StepScaling"
  adjustment_type           = "ChangeInCapacity"
  estimated_instance_warmup = 600

  step_adjustment {
    metric_interval_lower_bound = 0
    metric_interval_upper_bound = var.learners.buffer_per_unit
    scaling_adjustment          = 1
  }
  step_adjustment {
    metric_interval_lower_bound = var.learners.buffer_per_unit
    scaling_adjustment          = 2
  }
}

resource "aws_cloudwatch_metric_alarm" "learners_out" {
  alarm_name          = "${var.name}-replay-backlog-high"
  alarm_description   = "More than ${var.learners.buffer_per_unit} experiences wait in the replay buffer: add a learner"
  namespace           = var.metrics_namespace
  metric_name         = "ReplayBufferSize"
  dimensions          = local.metric_dimensions
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.learners.buffer_per_unit
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.learners_out.arn]
}

resource "aws_autoscaling_policy" "learners_in" {
  name                   = "replay-backlog-low"
  autoscaling_group_name = aws_autoscaling_group.training["learners"].name
  policy_type            = "SimpleScaling"
  adjustment_type        = "ChangeInCapacity"
  scaling_adjustment     = -1
  cooldown               = 900
}

# Fewer learners while the backlog stays low, but never the last one: stopping training is the
# idle alarm's job (cost module), which looks at whether experiences still arrive.
resource "aws_cloudwatch_metric_alarm" "learners_in" {
  alarm_name          = "${var.name}-replay-backlog-low"
  alarm_description   = "The replay backlog stays under a tenth of a learner's share with two or more learners: remove one"
  evaluation_periods  = 15
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_autoscaling_policy.learners_in.arn]

  metric_query {
    id          = "surplus"
    expression  = "IF(learners > 1 AND backlog < ${var.learners.buffer_per_unit / 10}, 1, 0)"
    label       = "learners in surplus"
    return_data = true
  }

  metric_query {
    id = "backlog"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "ReplayBufferSize"
      dimensions  = local.metric_dimensions
      stat        = "Average"
      period      = 60
    }
  }

  metric_query {
    id = "learners"
    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupInServiceInstances"
      dimensions  = { AutoScalingGroupName = aws_autoscaling_group.training["learners"].name }
      stat        = "Minimum"
      period      = 60
    }
  }
}
