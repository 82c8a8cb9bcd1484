variable "name" {
  description = "Prefix of resource names; the Deployment dimension of the custom metrics."
  type        = string
}

variable "profile" {
  description = "hobby, dev or prod."
  type        = string
}

variable "monthly_budget_usd" {
  description = "Monthly limit of the budget."
  type        = number
}

variable "budget_emails" {
  description = "Who gets the budget alerts (none: the budget exists, without notifications)."
  type        = list(string)
}

variable "budget_by_tag" {
  description = "Count only resources tagged Project=<name> (needs that cost allocation tag activated in Billing); false counts the whole account."
  type        = bool
  default     = false
}

variable "training_groups" {
  description = "Auto Scaling group names of the actors and learners (empty in the single-host setup)."
  type        = map(string)
  default     = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the services' metrics."
  type        = string
}

variable "idle_minutes" {
  description = "Minutes without a recorded experience before the learners go to zero."
  type        = number
}

variable "learner_backlog_threshold" {
  description = "Replay backlog under which idle learners may stop (the learners' scale-out threshold)."
  type        = number
  default     = 0
}

variable "training_off_schedule" {
  description = "Cron (UTC) at which actors and learners go to zero; empty for none."
  type        = string
}
