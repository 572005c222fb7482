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

# The demo table goes global: two replicas, added one after another in one apply.
resource "ddbglobal_replica" "demo" {
  for_each = toset(["eu-west-1", "ap-northeast-1"])

  table_name             = var.table_name
  region                 = each.key
  point_in_time_recovery = true
  tags                   = { demo = "true" }
}

data "ddbglobal_table" "demo" {
  name = var.table_name

  # Described after the replicas exist.
  depends_on = [ddbglobal_replica.demo]
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

# The legacy (2017.11.29) global table the demo created, upgraded to 2019.11.21. The
# plan shows what remediation fixes (capacity and TTL drift); the emulator performs the
# console's "Update version" in place of the operator.
variable "legacy_table_name" {
  description = "The legacy global table, created by the demo before the apply."
  type        = string
  default     = "demo-music"
}

resource "ddbglobal_version_upgrade" "music" {
  global_table_name                          = var.legacy_table_name
  remediate                                  = true
  acknowledge_replication_attributes_removal = true

  timeouts = {
    create = "5m"
  }
}

output "upgrade" {
  description = "The upgrade as the provider recorded it."
  value = {
    from_version    = ddbglobal_version_upgrade.music.from_version
    version         = ddbglobal_version_upgrade.music.version
    replica_regions = ddbglobal_version_upgrade.music.replica_regions
    remediations    = ddbglobal_version_upgrade.music.remediations
    prerequisites   = ddbglobal_version_upgrade.music.prerequisites
    upgraded_at     = ddbglobal_version_upgrade.music.upgraded_at
  }
}

# The demo table moves, live, into a new table in another Region whose key attribute is
# named customerId: capture, backfill and sync while the demo's writer keeps writing;
# `-var cutover=true` then drains, verifies every item and completes.
variable "cutover" {
  description = "Set to true once the application has stopped writing to the source."
  type        = bool
  default     = false
}

resource "ddbglobal_live_migration" "orders_v2" {
  source {
    table_name = var.table_name
    region     = "us-east-1"
  }
  target {
    table_name = "demo-orders-v2"
    region     = "eu-central-1"
  }

  backfill { segments = 4 }
  transform {
    rename = { customer = "customerId" }
    set    = { schemaVersion = jsonencode({ N = "2" }) }
  }

  cutover = var.cutover
  verify  = "full"
}

output "migration" {
  description = "The live migration as the provider recorded it."
  value = {
    phase           = ddbglobal_live_migration.orders_v2.phase
    items_copied    = ddbglobal_live_migration.orders_v2.items_copied
    records_applied = ddbglobal_live_migration.orders_v2.records_applied
    pending_records = ddbglobal_live_migration.orders_v2.pending_records
    verification    = ddbglobal_live_migration.orders_v2.verification
  }
}

# The ledger table (created by the demo in this account) gets a replica in a partner
# account: a multi-account global table. The partner's own provider configuration
# creates it; the ledger's resource-based policy, written by the demo, lets the partner
# account replicate it.
provider "ddbglobal" {
  alias                       = "partner"
  region                      = "us-west-2"
  access_key                  = "222222222222" # the emulator's account 222222222222
  secret_key                  = "demo"
  skip_credentials_validation = true

  endpoints {
    dynamodb               = var.endpoint
    dynamodbstreams        = var.endpoint
    applicationautoscaling = var.endpoint
    sts                    = var.endpoint
  }
}

resource "ddbglobal_replica" "partner" {
  provider         = ddbglobal.partner
  table_name       = "demo-ledger"
  region           = "us-west-2"
  source_table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/demo-ledger"
}

output "partner_replica" {
  description = "The ledger's replica in the partner account."
  value = {
    arn    = ddbglobal_replica.partner.arn
    status = ddbglobal_replica.partner.status
  }
}
