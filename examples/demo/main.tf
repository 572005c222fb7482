# The demo run by `make demo`: it points the provider at the local emulator, which the
# demo starts, and describes the demo table the demo created there.
terraform {
  required_providers {
    ddbglobal = {
      source = "ddbglobal/ddbglobal"
    }
  }
}

variable "endpoint" {
  description = "URL of the local emulator."
  type        = string
}

variable "table_name" {
  description = "The demo table, created by the demo before the apply."
  type        = string
  default     = "demo-orders"
}

provider "ddbglobal" {
  region                      = "us-east-1"
  access_key                  = "demo"
  secret_key                  = "demo"
  skip_credentials_validation = true

  endpoints {
    dynamodb               = var.endpoint
    dynamodbstreams        = var.endpoint
    applicationautoscaling = var.endpoint
    sts                    = var.endpoint
  }
}

data "ddbglobal_table" "demo" {
  name = var.table_name
}

output "table" {
  description = "The demo table as the provider sees it."
  value = {
    arn                  = data.ddbglobal_table.demo.arn
    status               = data.ddbglobal_table.demo.status
    billing_mode         = data.ddbglobal_table.demo.billing_mode
    key_schema           = data.ddbglobal_table.demo.key_schema
    stream               = data.ddbglobal_table.demo.stream
    global_table_version = data.ddbglobal_table.demo.global_table_version
    replicas             = data.ddbglobal_table.demo.replicas
  }
}
