# Terraform 1.12 and later: the import block names the replica by its identity.
# account_id is optional; when given, it must be the account of the provider's credentials.
import {
  to = ddbglobal_replica.tokyo
  identity = {
    table_name = "orders"
    region     = "ap-northeast-1"
  }
}

resource "ddbglobal_replica" "tokyo" {
  table_name = "orders"
  region     = "ap-northeast-1"
}
