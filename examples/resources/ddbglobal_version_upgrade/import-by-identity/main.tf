# Terraform 1.12 and later: the import block names the (already current) global table by its
# identity. region is optional (the provider's Region), and so is account_id.
import {
  to = ddbglobal_version_upgrade.orders
  identity = {
    global_table_name = "orders"
    region            = "eu-west-1"
  }
}

resource "ddbglobal_version_upgrade" "orders" {
  global_table_name                          = "orders"
  region                                     = "eu-west-1"
  acknowledge_replication_attributes_removal = true
}
