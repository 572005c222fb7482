# A replica of a table in another AWS account: the table joins a multi-account global
# table (eventually consistent). Two provider configurations: the source account's
# AWS provider writes the source table's resource-based policy, the replica account's
# ddbglobal provider creates the replica there (and writes the replica's own policy).
#
#   provider "aws" {
#     alias  = "source"
#     region = "us-east-1" # the source table's account and Region
#   }
#
#   provider "ddbglobal" {
#     alias  = "replica"
#     region = "us-west-2"
#     assume_role { role_arn = "arn:aws:iam::222222222222:role/terraform" } # the replica's account
#   }
#
#   module "orders_in_222222222222" {
#     source             = "./modules/multi_account_replica"
#     providers          = { aws.source = aws.source, ddbglobal.replica = ddbglobal.replica }
#     source_table_arn   = aws_dynamodb_table.orders.arn
#     replica_region     = "us-west-2"
#     replica_account_id = "222222222222"
#   }
terraform {
  required_providers {
    aws       = { source = "hashicorp/aws", configuration_aliases = [aws.source] }
    ddbglobal = { source = "ddbglobal/ddbglobal", configuration_aliases = [ddbglobal.replica] }
  }
}

variable "source_table_arn" {
  description = "ARN of the source table (in the account of the aws.source provider)."
  type        = string
}

variable "replica_region" {
  description = "Region of the replica; not the source's Region."
  type        = string
}

variable "replica_account_id" {
  description = "Account of the ddbglobal.replica provider, where the replica is created."
  type        = string
}

variable "other_replica_account_ids" {
  description = "Accounts of the global table's other replicas, if any: every replica grants every other."
  type        = list(string)
  default     = []
}

locals {
  source_account_id = split(":", var.source_table_arn)[4]
  table_name        = split("/", var.source_table_arn)[1]
}

# The source account lets DynamoDB's replication service replicate with the new
# replica's account, and lets that account read the table and its policy (so that the
# replica's plan checks the source).
resource "aws_dynamodb_resource_policy" "source" {
  provider     = aws.source
  resource_arn = var.source_table_arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DynamoDBActionsNeededForSteadyStateReplication"
        Effect    = "Allow"
        Principal = { Service = ["replication.dynamodb.amazonaws.com"] }
        Action    = ["dynamodb:ReadDataForReplication", "dynamodb:WriteDataForReplication", "dynamodb:ReplicateSettings"]
        Resource  = var.source_table_arn
        Condition = { StringEquals = { "aws:SourceAccount" = concat([local.source_account_id, var.replica_account_id], var.other_replica_account_ids) } }
      },
      {
        Sid       = "ReplicaAccountPlanChecks"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${var.replica_account_id}:root" }
        Action    = ["dynamodb:DescribeTable", "dynamodb:GetResourcePolicy"]
        Resource  = var.source_table_arn
      },
    ]
  })
}

resource "ddbglobal_replica" "this" {
  provider         = ddbglobal.replica
  table_name       = local.table_name
  region           = var.replica_region
  source_table_arn = var.source_table_arn

  depends_on = [aws_dynamodb_resource_policy.source]
}

output "replica_arn" {
  value = ddbglobal_replica.this.arn
}
