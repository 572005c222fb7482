package provider

import "time"

// SetTestTimings shortens waits that exist for real AWS: the stream's quiet period
// before cutover verifies, and the first delay between polls of a running upgrade. The
// acceptance tests call it before any test runs, against the local emulator only.
func SetTestTimings(quiet, upgradePoll time.Duration) {
	cutoverQuiet = quiet
	upgradePollMin = upgradePoll
}
