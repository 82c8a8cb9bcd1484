provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = var.name
      Profile   = var.profile
      ManagedBy = "terraform"
    }
  }
}
