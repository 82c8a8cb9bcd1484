# The blob store of the services (storage seam `s3://<prefix>`): the seed's buckets for model
# weights, game replays and training experiences, plus checkpoints, each private, versioned,
# encrypted, TLS-only and with lifecycle rules; and a logs bucket for S3 access and VPC flow logs.
#
#   models       versions of policies, kept (old object versions expire)
#   replays      .gioreplay archive: infrequent access after a month, deleted after a year
#   experiences  the Replay Service's archive of trajectories: short-lived training data
#   checkpoints  learner state for restarts: only the recent ones matter

locals {
  buckets = {
    models      = { to_ia = null, expire = null }
    replays     = { to_ia = var.lifecycle_days.replays_to_ia, expire = var.lifecycle_days.replays_expire }
    experiences = { to_ia = null, expire = var.lifecycle_days.experiences_expire }
    checkpoints = { to_ia = null, expire = var.lifecycle_days.checkpoints_expire }
  }
}

data "aws_caller_identity" "current" {}

module "bucket" {
  source   = "./bucket"
  for_each = local.buckets

  name                  = "${var.bucket_prefix}-${each.key}"
  role                  = each.key
  log_bucket            = aws_s3_bucket_policy.logs.bucket # after the policy that lets S3 deliver logs
  transition_to_ia_days = each.value.to_ia
  expire_days           = each.value.expire
  noncurrent_days       = var.lifecycle_days.noncurrent_versions_keep
  force_destroy         = var.force_destroy
}

# ---- logs -----------------------------------------------------------------------------------------
resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:this is the access-log target; logging it into itself would loop
  #checkov:skip=CKV_AWS_144:logs are not worth a second region
  #checkov:skip=CKV2_AWS_62:nothing reacts to new log objects
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to SSE-S3 (AES256) buckets
  bucket        = "${var.bucket_prefix}-logs"
  force_destroy = var.force_destroy
  tags          = { Role = "logs" }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    expiration {
      days = var.logs_expire_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/*"] # the service writes under s3/<bucket>/; SourceAccount bounds it
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "VpcFlowLogsWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/vpc-flow-logs/*"]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "VpcFlowLogsAcl"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.logs.arn]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
  }

  statement {
    sid       = "LoadBalancerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/lb/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com", "delivery.logs.amazonaws.com"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.logs.arn,
      "${aws_s3_bucket.logs.arn}/*",
    ]
    principals {
      type        = "AWS" # {"AWS": "*"}: everyone, as "*" (and the form moto's S3 parses)
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}
