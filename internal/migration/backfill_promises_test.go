package migration

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// countingScans counts what the backfill reads from the source: Scan pages,
// items, and the read capacity DynamoDB reported. The calls themselves go to the
// emulator unchanged.
type countingScans struct {
	DynamoDBAPI
	pages, items atomic.Int64
	mostItems    atomic.Int64 // the largest page's item count
	mu           sync.Mutex
	units        float64 // ConsumedCapacity.CapacityUnits of every page
	maxPage      float64 // the largest page's units
}

func (c *countingScans) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out, err := c.DynamoDBAPI.Scan(ctx, in, o...)
	if err == nil {
		c.pages.Add(1)
		c.items.Add(int64(len(out.Items)))
		for n := int64(len(out.Items)); ; {
			if most := c.mostItems.Load(); n <= most || c.mostItems.CompareAndSwap(most, n) {
				break
			}
		}
		if out.ConsumedCapacity != nil && out.ConsumedCapacity.CapacityUnits != nil {
			c.mu.Lock()
			u := *out.ConsumedCapacity.CapacityUnits
			c.units += u
			c.maxPage = max(c.maxPage, u)
			c.mu.Unlock()
		}
	}
	return out, err
}

// An interrupted backfill resumes each segment from the ExclusiveStartKey it
// saved, not from the segment's start. One segment spans several 1 MB Scan
// pages; the first run is stopped after it checkpointed at least one page; the
// second run must read exactly the items after the checkpoint, and the target
// ends complete.
//
// Catches: ignoring the saved Scan position (in copySegment, `start :=
// mAV(ck["lastKey"])` replaced by `start := Item(nil)`): the second run then
// reads the whole segment again.
func TestBackfillResumesMidSegmentFromSavedKey(t *testing.T) {
	const items, size = 200, 20000 // ~4 MB in 20 KB items: four or more Scan pages in one segment
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, items, size)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := func(scans *countingScans) func(*Config) {
		return func(c *Config) {
			c.HandOff = HandOffReplay
			c.Segments, c.Parallelism = 1, 1
			c.Source.DynamoDB = scans
			c.CheckpointClient = e.dst
			// Slow enough that the stop lands mid-segment: about a page (512 KB)
			// a second, 8 s in all, with a position saved every 2 s.
			c.MaxWriteUnits = 500
		}
	}
	first := &countingScans{DynamoDBAPI: e.src}
	m1 := e.newMigration(t, cfg(first))
	must(t, m1.Start(ctx))
	// The segment is read as several Scan segments of about a page each, so
	// the resume also crosses from one of them to the next.
	if split := m1.scanSplit.Load(); split < 2 {
		t.Fatalf("the ~4 MB segment is read as %d Scan segment(s), want several", split)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m1.Backfill(runCtx) }()
	waitStatus(t, m1, "the first page checkpointed", func(s Status) bool { return s.ItemsCopied > 0 })
	stop()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	st, err := m1.Status(ctx)
	must(t, err)
	checkpointed := st.ItemsCopied
	if checkpointed == 0 || checkpointed >= items || st.SegmentsDone != 0 {
		t.Fatalf("the stop did not land mid-segment: %+v", st)
	}

	second := &countingScans{DynamoDBAPI: e.src}
	m2 := e.newMigration(t, cfg(second))
	must(t, m2.Backfill(ctx))
	reread := second.items.Load() - (items - checkpointed)
	t.Logf("first run read %d items in %d pages and checkpointed %d; second run read %d items in %d pages (%d read again)",
		first.items.Load(), first.pages.Load(), checkpointed, second.items.Load(), second.pages.Load(), reread)
	if first.pages.Load()+second.pages.Load() < 4 {
		t.Fatalf("the segment fit in %d pages; the test needs it to span several", first.pages.Load()+second.pages.Load())
	}
	if reread != 0 {
		t.Fatalf("the resumed run read %d items, want exactly the %d after the checkpoint (%d read again)",
			second.items.Load(), items-checkpointed, reread)
	}
	st, err = m2.Status(ctx)
	must(t, err)
	if st.ItemsCopied != items || st.SegmentsDone != 1 {
		t.Fatalf("status after the resumed backfill: %+v", st)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}

