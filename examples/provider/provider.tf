provider "ddbglobal" {
  region = "us-east-1"

  # Optional: a profile of the shared config files, or static credentials, or a role.
  # profile = "prod"
  # assume_role {
  #   role_arn     = "arn:aws:iam::123456789012:role/dynamodb-global-tables"
  #   session_name = "terraform"
  # }

  # Tags on every replica, merged under each replica's own tags (see tags_all).
  default_tags {
    tags = { managed_by = "terraform" }
  }
}

# Against a local emulator (`make emulator`):
provider "ddbglobal" {
  alias                       = "local"
  region                      = "us-east-1"
  access_key                  = "local"
  secret_key                  = "local"
  skip_credentials_validation = true

  endpoints {
    dynamodb               = "http://127.0.0.1:8765"
    dynamodbstreams        = "http://127.0.0.1:8765"
    applicationautoscaling = "http://127.0.0.1:8765"
  }
}
