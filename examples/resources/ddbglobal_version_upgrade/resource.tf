# Upgrade the legacy (2017.11.29) global table "Music" to version 2019.11.21.
# The plan already shows any prerequisite that fails, Region by Region. During the
# apply, the provider fixes capacity and TTL (remediate = true), prints the console
# steps, and waits until someone chooses "Update version" in the DynamoDB console.
resource "ddbglobal_version_upgrade" "music" {
  global_table_name = "Music"
  region            = "us-east-1" # any member Region

  remediate                 = true
  remediation_capacity_mode = "PAY_PER_REQUEST" # or "AUTOSCALING"
  # Switch back to the provisioned capacity recorded before remediation once the
  # upgrade is done (without it the table stays on-demand).
  restore_capacity_mode = true

  # No application reads aws:rep:deleting, aws:rep:updateregion or aws:rep:updatetime.
  acknowledge_replication_attributes_removal = true

  timeouts = {
    create = "6h"
  }
}

output "music_version" {
  value = ddbglobal_version_upgrade.music.version
}
