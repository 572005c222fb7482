package migration

import (
	"context"
	"testing"
	"time"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// A backend whose Scan pages take longer than Config.RequestTimeout (DynamoDB
// Local on a loaded machine takes seconds per page of a 100,000-item table) is
// waited for: a read under a lease is retried with a doubling timeout instead
// of being given up at the same timeout forever. (With every read bounded by
// RequestTimeout, as before, this backfill never copies a page: seen failing.)
func TestSlowReadsAreWaitedFor(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 200, 100)
	addFaults(t, emulator.Fault{Operation: "Scan", Table: e.srcTable, Latency: 1200 * time.Millisecond})
	m := e.newMigration(t, func(c *Config) {
		c.HandOff = HandOffReplay
		c.Segments, c.Parallelism = 2, 2
		c.RequestTimeout = 400 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(t, m.Start(ctx))
	must(t, m.Backfill(ctx))
	server.ClearFaults()
	must(t, m.CatchUp(ctx))
	requireSame(t, e, Transform{}, "pk", nil)
}
