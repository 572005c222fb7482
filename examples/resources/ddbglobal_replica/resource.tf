# The base table, owned by the AWS provider.
resource "aws_dynamodb_table" "orders" {
  name             = "orders"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "customer"
  range_key        = "order"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "customer"
    type = "S"
  }
  attribute {
    name = "order"
    type = "S"
  }

  # Replicas are managed by ddbglobal_replica, not here.
  lifecycle {
    ignore_changes = [replica]
  }
}

resource "ddbglobal_replica" "tokyo" {
  table_name = aws_dynamodb_table.orders.name
  region     = "ap-northeast-1"

  point_in_time_recovery      = true
  deletion_protection_enabled = false
  tags                        = { team = "core" }

  timeouts = {
    create = "2h" # copying a large table into a new Region takes a while
  }
}
