package migration

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// restoreEnv is a source (with PITR when pitr) and the name of a target that
// does not exist yet.
func restoreEnv(t *testing.T, srcRegion, dstRegion string, pitr bool) *env {
	t.Helper()
	ep := endpoint(t)
	if server != nil {
		server.SetDelays(emulator.Delays{Backup: 300 * time.Millisecond, Restore: 3 * time.Second, PITRLag: 200 * time.Millisecond,
			PITRUnavailable: 50 * time.Millisecond, PITREnabling: 50 * time.Millisecond})
	}
	e := &env{
		ep: ep, srcRegion: srcRegion, dstRegion: dstRegion,
		src: ddbClient(ep, srcRegion), dst: ddbClient(ep, dstRegion), streams: streamsClient(ep, srcRegion),
		srcTable: uniqueName("src"), dstTable: uniqueName("dst"), ckTable: uniqueName("ck"), id: uniqueName("mig"),
	}
	createTable(t, e.src, e.srcTable, "pk", "")
	if pitr {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := PITREnabled(context.Background(), e.src, e.srcTable)
			if err == nil && ok {
				break
			}
			_, err = e.src.UpdateContinuousBackups(context.Background(), &dynamodb.UpdateContinuousBackupsInput{TableName: &e.srcTable,
				PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
			if time.Now().After(deadline) {
				t.Fatalf("enabling PITR: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return e
}

func restoreConfig(tr Transform) func(*Config) {
	return func(c *Config) {
		c.Backfill = BackfillRestore
		c.RestoreMargin = 300 * time.Millisecond
		c.Transform = tr
	}
}

// restoredTarget fails unless the target was created by a restore of the source.
func restoredTarget(t *testing.T, e *env) {
	t.Helper()
	td, err := describeTable(context.Background(), e.dst, e.dstTable)
	if err != nil {
		t.Fatal(err)
	}
	if td.RestoreSummary == nil || !strings.HasSuffix(aws.ToString(td.RestoreSummary.SourceTableArn), ":table/"+e.srcTable) {
		t.Fatalf("target %s was not restored from %s: %+v", e.dstTable, e.srcTable, td.RestoreSummary)
	}
}

var restoreTransform = Transform{
	Rename: map[string]string{"v": "value"},
	Drop:   []string{"payload"},
	Set:    map[string]types.AttributeValue{"schemaVersion": &types.AttributeValueMemberN{Value: "2"}},
}

// A restore migration into another Region while a writer runs, with a
// transform: the source is restored to a point in time after the capture, the
// transform rewrites the restored items in place, the stream is replayed from
// the capture, and the cutover verifies every item; an independent comparison
// finds source and target equal.
// Catches: a replay that starts at the restore time instead of the capture
// (writes between the capture and the restore point would be lost only if the
// restore were earlier — see doc.go), a transform pass that skips items, and a
// restore to a point before the capture (writes in between would be missing).
func TestRestoreMigrationCrossRegionPointInTime(t *testing.T) {
	e := restoreEnv(t, "us-east-1", "eu-west-1", true)
	liveRun(t, e, restoreConfig(restoreTransform), "pk")
	restoredTarget(t, e)
}

// Without PITR the source is restored from an on-demand backup taken after the
// capture.
func TestRestoreMigrationFromBackup(t *testing.T) {
	e := restoreEnv(t, "us-east-1", "us-west-2", false)
	m := liveRun(t, e, restoreConfig(Transform{Drop: []string{"payload"}}), "pk")
	restoredTarget(t, e)
	ck, err := m.st.get(context.Background(), entryRestore)
	must(t, err)
	if sOf(ck["kind"]) != "backup" || sOf(ck["backupArn"]) == "" {
		t.Fatalf("restore entry: %v", ck)
	}
}

// An apply interrupted while the restore runs resumes it: the next worker finds
// the restore it requested (its entry says so), waits for it, and ends exact;
// no second restore, no "target exists" refusal.
// Catches: a resume that treats its own restored target as a foreign table
// (remove the requestedAt check in restoreUnderLease: the second Backfill fails
// with ErrTargetExists).
func TestRestoreMigrationInterruptedDuringRestoreResumes(t *testing.T) {
	e := restoreEnv(t, "us-east-1", "eu-west-1", true)
	seed(t, e.src, e.srcTable, 0, 500, 100)
	w := startWriter(e.src, e.srcTable, 600, 50, nil)
	m := e.newMigration(t, restoreConfig(restoreTransform))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	must(t, m.Start(ctx))
	bctx, stop := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- m.Backfill(bctx) }()
	// Interrupt as soon as the target exists (CREATING, restore in progress).
	for {
		td, err := describeTable(ctx, e.dst, e.dstTable)
		if err == nil {
			if td.TableStatus != types.TableStatusCreating {
				t.Fatalf("the restore ended before the interruption (status %s); lengthen the emulator's restore delay", td.TableStatus)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the restore never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Backfill: %v", err)
	}
	m2 := e.newMigration(t, restoreConfig(restoreTransform))
	must(t, m2.Start(ctx))
	must(t, m2.Backfill(ctx))
	must(t, m2.CatchUp(ctx))
	w.stop(t)
	rep, err := m2.Cutover(ctx, CutoverOptions{Quiet: time.Second})
	if err != nil || rep.Mismatched != 0 || rep.SourceItems != rep.TargetItems {
		requireSame(t, e, restoreTransform, "pk", nil)
		t.Fatalf("Cutover: %v (%+v)", err, rep)
	}
	requireSame(t, e, restoreTransform, "pk", nil)
	restoredTarget(t, e)
}

// What a restore cannot do is refused before anything changes, with the reason.
func TestRestoreMigrationRefusals(t *testing.T) {
	e := restoreEnv(t, "us-east-1", "eu-west-1", false)
	ctx := context.Background()

	// A key rename: a restore keeps the source's key schema.
	m := e.newMigration(t, restoreConfig(Transform{Rename: map[string]string{"pk": "id"}}))
	if err := m.Start(ctx); err == nil || !strings.Contains(err.Error(), "renames key attribute") {
		t.Fatalf("key rename: %v", err)
	}
	// A target in another account (reached through another role).
	if _, err := New(e.config(func(c *Config) {
		restoreConfig(Transform{})(c)
		c.Target.RoleARN = "arn:aws:iam::210987654321:role/target"
	})); err == nil || !strings.Contains(err.Error(), "own account") {
		t.Fatalf("cross-account: %v", err)
	}
	// A transform that is not idempotent (the in-place pass may redo a page).
	if _, err := New(e.config(restoreConfig(Transform{Rename: map[string]string{"a": "b", "b": "c"}}))); err == nil || !strings.Contains(err.Error(), "applied twice") {
		t.Fatalf("non-idempotent transform: %v", err)
	}
	// A target that exists.
	createTable(t, e.dst, e.dstTable, "pk", "")
	m = e.newMigration(t, restoreConfig(Transform{}))
	if err := m.CheckTarget(ctx); !errors.Is(err, ErrTargetExists) {
		t.Fatalf("CheckTarget with an existing target: %v", err)
	}
	if err := m.Start(ctx); !errors.Is(err, ErrTargetExists) {
		t.Fatalf("Start with an existing target: %v", err)
	}
	// Nothing was changed: no stream on the source, no checkpoint table.
	td, err := describeTable(ctx, e.src, e.srcTable)
	must(t, err)
	if td.StreamSpecification != nil && aws.ToBool(td.StreamSpecification.StreamEnabled) {
		t.Fatalf("a refused migration enabled the source stream")
	}
}

// The runner loads a migration from its stored config: the restore method must
// survive storage (else a runner would resume a restore migration as a scan),
// and it is part of the fingerprint. Scan migrations keep their old fingerprint.
func TestRestoreConfigRoundTrip(t *testing.T) {
	c := Config{ID: "m1", Source: Endpoint{Table: "src", Region: "us-east-1"}, Target: Endpoint{Table: "dst", Region: "eu-west-1"},
		Segments: 8, HandOff: HandOffReplay, Backfill: BackfillRestore}
	got := configFromItem("m1", "ck", c.configItem())
	if got.Backfill != BackfillRestore || got.fingerprint() != c.fingerprint() {
		t.Fatalf("restore config after storage: backfill %q, fingerprint %s (want %s)", got.Backfill, got.fingerprint(), c.fingerprint())
	}
	scan := c
	scan.Backfill = BackfillScan
	old := c
	old.Backfill = ""
	if scan.fingerprint() == c.fingerprint() || scan.fingerprint() != old.fingerprint() {
		t.Fatal("the restore method must change the fingerprint, and scan must keep the fingerprint of configs stored without a method")
	}
}

func TestTransformIdempotent(t *testing.T) {
	for _, tc := range []struct {
		tr Transform
		ok bool
	}{
		{Transform{Rename: map[string]string{"a": "b"}, Drop: []string{"x"}, Set: map[string]types.AttributeValue{"v": sAV("1")}}, true},
		{Transform{Rename: map[string]string{"a": "b", "b": "c"}}, false},
		{Transform{Rename: map[string]string{"a": "b"}, Drop: []string{"b"}}, false},
		{Transform{Rename: map[string]string{"a": "b"}, Set: map[string]types.AttributeValue{"a": sAV("1")}}, false},
	} {
		err := tc.tr.idempotent()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.tr, err)
		}
		if tc.ok {
			it := Item{"a": sAV("A"), "x": sAV("X"), "k": sAV("K")}
			once, err1 := tc.tr.Apply(it)
			twice, err2 := tc.tr.Apply(once)
			if err1 != nil || err2 != nil || !ItemsEqual(once, twice) {
				t.Errorf("%+v accepted but not idempotent: %v / %v", tc.tr, once, twice)
			}
		}
	}
}

// A restore migration with a transform whose in-place pass is estimated to outlast
// Config.ReplayWithin is refused before anything changes: the stream is replayed from
// the capture only after the pass, so the pass must end well inside the stream's
// 24 h retention, and a restore cannot switch to conditional writes as a scan
// backfill does (the restored items are all present). Without a transform there is
// no pass to estimate. Catches: a restore that starts whatever the estimate.
func TestRestoreMigrationRefusesAPassLongerThanReplayWithin(t *testing.T) {
	e := restoreEnv(t, "us-east-1", "eu-west-1", false)
	seed(t, e.src, e.srcTable, 0, 50, 2000)
	ctx := context.Background()
	slow := func(tr Transform) func(*Config) {
		return func(c *Config) {
			restoreConfig(tr)(c)
			c.ReplayWithin = time.Millisecond // the estimate (50 items of 2 KB at 4,000 units/s) is 25 ms
		}
	}
	m := e.newMigration(t, slow(restoreTransform))
	if err := m.CheckTarget(ctx); !errors.Is(err, ErrReplayOutlasted) {
		t.Fatalf("CheckTarget: %v, want ErrReplayOutlasted", err)
	}
	if err := m.Start(ctx); !errors.Is(err, ErrReplayOutlasted) || !strings.Contains(err.Error(), "backfill scan") {
		t.Fatalf("Start: %v, want ErrReplayOutlasted naming backfill scan", err)
	}
	td, err := describeTable(ctx, e.src, e.srcTable)
	must(t, err)
	if td.StreamSpecification != nil && aws.ToBool(td.StreamSpecification.StreamEnabled) {
		t.Fatalf("a refused migration enabled the source stream")
	}
	must(t, e.newMigration(t, slow(Transform{})).CheckTarget(ctx))
}

// shiftOnWrite runs shift once, at the first BatchWriteItem into table: the point
// of an in-place pass where the test moves the capture back in time.
type shiftOnWrite struct {
	*dynamodb.Client
	table string
	once  sync.Once
	shift func()
}

func (s *shiftOnWrite) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if _, ok := in.RequestItems[s.table]; ok {
		s.once.Do(s.shift)
	}
	return s.Client.BatchWriteItem(ctx, in, o...)
}

// An in-place pass still running when the capture is older than the stream can be
// relied on (23 h of its 24 h retention) stops at its next page and fails the
// migration ("re-backfill required", recorded for every worker), instead of writing
// on for hours before a replay that could only start after records were trimmed; a
// worker that resumes the migration later finds it failed. The capture is moved back
// by 23 h 30 min at the pass's first write (the shard tree keeps being listed, as a
// running worker lists it every minute).
// Catches: an in-place pass with no deadline (Backfill returns nil and every
// restored item is rewritten).
func TestRestoreMigrationPassPastTheRetentionFails(t *testing.T) {
	e := restoreEnv(t, "us-east-1", "eu-west-1", true)
	seed(t, e.src, e.srcTable, 0, 300, 8000) // about 2.4 MB: three Scan pages of one segment
	var m *Migration
	dst := &shiftOnWrite{Client: e.dst, table: e.dstTable}
	dst.shift = func() {
		back := time.Now().Add(-(23*time.Hour + 30*time.Minute)).UnixMilli()
		_, err := e.dst.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: &e.ckTable, Key: entryKey(e.id, entryState),
			UpdateExpression: aws.String("SET capturedAt = :t"), ExpressionAttributeValues: Item{":t": nAV(back)}})
		must(t, err)
		m.capturedAt.Store(back)
	}
	m = e.newMigration(t, func(c *Config) {
		restoreConfig(Transform{Drop: []string{"payload"}})(c)
		c.Target.DynamoDB = dst
		c.CheckpointClient = e.dst
		c.Segments, c.Parallelism = 1, 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	must(t, m.Start(ctx))
	var loss *LossError
	if err := m.Backfill(ctx); !errors.As(err, &loss) || !strings.Contains(loss.Reason, "after the capture") {
		t.Fatalf("Backfill: %v, want a loss naming the time since the capture", err)
	}
	untouched := 0
	for _, it := range scanAllItems(t, e.dst, e.dstTable, "pk") {
		if _, ok := it["payload"]; ok {
			untouched++
		}
	}
	if untouched == 0 {
		t.Fatal("the in-place pass rewrote every restored item after the deadline")
	}
	resumed := e.newMigration(t, func(c *Config) {
		restoreConfig(Transform{Drop: []string{"payload"}})(c)
		c.Segments, c.Parallelism = 1, 1
	})
	st, err := resumed.Status(ctx)
	must(t, err)
	if st.Phase != PhaseFailed {
		t.Fatalf("phase after the deadline: %s, want failed", st.Phase)
	}
	for what, err := range map[string]error{"Start": resumed.Start(ctx), "Backfill": resumed.Backfill(ctx)} {
		if !errors.Is(err, ErrRebackfillRequired) {
			t.Fatalf("a resumed worker's %s: %v, want re-backfill required", what, err)
		}
	}
}
