# Runs N ddbglobal-sync runners for one live migration (sync = "external") as an
# ECS Fargate service, with a task role that may do only what the runner needs:
# read the source and its stream, write the target, use the migration's entries
# of the checkpoint table, and assume only the roles named here.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.60" }
  }
}

variable "name" {
  description = "Name of the service and its roles."
  type        = string
}

variable "image" {
  description = "The ddbglobal-sync image, e.g. ghcr.io/ddbglobal/ddbglobal-sync:1.0.0."
  type        = string
}

variable "runners" {
  description = "How many runners; they share backfill segments and stream shards through leases."
  type        = number
  default     = 3
}

variable "cluster_arn" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  description = "Egress to DynamoDB, DynamoDB Streams, STS and CloudWatch Logs (VPC endpoints or a NAT gateway)."
  type        = list(string)
}

variable "source_table" {
  description = "Source table: name, Region and, when it lives in another account, the role to assume there."
  type = object({
    name     = string
    region   = string
    role_arn = optional(string, "")
  })
}

variable "target_table" {
  type = object({
    name     = string
    region   = string
    role_arn = optional(string, "")
  })
}

variable "checkpoint_table" {
  description = "The checkpoint table (name and Region), as in the ddbglobal_live_migration resource."
  type = object({
    name   = string
    region = string
  })
  default = { name = "ddbglobal-migrations", region = "" }
}

variable "terraform_role_arn" {
  description = "The role Terraform (the ddbglobal provider) runs as. With it, the checkpoint table gets a resource policy that lets no one else but the runners write it."
  type        = string
  default     = ""
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  id                = "${var.source_table.region}/${var.source_table.name}/${var.target_table.region}/${var.target_table.name}"
  checkpoint_region = var.checkpoint_table.region != "" ? var.checkpoint_table.region : var.target_table.region
  account           = data.aws_caller_identity.current.account_id
  partition         = data.aws_partition.current.partition
  source_arn        = "arn:${local.partition}:dynamodb:${var.source_table.region}:${local.account}:table/${var.source_table.name}"
  target_arn        = "arn:${local.partition}:dynamodb:${var.target_table.region}:${local.account}:table/${var.target_table.name}"
  checkpoint_arn    = "arn:${local.partition}:dynamodb:${local.checkpoint_region}:${local.account}:table/${var.checkpoint_table.name}"
  roles_to_assume   = compact([var.source_table.role_arn, var.target_table.role_arn])
  # Every way to write an item: the checkpoint table's resource policy denies them to all but Terraform and the runners.
  checkpoint_writes = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]
}

data "aws_iam_policy_document" "assume_ecs" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# The runners' own identity.
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs.json
}

