# The seed's "Development setup (~$50-100/month)": one GPU learner on demand that exists only while
# training runs, two or three actors on Spot, minimal services (Fargate Spot, smallest sizes),
# Aurora Serverless v2 that pauses when idle, one Redis node, aggressive S3 lifecycle rules.
# Estimate: README.md, "Deploy".
profile               = "dev"
topology              = "cluster"
nat_gateways          = 1
services_on_spot      = true
gateway               = false # no web UI: its ALB and addresses cost about $24 a month; true turns it on
container_insights    = false
force_destroy_buckets = true
log_retention_days    = 14
monthly_budget_usd    = 100
training_idle_minutes = 20
training_off_schedule = "0 22 * * *" # everything off at 22:00 UTC, whatever it is doing

services = {
  game       = { cpu = 256, memory = 1024, desired = 1 }
  matchmaker = { cpu = 256, memory = 1024, desired = 1 }
  model      = { cpu = 256, memory = 1024, desired = 1 }
  elo        = { cpu = 256, memory = 1024, desired = 1 }
  replay     = { cpu = 512, memory = 2048, desired = 1 }
}

actors = {
  instance_type  = "c5.xlarge"
  min            = 0
  max            = 3
  spot           = true
  queue_per_unit = 16
}

learners = {
  instance_type   = "p3.2xlarge"
  min             = 0
  max             = 1
  spot            = false # the seed: on demand, stopped when not training
  buffer_per_unit = 50000
}

database = {
  min_acu          = 0 # pauses after an hour without connections
  max_acu          = 2
  instances        = 1
  backup_days      = 1
  deletion_protect = false
}

cache = {
  node_type = "cache.t4g.micro"
  nodes     = 1
}

lifecycle_days = {
  replays_to_ia            = 30
  replays_expire           = 90
  experiences_expire       = 3
  checkpoints_expire       = 7
  noncurrent_versions_keep = 1
}
