package migration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// Each test here reproduces one way in which the engine lost, resurrected or
// kept stale data, or stopped for a loss that did not happen; the name says
// which. Each failed on the engine before the fix (those that name an API the
// fix added failed to build; the behaviour they check was wrong too).

// recordingDDB records when each write reached the target client.
type recordingDDB struct {
	DynamoDBAPI
	mu     sync.Mutex
	writes []time.Time
}

func (r *recordingDDB) note() {
	r.mu.Lock()
	r.writes = append(r.writes, time.Now())
	r.mu.Unlock()
}

func (r *recordingDDB) after(t time.Time) (n int, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.writes {
		if w.After(t) {
			n++
		}
	}
	return n, len(r.writes)
}

func (r *recordingDDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.note()
	return r.DynamoDBAPI.PutItem(ctx, in, o...)
}

func (r *recordingDDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.note()
	return r.DynamoDBAPI.DeleteItem(ctx, in, o...)
}

func (r *recordingDDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	r.note()
	return r.DynamoDBAPI.BatchWriteItem(ctx, in, o...)
}

// stallingDDB stalls checkpoint updates, as a paused process or a partition
// would: while stall is set (or with probability rate), an UpdateItem waits
// until its deadline or stallFor, whichever comes first, before it is sent.
type stallingDDB struct {
	DynamoDBAPI
	stall    atomic.Bool
	rate     float64
	every    int64 // pause the renewals of a lease at every n-th lease renewal
	renewals atomic.Int64
	mu       sync.Mutex
	paused   map[string]time.Time // entry → renewals stall until
	stallFor time.Duration
	stalls   atomic.Int64
	onUpdate func(*dynamodb.UpdateItemInput)
}

// isRenewal tells a lease renewal (it sets only leaseUntil) from other updates.
func isRenewal(in *dynamodb.UpdateItemInput) bool {
	return updateSets(in, "leaseUntil") && !updateSets(in, "seq") && !updateSets(in, "lastKey") && !updateSets(in, "done") &&
		in.ConditionExpression != nil && !strings.Contains(*in.ConditionExpression, "#until")
}