# Exactly the actions a runner calls (listed in the guide "Running the sync
# fleet"; a test keeps the two equal). Starting the migration (enabling the
# stream, creating the checkpoint table, clearing the target), the cutover's
# full verification and forgetting the migration are the Terraform role's.
data "aws_iam_policy_document" "task" {
  # The checkpoint table: only this migration's entries (leading key = migration id).
  statement {
    sid       = "Checkpoints"
    actions   = ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = [local.checkpoint_arn]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [local.id]
    }
  }
  # Read the source and its stream (same account; a role in another account
  # needs these permissions there instead). BatchGetItem reads the items of a
  # stream without new images (KEYS_ONLY, OLD_IMAGE). With backfill.method =
  # "restore" a runner may do the restore: DescribeContinuousBackups, then
  # RestoreTableToPointInTime, or CreateBackup and the SourceBackup statement.
  dynamic "statement" {
    for_each = var.source_table.role_arn == "" ? [1] : []
    content {
      sid = "Source"
      actions = ["dynamodb:BatchGetItem", "dynamodb:CreateBackup", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable",
      "dynamodb:RestoreTableToPointInTime", "dynamodb:Scan"]
      resources = [local.source_arn]
    }
  }
  dynamic "statement" {
    for_each = var.source_table.role_arn == "" ? [1] : []
    content {
      sid       = "SourceStream"
      actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
      resources = ["${local.source_arn}/stream/*"]
    }
  }
  # The restore's on-demand backup (backfill.method = "restore", source
  # without point-in-time recovery).
  dynamic "statement" {
    for_each = var.source_table.role_arn == "" ? [1] : []
    content {
      sid       = "SourceBackup"
      actions   = ["dynamodb:DescribeBackup", "dynamodb:RestoreTableFromBackup"]
      resources = ["${local.source_arn}/backup/*"]
    }
  }
  # GetItem and Query are for a restore alone: DynamoDB's restore writes the
  # target with the caller's permissions.
  dynamic "statement" {
    for_each = var.target_table.role_arn == "" ? [1] : []
    content {
      sid = "Target"
      actions = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
      "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"]
      resources = [local.target_arn]
    }
  }
  # sts:AssumeRole on the named roles only; the runner is also pinned to them.
  dynamic "statement" {
    for_each = length(local.roles_to_assume) > 0 ? [1] : []
    content {
      sid       = "NamedRolesOnly"
      actions   = ["sts:AssumeRole"]
      resources = local.roles_to_assume
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "ddbglobal-sync"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# No one but Terraform's role and the runners writes the checkpoint table: a
# writer could otherwise redirect a runner that trusted it (the runner refuses
# settings it was not configured with; this keeps such writes out altogether).
data "aws_iam_policy_document" "checkpoint" {
  count = var.terraform_role_arn != "" ? 1 : 0
  statement {
    sid       = "OnlyTerraformAndRunnersWrite"
    effect    = "Deny"
    actions   = concat(local.checkpoint_writes, ["dynamodb:DeleteTable", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"])
    resources = [local.checkpoint_arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [var.terraform_role_arn, aws_iam_role.task.arn]
    }
  }
}

resource "aws_dynamodb_resource_policy" "checkpoint" {
  count        = var.terraform_role_arn != "" ? 1 : 0
  resource_arn = local.checkpoint_arn
  policy       = data.aws_iam_policy_document.checkpoint[0].json
}

# Pulling the image and writing logs.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_cloudwatch_log_group" "runner" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
}

resource "aws_ecs_task_definition" "runner" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = "ddbglobal-sync"
    image     = var.image
    essential = true
    # The runner finishes the pages in hand and releases its leases on SIGTERM.
    stopTimeout  = 60
    portMappings = [{ containerPort = 9090, protocol = "tcp" }]
    environment = [for k, v in {
      DDBGLOBAL_SYNC_CHECKPOINT_TABLE = var.checkpoint_table.name
      DDBGLOBAL_SYNC_REGION           = local.checkpoint_region
      DDBGLOBAL_SYNC_ID               = local.id
      DDBGLOBAL_SYNC_SOURCE_ROLE_ARN  = var.source_table.role_arn
      DDBGLOBAL_SYNC_TARGET_ROLE_ARN  = var.target_table.role_arn
      DDBGLOBAL_SYNC_LISTEN           = ":9090"
      DDBGLOBAL_SYNC_LOG_FORMAT       = "json"
    } : { name = k, value = v } if v != ""]
    # No container health check: the image has no shell. A runner that stops
    # reading the checkpoint table answers 503 on /healthz (port 9090) for a
    # scraper or load balancer to see; ECS replaces a task that exits.
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.runner.name
        awslogs-region        = local.checkpoint_region
        awslogs-stream-prefix = "runner"
      }
    }
  }])
}

resource "aws_ecs_service" "runners" {
  name            = var.name
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.runner.arn
  desired_count   = var.runners
  launch_type     = "FARGATE"
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }
  # Replace runners one at a time: the others keep every lease moving.
  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 100
}

output "task_role_arn" {
  description = "The runners' role: give it access to the roles it assumes in other accounts (their trust policies)."
  value       = aws_iam_role.task.arn
}
