# The seed's "Personal/Hobby setup" and its first deployment recommendation: one EC2 instance
# running every service (`grl up` in the generals-rl image), no GPU (train locally, publish models),
# blobs in S3, stopped automatically when idle. No SSH: Session Manager reaches it.

resource "aws_cloudwatch_log_group" "host" {
  #checkov:skip=CKV_AWS_158:the default CloudWatch Logs encryption; a KMS key costs more than these logs are worth
  #checkov:skip=CKV_AWS_338:a year of hobby logs is not worth its price; retention is a setting
  name              = "/${var.name}/host"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "host" {
  statement {
    sid       = "Buckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = values(var.bucket_arns)
  }

  statement {
    sid       = "Objects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for arn in values(var.bucket_arns) : "${arn}/*"]
  }

  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.repository_arn]
  }

  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource type
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.host.arn}:*"]
  }
}

resource "aws_iam_role" "host" {
  name               = "${var.name}-host"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "host" {
  name   = "buckets-image-logs"
  role   = aws_iam_role.host.id
  policy = data.aws_iam_policy_document.host.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.host.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "host" {
  name = "${var.name}-host"
  role = aws_iam_role.host.name
}

# The template only resolves the newest Amazon Linux 2023 AMI (an SSM parameter) at launch; the
# instance carries the rest.
resource "aws_launch_template" "host" {
  name_prefix            = "${var.name}-host-"
  image_id               = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  update_default_version = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

resource "aws_instance" "host" {
  #checkov:skip=CKV_AWS_126:detailed monitoring costs about $2 a month, a tenth of the hobby budget; 5-minute metrics drive the idle stop
  #checkov:skip=CKV_AWS_88:the hobby host is the public endpoint itself (no load balancer in this setup); its security group opens only the game ports
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [var.security_group_id]
  associate_public_ip_address = true
  iam_instance_profile        = aws_iam_instance_profile.host.name
  ebs_optimized               = true
  monitoring                  = false # the idle alarm works on the free 5-minute metrics
  user_data_replace_on_change = false

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    image     = var.image
    blob_uri  = var.blob_uri
    region    = var.region
    log_group = aws_cloudwatch_log_group.host.name
  })

  launch_template {
    id      = aws_launch_template.host.id
    version = aws_launch_template.host.latest_version
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1 # the container uses the host's network
  }

  root_block_device {
    volume_size           = var.volume_gb
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = false # the SQLite database outlives the instance
  }

  tags = { Name = "${var.name}-host" }

  lifecycle {
    ignore_changes = [launch_template, user_data] # the AMI and boot script apply to a new instance, not in place
  }
}

resource "aws_eip" "host" {
  domain   = "vpc"
  instance = aws_instance.host.id
  tags     = { Name = "${var.name}-host" }
}

# "Stop instances when not in use": an hour under 2% CPU stops the instance (the volume stays).
resource "aws_cloudwatch_metric_alarm" "idle_stop" {
  count = var.idle_stop ? 1 : 0

  alarm_name          = "${var.name}-host-idle"
  alarm_description   = "The hobby host has idled for an hour: stop it (start it again from the console or CLI)"
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  dimensions          = { InstanceId = aws_instance.host.id }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 12
  threshold           = 2
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = ["arn:aws:automate:${var.region}:ec2:stop"]
}
