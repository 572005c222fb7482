# Report whether the legacy global table "Music" can be upgraded, without changing it.
data "ddbglobal_upgrade_preflight" "music" {
  global_table_name                          = "Music"
  region                                     = "us-east-1"
  acknowledge_replication_attributes_removal = true
}

output "music_ready" {
  value = data.ddbglobal_upgrade_preflight.music.ready
}

# One line per failed check, e.g.
# "TTL: enabled on attribute expiresAt in us-east-1; disabled in eu-west-1".
output "music_blockers" {
  value = [
    for p in data.ddbglobal_upgrade_preflight.music.prerequisites :
    "${p.title}: ${p.detail}" if !p.passed
  ]
}

output "music_remediation" {
  value = data.ddbglobal_upgrade_preflight.music.remediation
}