// Small items do not swell the engine's memory: a page holds at most
// scanPageItems items whatever their size (a decoded item takes several times
// its size), and the split reads the source as Scan segments of about
// scanSegmentItems, so that each still fits in one page. 5,000 items of about
// 50 bytes fit in one 1 MB page.
//
// Catches: the split made from the table size alone (in Start,
// scanSplitFor's items argument ignored), or the page Limit dropped.
func TestBackfillPagesHoldBoundedItems(t *testing.T) {
	const items = 5000
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, items, 20)
	scans := &countingScans{DynamoDBAPI: e.src}
	m := e.newMigration(t, func(c *Config) {
		c.HandOff = HandOffReplay
		c.Segments, c.Parallelism = 1, 1
		c.Source.DynamoDB = scans
		c.CheckpointClient = e.dst
	})
	ctx := context.Background()
	must(t, m.Start(ctx))
	if split := m.scanSplit.Load(); split < items/scanSegmentItems {
		t.Errorf("5,000 small items are read as %d Scan segment(s), want at least %d", split, items/scanSegmentItems)
	}
	must(t, m.Backfill(ctx))
	t.Logf("%d items in %d pages, at most %d in one", scans.items.Load(), scans.pages.Load(), scans.mostItems.Load())
	if most := scans.mostItems.Load(); most > scanPageItems {
		t.Errorf("a Scan page held %d items, want at most %d", most, scanPageItems)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}

