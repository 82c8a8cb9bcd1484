terraform {
  required_version = ">= 1.11.0" # write-only arguments (the database password)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State in S3 with a lock file, configured at init time:
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="key=generals-rl/<profile>.tfstate" \
  #                  -backend-config="region=us-east-1" -backend-config="use_lockfile=true" -backend-config="encrypt=true"
  backend "s3" {}
}