func (s *stallingDDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if s.onUpdate != nil {
		s.onUpdate(in)
	}
	// Every n-th renewal starts a pause of its lease's renewals for stallFor
	// (retries included), longer than the lease's margin: the lease is lost.
	renewalDue := false
	if s.every > 0 && isRenewal(in) {
		entry := sOf(in.Key[attrEntry])
		s.mu.Lock()
		if s.paused == nil {
			s.paused = map[string]time.Time{}
		}
		if s.renewals.Add(1)%s.every == 0 {
			s.paused[entry] = time.Now().Add(s.stallFor)
		}
		renewalDue = time.Now().Before(s.paused[entry])
		s.mu.Unlock()
	}
	if s.stall.Load() || renewalDue || (s.rate > 0 && rand.Float64() < s.rate) {
		s.stalls.Add(1)
		d := s.stallFor
		if d == 0 {
			d = time.Minute
		}
		if err := sleepCtx(ctx, d); err != nil {
			return nil, err
		}
	}
	return s.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

func updateSets(in *dynamodb.UpdateItemInput, attr string) bool {
	for _, v := range in.ExpressionAttributeNames {
		if v == attr {
			return true
		}
	}
	return false
}

// slowBatchDDB answers BatchWriteItem after a delay, ignoring cancellation (a
// request already on its way), and counts what it wrote.
type slowBatchDDB struct {
	DynamoDBAPI
	delay   time.Duration
	written atomic.Int64
}

func (s *slowBatchDDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	time.Sleep(s.delay)
	for _, reqs := range in.RequestItems {
		s.written.Add(int64(len(reqs)))
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

type noStreams struct{ StreamsAPI }

// Defect 1: batchWrite gave up waiting for a write slot when its context
// ended and still returned nil, so its caller checkpointed a page of which
// only part was written.
func TestDefect01PartlyWrittenPageIsAnError(t *testing.T) {
	dst := &slowBatchDDB{delay: 300 * time.Millisecond}
	m, err := New(Config{
		ID: "unit", CheckpointTable: "ck", WriteConcurrency: 1,
		Source: Endpoint{Table: "a", DynamoDB: dst, Streams: noStreams{}},
		Target: Endpoint{Table: "b", DynamoDB: dst},
	})
	must(t, err)
	reqs := make([]types.WriteRequest, 50)
	for i := range reqs {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: Item{"pk": sAV(fmt.Sprint(i))}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = m.batchWrite(ctx, reqs)
	if err == nil {
		t.Fatalf("batchWrite reported a page written with only %d of %d items written", dst.written.Load(), len(reqs))
	}
	t.Logf("%d of %d written, error: %v", dst.written.Load(), len(reqs), err)
}

// Defect 2: a worker whose lease could no longer be renewed kept writing the
// page in hand (and retrying throttled writes) for up to five minutes, after
// another worker could have taken the segment over and written newer values.
// Now every request is checked against the lease and bounded by its margin.
func TestDefect02NoWriteAfterTheLeaseCouldHaveExpired(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 300, 100)
	dst := &recordingDDB{DynamoDBAPI: e.dst}
	ck := &stallingDDB{DynamoDBAPI: e.dst}
	m := e.newMigration(t, func(c *Config) {
		c.Target.DynamoDB, c.CheckpointClient = dst, ck
		c.Segments, c.Parallelism = 1, 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(t, m.Start(ctx))
	// Every target write is throttled: the page can never finish.
	addFaults(t, emulator.Fault{Operation: "PutItem", Table: e.dstTable, ErrorCode: "ProvisionedThroughputExceededException"})
	done := make(chan error, 1)
	go func() { done <- m.Backfill(ctx) }()
	for n := 0; n == 0; _, n = dst.after(time.Time{}) {
		time.Sleep(20 * time.Millisecond)
	}
	stalledAt := time.Now()
	ck.stall.Store(true) // no renewal lands from now on
	lease := m.cfg.LeaseDuration
	time.Sleep(2*lease + lease/2)
	late, total := dst.after(stalledAt.Add(lease))
	server.ClearFaults()
	ck.stall.Store(false)
	cancel()
	<-done
	if late > 0 {
		t.Fatalf("%d of %d target writes were sent more than a lease (%s) after the last renewal", late, total, lease)
	}
	t.Logf("%d target write attempts, none after the lease could have expired", total)
}

// Defect 3: with a NEW_IMAGE (or KEYS_ONLY) stream, a delete carries no version
// in version mode and never landed. Version mode now needs NEW_AND_OLD_IMAGES
// and refuses any other stream before it changes anything.
func TestDefect03VersionModeNeedsOldImages(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	ctx := context.Background()
	_, err := e.src.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &e.srcTable, StreamSpecification: &types.StreamSpecification{
		StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}})
	must(t, err)
	m := e.newMigration(t, func(c *Config) { c.VersionAttribute = "ver" })
	err = m.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "NEW_AND_OLD_IMAGES") {
		t.Fatalf("Start with version_attribute on a NEW_IMAGE stream = %v, want a refusal naming NEW_AND_OLD_IMAGES", err)
	}
	if _, derr := e.dst.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &e.ckTable}); !isNotFound(derr) {
		t.Fatalf("a refused Start created the checkpoint table (%v)", derr)
	}
	t.Logf("refused: %v", err)
}

