package migration

import (
	"context"
	"testing"
	"time"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// A replay backfill (chosen by HandOffAuto from a small estimate) whose writes
// turn out slow enough that it would end past Config.ReplayWithin switches its
// remaining segments to conditional writes, each acknowledged under its lease,
// and the stream is applied during the rest of the backfill; with a writer
// changing the source all along (puts, updates, deletes) the result is exact.
// Two segments of four scan pages each, BatchWriteItem slowed to 0.8 s per call:
// the first pages of both segments are written unconditionally, the switch
// comes with the first measured rate, and the later pages are conditional.
// (Applying the stream before every segment acknowledged — hold without
// switchAcknowledged — or keeping the acknowledged segments unconditional
// makes stale scanned values overwrite newer streamed ones: the comparison
// fails, seen with the first, 20 differences.)
func TestFaultReplaySwitchesToConditionalWrites(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	const n = 4000
	seed(t, e.src, e.srcTable, 0, n, 2000) // about 4 MB (four scan pages) per segment
	addFaults(t, emulator.Fault{Operation: "BatchWriteItem", Table: e.dstTable, Latency: 800 * time.Millisecond})
	w := startWriter(e.src, e.srcTable, n+300, 100, nil)
	m := e.newMigration(t, func(c *Config) {
		c.HandOff = HandOffAuto
		c.ReplayWithin = 3 * time.Second // the estimate (4,000 items of 2 KB at 4,000 units/s) is 2 s
		c.Segments, c.Parallelism = 2, 2
		c.LeaseDuration = 10 * time.Second // slow writes stay well inside a lease
		c.ProgressInterval = 300 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	must(t, m.Start(ctx))
	if m.HandOff() != HandOffReplay {
		t.Fatalf("auto chose %s, want replay", m.HandOff())
	}
	must(t, m.Backfill(ctx))
	if m.HandOff() != HandOffInsertIfAbsent || !m.switched.Load() {
		t.Fatalf("after the backfill: hand-off %s, switched %v; want a switch to insert_if_absent", m.HandOff(), m.switched.Load())
	}
	batch, all := m.batchCopied.Load(), m.copied.Load()
	t.Logf("%d of %d items copied with unconditional BatchWriteItem before the switch, %d writer ops", batch, all, w.ops.Load())
	if batch == 0 || batch >= all {
		t.Fatalf("%d of %d items copied unconditionally: the switch did not happen mid-backfill", batch, all)
	}
	must(t, m.CatchUp(ctx))
	w.stop(t)
	server.ClearFaults()
	rep, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second})
	if err != nil || rep.Mismatched != 0 {
		requireSame(t, e, Transform{}, "pk", nil)
		t.Fatalf("cutover: %v %+v", err, rep)
	}
	requireSame(t, e, Transform{}, "pk", nil)
	st, err := m.Status(ctx)
	must(t, err)
	if st.HandOff != HandOffInsertIfAbsent {
		t.Fatalf("status hand-off %s, want insert_if_absent", st.HandOff)
	}
}
