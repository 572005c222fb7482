# A module that makes an existing table global in any number of Regions.
#
#   module "orders_global" {
#     source     = "./modules/global_table"
#     table_name = aws_dynamodb_table.orders.name
#     regions    = ["eu-west-1", "ap-northeast-1", "us-west-2"]
#   }
#
# All replicas are declared at once; the provider adds them one after another, as
# DynamoDB requires, within one apply.
terraform {
  required_providers {
    ddbglobal = {
      source = "ddbglobal/ddbglobal"
    }
  }
}

variable "table_name" {
  description = "The existing table (in the provider's Region) to make global."
  type        = string
}

variable "regions" {
  description = "Regions to replicate the table to."
  type        = set(string)
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery on every replica."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags of every replica."
  type        = map(string)
  default     = {}
}

resource "ddbglobal_replica" "this" {
  for_each = var.regions

  table_name             = var.table_name
  region                 = each.key
  point_in_time_recovery = var.point_in_time_recovery
  tags                   = var.tags
}

output "replica_arns" {
  description = "Replica table ARNs by Region."
  value       = { for region, r in ddbglobal_replica.this : region => r.arn }
}