// Defect 3: a source write that removed the version attribute, or changed its
// type, could never replace the target item, which stayed stale for good. The
// old image says what the target holds if it followed the source, so such a
// write replaces it; a direct target write with a newer version still wins.
func TestDefect03VersionRemovedOrRetypedStillReplicates(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	put := func(c *dynamodb.Client, table string, it Item) {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it})
		must(t, err)
	}
	put(e.src, e.srcTable, Item{"pk": sAV("removed"), "ver": nAV(5), "v": sAV("a")})
	put(e.src, e.srcTable, Item{"pk": sAV("retyped"), "ver": nAV(7), "v": sAV("a")})
	put(e.src, e.srcTable, Item{"pk": sAV("direct"), "ver": nAV(3), "v": sAV("a")})
	put(e.src, e.srcTable, Item{"pk": sAV("deleted"), "ver": nAV(2), "v": sAV("a")})
	m := e.newMigration(t, func(c *Config) { c.VersionAttribute = "ver" })
	must(t, m.Start(ctx))
	must(t, m.Backfill(ctx))
	must(t, m.CatchUp(ctx))
	put(e.dst, e.dstTable, Item{"pk": sAV("direct"), "ver": nAV(1_000_000), "v": sAV("direct")})
	_, err := e.src.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.srcTable, Key: Item{"pk": sAV("removed")},
		UpdateExpression: aws.String("REMOVE ver SET v = :b"), ExpressionAttributeValues: Item{":b": sAV("b")}})
	must(t, err)
	put(e.src, e.srcTable, Item{"pk": sAV("retyped"), "ver": sAV("8"), "v": sAV("b")})
	put(e.src, e.srcTable, Item{"pk": sAV("direct"), "ver": nAV(4), "v": sAV("b")})
	_, err = e.src.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &e.srcTable, Key: Item{"pk": sAV("deleted")}})
	must(t, err)
	must(t, m.CatchUp(ctx))
	dst := scanAllItems(t, e.dst, e.dstTable, "pk")
	src := scanAllItems(t, e.src, e.srcTable, "pk")
	for _, pk := range []string{"removed", "retyped"} {
		if !ItemsEqual(src[pk], dst[pk]) {
			t.Errorf("%s: target %v, source %v: the replicated write was skipped", pk, dst[pk], src[pk])
		}
	}
	if _, ok := dst["deleted"]; ok {
		t.Errorf("deleted: still in the target: %v", dst["deleted"])
	}
	if sOf(dst["direct"]["v"]) != "direct" {
		t.Errorf("direct: the newer direct write was overwritten: %v", dst["direct"])
	}
	if m.skipped.Load() == 0 {
		t.Error("no conditional skip was counted for the direct write")
	}
}

// Defect 4: after a loss the user was told to run terraform apply -replace and
// that the new backfill would overwrite the target; but the backfill only
// inserts, so items made stale or deleted in the lost window stayed. Start now
// refuses a target that holds items, creating nothing.
func TestDefect04NonEmptyTargetIsRefused(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 50, 50)
	seed(t, e.dst, e.dstTable, 40, 20, 10) // stale copies of 10 source items, and 10 the source lacks
	ctx := context.Background()
	m := e.newMigration(t, nil)
	err := m.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "already holds items") || !strings.Contains(err.Error(), "overwrite_target") {
		t.Fatalf("Start into a target holding items = %v, want a refusal that says how to overwrite", err)
	}
	if _, derr := e.dst.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &e.ckTable}); !isNotFound(derr) {
		t.Fatalf("a refused Start created the checkpoint table (%v)", derr)
	}
	t.Logf("refused: %v", err)
}

// Defect 4: with OverwriteTarget the first backfill replaces the target's
// contents: stale items are rewritten and items the source lacks are gone.
func TestDefect04OverwriteTargetEndsExact(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 300, 50)
	seed(t, e.dst, e.dstTable, 250, 100, 10)
	w := startWriter(e.src, e.srcTable, 400, 50, nil)
	m := e.newMigration(t, func(c *Config) { c.OverwriteTarget = true })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	must(t, m.Start(ctx))
	must(t, m.Backfill(ctx))
	w.stop(t)
	if _, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second}); err != nil {
		t.Fatal(err)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}

