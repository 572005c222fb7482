# A replica is imported by TABLE:REGION.
terraform import ddbglobal_replica.tokyo orders:ap-northeast-1
