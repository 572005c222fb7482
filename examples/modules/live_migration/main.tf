# A module that moves a table into a new on-demand table with the same key in another
# Region, and cuts over when asked.
#
#   module "move_orders" {
#     source        = "./modules/live_migration"
#     source_table  = "orders"
#     source_region = "us-east-1"
#     target_region = "eu-west-1"
#     hash_key      = "pk"
#     cutover       = false # flip to true after the application stops writing to the source
#   }
terraform {
  required_providers {
    aws       = { source = "hashicorp/aws" }
    ddbglobal = { source = "ddbglobal/ddbglobal" }
  }
}

variable "source_table" {
  type = string
}

variable "source_region" {
  type = string
}

variable "target_table" {
  type    = string
  default = null
}

variable "target_region" {
  type = string
}

variable "hash_key" {
  type = string
}

variable "cutover" {
  type    = bool
  default = false
}

locals {
  target_table = coalesce(var.target_table, var.source_table)
}

# The provider of this module's caller must be configured for target_region.
resource "aws_dynamodb_table" "target" {
  name         = local.target_table
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = var.hash_key

  attribute {
    name = var.hash_key
    type = "S"
  }

  deletion_protection_enabled = true
}

resource "ddbglobal_live_migration" "this" {
  source {
    table_name = var.source_table
    region     = var.source_region
  }
  target {
    table_name = aws_dynamodb_table.target.name
    region     = var.target_region
  }
  cutover = var.cutover
}

output "phase" {
  value = ddbglobal_live_migration.this.phase
}

output "verification" {
  value = ddbglobal_live_migration.this.verification
}
