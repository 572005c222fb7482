# A global table that is already at version 2019.11.21, by name (described in the
# provider's Region), or NAME:REGION for another member Region. A legacy table cannot be
# imported: apply the resource to upgrade it.
terraform import ddbglobal_version_upgrade.orders orders
terraform import ddbglobal_version_upgrade.orders orders:eu-west-1