// Defect 5: a runner outlived `terraform apply -replace` (Forget, then Start
// with a new transform) and kept replicating with the old transform, and its
// lease and shard writes recreated entries of the forgotten migration. Every
// entry now belongs to a generation; the old runner stops, and the new
// migration's target is exact under its own transform.
func TestDefect05ReplacedMigrationStopsItsOldRunner(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 200, 50)
	tr := func(tag string) Transform { return Transform{Set: map[string]types.AttributeValue{"tag": sAV(tag)}} }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	old := e.newMigration(t, func(c *Config) { c.Transform = tr("v1") })
	must(t, old.Start(ctx))
	must(t, old.Backfill(ctx))
	runner := make(chan error, 1)
	go func() { runner <- old.Run(ctx) }()
	w := startWriter(e.src, e.srcTable, 250, 50, nil)
	time.Sleep(time.Second)

	// terraform apply -replace: destroy (Forget), then create with a new transform.
	must(t, e.newMigration(t, func(c *Config) { c.Transform = tr("v1") }).Forget(ctx))
	fresh := e.newMigration(t, func(c *Config) { c.Transform = tr("v2"); c.OverwriteTarget = true })
	must(t, fresh.Start(ctx))
	must(t, fresh.Backfill(ctx))
	select {
	case err := <-runner:
		if !errors.Is(err, ErrMigrationReplaced) {
			t.Fatalf("the old runner stopped with %v, want ErrMigrationReplaced", err)
		}
		t.Logf("old runner stopped: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("the old runner still runs after its migration was replaced")
	}
	w.stop(t)
	if _, err := fresh.Cutover(ctx, CutoverOptions{Quiet: time.Second}); err != nil {
		t.Fatal(err)
	}
	requireSame(t, e, tr("v2"), "pk", nil)
	entries, err := fresh.st.list(ctx, "")
	must(t, err)
	for _, it := range entries {
		if g := sOf(it[attrGen]); g != "" && g != fresh.st.generation() {
			t.Errorf("entry %s of generation %s survived the replacement (current %s)", sOf(it[attrEntry]), g, fresh.st.generation())
		}
	}
}

// Defect 6: a runner restarted after cutover started the stream loop and
// replicated late source writes over what the application now writes to the
// target. Nothing is written once a migration is completed.
func TestDefect06NoWritesAfterCutover(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	m, w := startSynced(t, e, nil)
	w.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second}); err != nil {
		t.Fatal(err)
	}
	_, err := e.src.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.srcTable, Item: Item{"pk": sAV("late")}})
	must(t, err)
	restarted := e.newMigration(t, nil)
	must(t, restarted.Start(ctx))
	start := time.Now()
	must(t, runFor(restarted, 3*time.Second))
	if err := restarted.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, ok := scanAllItems(t, e.dst, e.dstTable, "pk")["late"]; ok {
		t.Fatal("a source write after cutover reached the target")
	}
	t.Logf("Run returned after %s without writing", time.Since(start).Round(time.Millisecond))
}

// trimOnce reports TrimmedDataAccessException for the next GetRecords once
// armed, as DynamoDB Streams does when the trim horizon passes an iterator's
// position.
type trimOnce struct {
	StreamsAPI
	armed atomic.Bool
	fired atomic.Int64
}

func (s *trimOnce) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, o ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	if s.armed.CompareAndSwap(true, false) {
		s.fired.Add(1)
		return nil, &streamtypes.TrimmedDataAccessException{Message: aws.String("injected trim")}
	}
	return s.StreamsAPI.GetRecords(ctx, in, o...)
}

// Defect 7: when nothing of a shard had been applied yet, any trimmed read was
// recorded as permanent loss, so a source that stayed idle from capture to the
// first trim and then took one write failed for good. Records trimmed within a
// day of the capture predate it; the reader starts again from the oldest record.
func TestDefect07IdleShardTrimmedIsNoLoss(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 20, 10)
	streams := &trimOnce{StreamsAPI: e.streams}
	m := e.newMigration(t, func(c *Config) { c.Source.Streams = streams })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	must(t, m.Start(ctx))
	must(t, m.Backfill(ctx))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	time.Sleep(500 * time.Millisecond)
	streams.armed.Store(true)
	for streams.fired.Load() == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	_, err := e.src.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.srcTable, Item: Item{"pk": sAV("after-idle")}})
	must(t, err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("Run ended with %v", err)
		default:
		}
		if _, ok := scanAllItems(t, e.dst, e.dstTable, "pk")["after-idle"]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write after the trim never reached the target")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}

