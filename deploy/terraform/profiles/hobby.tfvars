# The seed's "Personal/Hobby setup (~$20-30/month)": no dedicated GPU (train locally, publish the
# models), one EC2 instance running every service (`grl up`), minimal storage, the instance stopped
# when not in use. No NAT, no load balancers, no Aurora or Redis (SQLite on the instance's volume,
# the in-memory cache); S3 for blobs. Estimate: README.md, "Deploy".
profile               = "hobby"
topology              = "single"
nat_gateways          = 0
force_destroy_buckets = true
log_retention_days    = 7
monthly_budget_usd    = 30

host = {
  instance_type = "t3.small"
  volume_gb     = 20
  idle_stop     = true
}

lifecycle_days = {
  replays_to_ia            = 30
  replays_expire           = 90
  experiences_expire       = 7
  checkpoints_expire       = 14
  noncurrent_versions_keep = 1
}