// MaxReadUnits binds: the backfill's Scans spend the read capacity DynamoDB
// reports (a consistent read costs 1 unit per 4 KB), and the limiter makes them
// take at least as long as that capacity at the configured rate allows, less one
// second of burst and the page in flight.
//
// Catches: an unlimited read limiter (in New, `readLim:
// newRateLimiter(cfg.MaxReadUnits)` replaced by `newRateLimiter(0)`), or Scan's
// consumed capacity not charged (chargeRead dropped in copySegment).
func TestBackfillReadLimitBinds(t *testing.T) {
	const items, size, rate = 100, 20000, 75.0 // ~500 read units at 75/s, written in a few batches
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, items, size)
	scans := &countingScans{DynamoDBAPI: e.src}
	m := e.newMigration(t, func(c *Config) {
		c.HandOff = HandOffReplay
		c.Segments, c.Parallelism = 4, 1
		c.MaxReadUnits = rate
		c.Source.DynamoDB = scans
		c.CheckpointClient = e.dst
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(t, m.Start(ctx))
	start := time.Now()
	must(t, m.Backfill(ctx))
	elapsed := time.Since(start)
	scans.mu.Lock()
	units, maxPage := scans.units, scans.maxPage
	scans.mu.Unlock()
	// The bucket starts with one second of budget; the last page may start on it.
	floor := time.Duration((units - rate - maxPage) / rate * float64(time.Second))
	t.Logf("%d pages, %.0f read units (largest page %.0f) at %.0f/s took %s; the limit allows no less than %s",
		scans.pages.Load(), units, maxPage, rate, elapsed.Round(time.Millisecond), floor.Round(time.Millisecond))
	if units < 4*rate {
		t.Fatalf("the Scans reported %.0f read units; the test needs well over one second of budget (%.0f)", units, rate)
	}
	if elapsed < floor {
		t.Fatalf("%.0f read units at %.0f/s took %s, less than the %s the limit allows", units, rate, elapsed, floor)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}

// waitWrites waits until the writer made n more changes, instead of sleeping for
// the time they should take.
func waitWrites(t *testing.T, w *writer, n int64) {
	t.Helper()
	target := w.ops.Load() + n
	for deadline := time.Now().Add(30 * time.Second); w.ops.Load() < target; time.Sleep(10 * time.Millisecond) {
		if err, _ := w.err.Load().(error); err != nil {
			t.Fatalf("writer: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer made %d of %d changes in 30s", n-(target-w.ops.Load()), n)
		}
	}
}

// countingSaves counts the backfill's position saves: UpdateItems on the
// checkpoint table that add to a segment's "items".
type countingSaves struct {
	DynamoDBAPI
	saves atomic.Int64
}

func (c *countingSaves) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	for _, name := range in.ExpressionAttributeNames {
		if name == "items" {
			c.saves.Add(1)
		}
	}
	return c.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

// A segment saves its position at most every checkpointEvery, not after every
// page: each save is a conditional write to the checkpoint table, which the
// copy's throughput pays for. What it saves is still exact: the item count and
// the done mark after the last page.
//
// Catches: a save after every page, or a last save skipped.
func TestBackfillSavesPositionAtMostEveryInterval(t *testing.T) {
	const items = 4000 // read as 8 Scan segments of 500 small items: 8 pages
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, items, 20)
	scans := &countingScans{DynamoDBAPI: e.src}
	saves := &countingSaves{DynamoDBAPI: e.dst}
	m := e.newMigration(t, func(c *Config) {
		c.HandOff = HandOffReplay
		c.Segments, c.Parallelism = 1, 1
		c.Source.DynamoDB = scans
		c.CheckpointClient = saves
	})
	ctx := context.Background()
	must(t, m.Start(ctx))
	saves.saves.Store(0)
	start := time.Now()
	must(t, m.Backfill(ctx))
	elapsed := time.Since(start)
	pages, n := scans.pages.Load(), saves.saves.Load()
	t.Logf("%d pages in %s, %d position saves", pages, elapsed.Round(time.Millisecond), n)
	if pages < 8 {
		t.Fatalf("the source was read in %d pages; the test needs several", pages)
	}
	// The promise (checkpointEvery), spelled out so that a change to it shows here.
	const every = 2 * time.Second
	if most := int64(elapsed/every) + 1; n > most || n < 1 {
		t.Errorf("%d position saves in %s, want 1 to %d (at most one every %s, and the last)", n, elapsed.Round(time.Millisecond), most, every)
	}
	st, err := m.Status(ctx)
	must(t, err)
	if st.ItemsCopied != items || st.SegmentsDone != 1 {
		t.Fatalf("status after the backfill: %+v", st)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}

// firstScans records when the first Scan of each Scan segment was sent.
type firstScans struct {
	DynamoDBAPI
	mu    sync.Mutex
	first map[int32]time.Time
}

func (c *firstScans) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.mu.Lock()
	if _, ok := c.first[*in.Segment]; !ok {
		c.first[*in.Segment] = time.Now()
	}
	c.mu.Unlock()
	return c.DynamoDBAPI.Scan(ctx, in, o...)
}

// The workers of one process claim their segments side by side, so that a slow
// checkpoint table delays every segment's start by one claim, not by one claim
// for each segment before it. Claimed one after the other, the eight segments
// of the provider's 100,000-item benchmark started over half a second, and
// again when the first eight finished together.
//
// Catches: segments claimed one after the other.
func TestBackfillClaimsSegmentsSideBySide(t *testing.T) {
	const segments, latency = 8, 500 * time.Millisecond
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 800, 20) // one Scan segment per backfill segment
	scans := &firstScans{DynamoDBAPI: e.src, first: map[int32]time.Time{}}
	m := e.newMigration(t, func(c *Config) {
		c.HandOff = HandOffReplay
		c.Segments, c.Parallelism = segments, segments
		c.Source.DynamoDB = scans
	})
	ctx := context.Background()
	must(t, m.Start(ctx))
	// A claim is a conditional UpdateItem on the checkpoint table: each takes
	// half a second from here on.
	addFaults(t, emulator.Fault{Operation: "UpdateItem", Table: e.ckTable, Latency: latency})
	must(t, m.Backfill(ctx))
	if len(scans.first) != segments {
		t.Fatalf("the source was read in %d Scan segments, want %d (one per backfill segment)", len(scans.first), segments)
	}
	var first, last time.Time
	for _, at := range scans.first {
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	// One after the other, the last segment starts at least 7 claims after the first.
	spread := last.Sub(first)
	t.Logf("the %d segments' first reads were sent within %s", segments, spread.Round(time.Millisecond))
	if spread > 3*latency {
		t.Errorf("the segments' first reads were sent over %s, with claims taking %s: the claims did not overlap", spread.Round(time.Millisecond), latency)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}
