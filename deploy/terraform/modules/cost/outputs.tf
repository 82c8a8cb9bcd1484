output "budget_name" {
  description = "The AWS Budget."
  value       = aws_budgets_budget.monthly.name
}
