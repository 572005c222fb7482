package provider

import "time"

// SetTestTimings shortens waits that exist for real AWS: the stream's quiet period
// before cutover verifies, and the first delay between polls of a running upgrade. The
// acceptance tests call it before any test runs, against the local emulator only.
func SetTestTimings(quiet, upgradePoll time.Duration) {
	cutoverQuiet = quiet
	upgradePollMin = upgradePoll
}

// SetRestoreMargin shortens how long after the capture a restore migration's data
// must be (a minute by default, for AWS's backup semantics and clock skew).
func SetRestoreMargin(d time.Duration) { restoreMargin = d }
