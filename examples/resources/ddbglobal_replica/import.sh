# A replica is imported by TABLE:REGION.
terraform import ddbglobal_replica.tokyo orders:ap-northeast-1

# A replica in another account (source_table_arn) by TABLE:REGION:SOURCE_TABLE_ARN, with the
# resource's provider configured for the replica's account.
terraform import ddbglobal_replica.orders_in_b orders:us-west-2:arn:aws:dynamodb:us-east-1:111122223333:table/orders