// Defect 8: a shard's "first seen" time was when a worker first listed it, so
// after a day with no worker listing the stream a shard created (and trimmed)
// meanwhile looked young. The state keeps when the tree was last listed; a gap
// longer than the retention is a loss.
func TestDefect08ListingGapLongerThanRetentionIsLoss(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	m, w := startSynced(t, e, nil)
	w.stop(t)
	ctx := context.Background()
	dayAgo := nAV(time.Now().Add(-25 * time.Hour).UnixMilli())
	_, err := e.dst.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.ckTable, Key: entryKey(e.id, entryState),
		UpdateExpression:          aws.String("SET listedAt = :t, capturedAt = :t"),
		ExpressionAttributeValues: Item{":t": dayAgo}})
	must(t, err)
	requireLoss(t, e, runFor(m, 20*time.Second))
}

// Defect 8: a newly listed shard counts as created at the previous listing,
// and a child no later than its parent's finish.
func TestDefect08NewShardAge(t *testing.T) {
	now := time.Now().UnixMilli()
	listed := now - 60_000
	if got := newShardSeenAt(now, listed, shardCheckpoint{}); got != listed {
		t.Errorf("unknown parent: seenAt %d, want the previous listing %d", got, listed)
	}
	parentDone := now - 3_600_000
	if got := newShardSeenAt(now, listed, shardCheckpoint{Finished: true, DoneAt: parentDone}); got != parentDone {
		t.Errorf("finished parent: seenAt %d, want the parent's finish %d", got, parentDone)
	}
	if got := newShardSeenAt(now, 0, shardCheckpoint{Finished: false, DoneAt: parentDone}); got != now {
		t.Errorf("no listing, unfinished parent: seenAt %d, want now", got)
	}
}

// Defect 9: a failed cutover left the phase at cutting_over, which stops every
// runner; now it goes back to syncing.
func TestDefect09FailedCutoverHandsBackToRunners(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	m, w := startSynced(t, e, nil)
	w.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := e.dst.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.dstTable, Item: Item{"pk": sAV("only-in-target")}})
	must(t, err)
	if _, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second}); !errors.Is(err, ErrVerificationFailed) {
		t.Fatalf("Cutover = %v, want ErrVerificationFailed", err)
	}
	st, err := m.Status(ctx)
	must(t, err)
	if st.Phase != PhaseSyncing {
		t.Fatalf("phase after a failed cutover is %s, want syncing (runners resume)", st.Phase)
	}
}

// Defect 9: a source write during the verification (after the drain found the
// stream quiet) was neither applied nor reliably verified, and the cutover
// completed. The cutover now checks the stream once more after verifying.
func TestDefect09WriteDuringVerificationFailsTheCutover(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	var once sync.Once
	ck := &stallingDDB{DynamoDBAPI: e.dst}
	ck.onUpdate = func(in *dynamodb.UpdateItemInput) {
		if updateSets(in, "verification") {
			once.Do(func() {
				_, err := e.src.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &e.srcTable, Item: Item{"pk": sAV("during-verify")}})
				must(t, err)
			})
		}
	}
	m, w := startSynced(t, e, func(c *Config) { c.CheckpointClient = ck })
	w.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second})
	if err == nil {
		t.Fatal("the cutover completed although the source was written during the verification")
	}
	t.Logf("refused: %v", err)
	st, serr := m.Status(ctx)
	must(t, serr)
	if st.Phase != PhaseSyncing {
		t.Fatalf("phase %s after the refused cutover, want syncing", st.Phase)
	}
	if _, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second}); err != nil {
		t.Fatalf("second cutover: %v", err)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}

