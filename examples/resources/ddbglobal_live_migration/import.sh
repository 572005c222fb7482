# A migration is imported by its id, SOURCE_REGION/SOURCE_TABLE/TARGET_REGION/TARGET_TABLE,
# followed by ",CHECKPOINT_TABLE" when it does not use the default checkpoint table.
terraform import ddbglobal_live_migration.orders_v2 us-east-1/orders/eu-west-1/orders-v2
