# Terraform 1.12 and later: the import block names the migration by its identity, its two
# tables. checkpoint_table is optional (the default checkpoint table), and so is account_id.
import {
  to = ddbglobal_live_migration.orders_v2
  identity = {
    source_table_name = "orders"
    source_region     = "us-east-1"
    target_table_name = "orders-v2"
    target_region     = "eu-west-1"
  }
}

resource "ddbglobal_live_migration" "orders_v2" {
  source {
    table_name = "orders"
    region     = "us-east-1"
  }
  target {
    table_name = "orders-v2"
    region     = "eu-west-1"
  }
}