// Defect 9: an item that the transform pushes over 400 KB, or whose rename
// collides with one of its attributes, stopped the migration with an error that
// named neither the item nor a way out.
func TestDefect09UnwritableItemNamesItsKey(t *testing.T) {
	for name, tc := range map[string]struct {
		tr   Transform
		item Item
		want string
	}{
		"oversized": {
			tr:   Transform{Set: map[string]types.AttributeValue{"blob": sAV(strings.Repeat("x", 250_000))}},
			item: Item{"pk": sAV("big-one"), "payload": sAV(strings.Repeat("y", 200_000))},
			want: "400 KB",
		},
		"collision": {
			tr:   Transform{Rename: map[string]string{"a": "b"}},
			item: Item{"pk": sAV("clash-one"), "a": sAV("1"), "b": sAV("2")},
			want: "collides",
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "us-east-1", "us-east-1")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := e.src.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.srcTable, Item: tc.item})
			must(t, err)
			m := e.newMigration(t, func(c *Config) { c.Transform = tc.tr })
			must(t, m.Start(ctx))
			err = m.Backfill(ctx)
			if err == nil || !strings.Contains(err.Error(), sOf(tc.item["pk"])) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "change the transform") {
				t.Fatalf("Backfill = %v, want an error naming the item, %q and what to change", err, tc.want)
			}
			t.Logf("%v", err)
		})
	}
}

// Defect 10: Create overran its timeout by up to the five-minute page deadline,
// since a page was written to its end after the caller's context ended. Every
// request is now bounded by the time left.
func TestDefect10TimeoutIsHonoured(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 500, 50)
	m := e.newMigration(t, nil)
	must(t, m.Start(context.Background()))
	addFaults(t, emulator.Fault{Operation: "PutItem", Table: e.dstTable, Latency: 1500 * time.Millisecond})
	const timeout = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	err := m.Backfill(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Backfill = %v, want the deadline", err)
	}
	if took > timeout+time.Second {
		t.Fatalf("Backfill with a %s timeout returned after %s", timeout, took.Round(time.Millisecond))
	}
	t.Logf("returned %s after start", took.Round(time.Millisecond))
}

// The fault test: two workers share a migration while target writes are slow
// and throttled and checkpoint updates stall now and then (a paused process),
// so leases expire and change hands during the backfill and the sync, with a
// writer on the source all along. The result must be exact. Run it repeatedly
// with: go test -race -count=5 -run TestFaultLeasesChangeHands ./internal/migration/
func TestFaultLeasesChangeHandsUnderSlowThrottledWrites(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 1500, 100)
	addFaults(t,
		emulator.Fault{Operation: "PutItem", Table: e.dstTable, ErrorCode: "ProvisionedThroughputExceededException", Rate: 0.2, Seed: 1},
		emulator.Fault{Operation: "BatchWriteItem", Table: e.dstTable, ErrorCode: "ProvisionedThroughputExceededException", Rate: 0.2, Seed: 2},
		emulator.Fault{Operation: "DeleteItem", Table: e.dstTable, ErrorCode: "ProvisionedThroughputExceededException", Rate: 0.2, Seed: 3},
		emulator.Fault{Operation: "PutItem", Table: e.dstTable, Latency: 150 * time.Millisecond, Rate: 0.3, Seed: 4},
		emulator.Fault{Operation: "BatchWriteItem", Table: e.dstTable, Latency: 300 * time.Millisecond, Rate: 0.3, Seed: 5},
	)
	w := startWriter(e.src, e.srcTable, 1800, 80, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stalls []*stallingDDB
	worker := func() *Migration {
		ck := &stallingDDB{DynamoDBAPI: e.dst, rate: 0.02, every: 10, stallFor: 1500 * time.Millisecond}
		stalls = append(stalls, ck)
		return e.newMigration(t, func(c *Config) {
			c.CheckpointClient = ck
			c.LeaseDuration, c.RequestTimeout = 2*time.Second, 500*time.Millisecond
			c.Segments, c.Parallelism = 12, 3
		})
	}
	a, b := worker(), worker()
	must(t, a.Start(ctx))
	must(t, b.Start(ctx))
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, m := range []*Migration{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A lease lost mid-backfill makes Backfill return early only on
			// errors; run until the backfill is over, then sync for a while.
			for {
				err := m.Backfill(ctx)
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					errs <- err
					return
				}
				t.Logf("backfill worker restarts after: %v", err)
			}
			if err := runFor(m, 5*time.Second); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ops := w.stop(t)
	server.ClearFaults()
	for _, s := range stalls {
		s.rate, s.every = 0, 0
	}
	if _, err := a.Cutover(ctx, CutoverOptions{Quiet: time.Second}); err != nil {
		requireSame(t, e, Transform{}, "pk", nil)
		t.Fatal(err)
	}
	requireSame(t, e, Transform{}, "pk", nil)
	lost := a.st.leasesLost.Load() + b.st.leasesLost.Load()
	var stalled int64
	for _, s := range stalls {
		stalled += s.stalls.Load()
	}
	t.Logf("writer ops %d, stalled checkpoint updates %d, leases lost %d, copied %d+%d, applied %d+%d, skipped %d+%d",
		ops, stalled, lost, a.copied.Load(), b.copied.Load(), a.applied.Load(), b.applied.Load(), a.skipped.Load(), b.skipped.Load())
	if lost == 0 {
		t.Fatal("no lease changed hands: the test did not exercise the fencing")
	}
	if a.copied.Load() == 0 || b.copied.Load() == 0 {
		t.Fatal("one worker copied nothing: the backfill was not shared")
	}
}

