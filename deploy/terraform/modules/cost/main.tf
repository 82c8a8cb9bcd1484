# Cost control (the seed's "Monitor Costs" and "Implement Auto-shutdown"): a monthly AWS Budget
# with alerts, the GPU learners scaled to zero once no experience has been recorded for a while
# (no training is running), and optionally a nightly "training off" schedule for both groups.
# Spot capacity itself is chosen in the compute module; the hobby host stops itself when idle.

resource "aws_budgets_budget" "monthly" {
  name         = "${var.name}-${var.profile}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "cost_filter" {
    for_each = var.budget_by_tag ? [var.name] : []
    content {
      name   = "TagKeyValue"
      values = ["user:Project$${cost_filter.value}"]
    }
  }

  dynamic "notification" {
    for_each = length(var.budget_emails) > 0 ? { ACTUAL = 80, FORECASTED = 100 } : {}
    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value
      threshold_type             = "PERCENTAGE"
      notification_type          = notification.key
      subscriber_email_addresses = var.budget_emails
    }
  }
}

# ---- idle training capacity ----------------------------------------------------------------------
resource "aws_autoscaling_policy" "learners_idle" {
  count = contains(keys(var.training_groups), "learners") ? 1 : 0

  name                   = "training-idle-to-zero"
  autoscaling_group_name = var.training_groups.learners
  policy_type            = "SimpleScaling"
  adjustment_type        = "ExactCapacity"
  scaling_adjustment     = 0
  cooldown               = 300
}

# Idle: nothing recorded and no more backlog than a learner's share. Requiring both keeps this
# alarm and the backlog scale-out (compute module) from fighting over the last learner.
resource "aws_cloudwatch_metric_alarm" "learners_idle" {
  count = contains(keys(var.training_groups), "learners") ? 1 : 0

  alarm_name          = "${var.name}-training-idle"
  alarm_description   = "No experience recorded for ${var.idle_minutes} minutes and the replay backlog is small: no training runs, so the learners (GPU) go to zero"
  evaluation_periods  = var.idle_minutes
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_autoscaling_policy.learners_idle[0].arn]

  metric_query {
    id          = "idle"
    expression  = "IF(FILL(recorded, 0) < 1 AND FILL(backlog, 0) < ${var.learner_backlog_threshold}, 1, 0)"
    label       = "training idle"
    return_data = true
  }

  metric_query {
    id = "recorded"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "ExperiencesRecorded"
      dimensions  = { Deployment = var.name }
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "backlog"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "ReplayBufferSize"
      dimensions  = { Deployment = var.name }
      stat        = "Average"
      period      = 60
    }
  }
}

resource "aws_autoscaling_schedule" "training_off" {
  for_each = var.training_off_schedule == "" ? {} : var.training_groups

  scheduled_action_name  = "training-off"
  autoscaling_group_name = each.value
  recurrence             = var.training_off_schedule
  time_zone              = "Etc/UTC"
  min_size               = 0
  desired_capacity       = 0
  max_size               = -1 # unchanged
}
