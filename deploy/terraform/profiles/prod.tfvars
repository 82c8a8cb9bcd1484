# The seed's "Production setup (~$500-1000/month)": two or three GPU learners on Spot, five to ten
# CPU actors on Spot, small service instances (on regular Fargate, two of the busy ones), Aurora
# Serverless v2 and a Redis primary with a replica, NAT in both zones, TLS on the load balancers.
# Estimate: README.md, "Deploy".
profile          = "prod"
topology         = "cluster"
nat_gateways     = 2
services_on_spot = false
gateway          = true
# certificate_arn = "arn:aws:acm:us-east-1:<account>:certificate/<id>"  # TLS on the NLB and ALB
monthly_budget_usd    = 1000
training_idle_minutes = 30

services = {
  game       = { cpu = 512, memory = 2048, desired = 2 }
  matchmaker = { cpu = 256, memory = 1024, desired = 2 }
  model      = { cpu = 512, memory = 2048, desired = 1 }
  elo        = { cpu = 256, memory = 1024, desired = 1 }
  replay     = { cpu = 1024, memory = 8192, desired = 1 }
}

actors = {
  instance_type  = "c5.xlarge"
  min            = 0
  max            = 10
  spot           = true
  queue_per_unit = 16
}

learners = {
  instance_type   = "p3.2xlarge"
  min             = 0
  max             = 3
  spot            = true
  buffer_per_unit = 500000
}

database = {
  min_acu          = 0.5
  max_acu          = 8
  instances        = 2
  backup_days      = 14
  deletion_protect = true
}

cache = {
  node_type = "cache.t4g.small"
  nodes     = 2
}
