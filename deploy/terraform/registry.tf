# The generals-rl image (deploy/docker/Dockerfile): one repository, a CPU tag for services and
# actors and a CUDA tag for learners. Tags are immutable: push a new tag per release and set
# image_tag / learner_image_tag.
#
#   docker build -f deploy/docker/Dockerfile -t <repository_url>:0.1.0-cpu .
#   docker build -f deploy/docker/Dockerfile --build-arg TORCH_VARIANT=cu128 -t <repository_url>:0.1.0-cuda .

resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_destroy_buckets

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS" # the AWS-managed key
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "untagged layers left by rebuilt tags"
        selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
        action       = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "keep the newest 20 tagged images"
        selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }
        action       = { type = "expire" }
      },
    ]
  })
}