// gatedPutDDB holds the target PutItem calls that hold matches until release
// is closed (a backfill write delayed by a slow network or a paused process).
type gatedPutDDB struct {
	DynamoDBAPI
	hold    func(*dynamodb.PutItemInput) bool
	held    chan struct{} // closed when the first matching write is held
	once    sync.Once
	release chan struct{}
}

func (g *gatedPutDDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if g.hold(in) {
		g.once.Do(func() { close(g.held) })
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.DynamoDBAPI.PutItem(ctx, in, o...)
}

// In version mode with the insert-if-absent hand-off, a backfill write of an
// item scanned before the key was deleted and re-created with a lower version
// (versions restart when an application re-creates an item) replaced the
// re-created item the stream had already written: its condition only compared
// versions. The target kept the deleted value for good. The backfill must
// never replace what the stream wrote.
func TestVersionModeBackfillNeverReplacesAStreamedWrite(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	put := func(it Item) {
		_, err := e.src.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.srcTable, Item: it})
		must(t, err)
	}
	seed(t, e.src, e.srcTable, 0, 50, 10)
	put(Item{"pk": sAV("recreated"), "n": nAV(100), "v": sAV("deleted value")})
	put(Item{"pk": sAV("lowered"), "n": nAV(100), "v": sAV("old value")})
	gate := &gatedPutDDB{
		DynamoDBAPI: e.dst,
		// The backfill's write of either scanned value.
		hold: func(in *dynamodb.PutItemInput) bool {
			v := sOf(in.Item["v"])
			return v == "deleted value" || v == "old value"
		},
		held:    make(chan struct{}),
		release: make(chan struct{}),
	}
	m := e.newMigration(t, func(c *Config) {
		c.VersionAttribute = "n"
		c.HandOff = HandOffInsertIfAbsent
		c.Target.DynamoDB = gate
	})
	must(t, m.Start(ctx))
	runCtx, stopRun := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(runCtx) }()
	select {
	case <-gate.held:
	case <-time.After(time.Minute):
		t.Fatal("the backfill never wrote the scanned items")
	}
	// While the backfill's writes are held: re-create one key with a lower
	// version, and lower the other's version in place.
	_, err := e.src.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &e.srcTable, Key: Item{"pk": sAV("recreated")}})
	must(t, err)
	put(Item{"pk": sAV("recreated"), "n": nAV(1), "v": sAV("new value")})
	put(Item{"pk": sAV("lowered"), "n": nAV(2), "v": sAV("new value")})
	// Wait until the stream wrote both, then let the held backfill writes go.
	deadline := time.Now().Add(time.Minute)
	for {
		dst := scanAllItems(t, e.dst, e.dstTable, "pk")
		if sOf(dst["recreated"]["v"]) == "new value" && sOf(dst["lowered"]["v"]) == "new value" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream did not write the new values while the backfill was held: %v / %v", dst["recreated"], dst["lowered"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(gate.release)
	for deadline := time.Now().Add(time.Minute); !m.backfillDone(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the backfill did not end")
		}
	}
	stopRun()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	must(t, m.Drain(ctx, time.Second))
	requireSame(t, e, Transform{}, "pk", nil)
}
