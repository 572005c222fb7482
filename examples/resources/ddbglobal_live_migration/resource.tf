# The AWS provider in the new table's Region.
provider "aws" {
  alias  = "eu_west_1"
  region = "eu-west-1"
}

# The new table, owned by the AWS provider: a new name, Region and key schema.
resource "aws_dynamodb_table" "orders_v2" {
  provider     = aws.eu_west_1
  name         = "orders-v2"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }
}

resource "ddbglobal_live_migration" "orders_v2" {
  source {
    table_name = "orders"
    region     = "us-east-1"
  }
  target {
    table_name = aws_dynamodb_table.orders_v2.name
    region     = "eu-west-1"
  }

  backfill {
    segments                   = 16
    max_read_units_per_second  = 4000
    max_write_units_per_second = 2000
  }

  # Replicated writes only win when newer, so the application can move its writes
  # to the new table gradually.
  version_attribute = "updatedAt"

  transform {
    rename = { id = "pk" } # the key-schema change
    drop   = ["legacyFlag"]
    set    = { schemaVersion = jsonencode({ N = "2" }) }
  }

  sync    = "apply" # every apply catches up; "external" leaves it to ddbglobal-sync
  cutover = false   # set to true once writes to the source have stopped
  verify  = "full"

  timeouts = {
    create = "12h"
    update = "2h"
  }
}
