data "ddbglobal_table" "orders" {
  name   = "orders"
  region = "us-east-1"
}

output "orders_replica_regions" {
  value = [for r in data.ddbglobal_table.orders.replicas : r.region]
}

output "orders_is_legacy" {
  value = data.ddbglobal_table.orders.is_legacy_global_table
}
