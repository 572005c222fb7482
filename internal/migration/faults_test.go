package migration

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Client-side fault injection at the engine's client interfaces. It needs no
// emulator and exercises exactly the error values the SDK returns.

type faultRates struct {
	throttle    float64 // ProvisionedThroughputExceededException before the call
	unprocessed float64 // share of BatchWriteItem requests returned unwritten
	serverError float64 // HTTP 500 before the call
}

type faultyDDB struct {
	DynamoDBAPI
	r        faultRates
	injected atomic.Int64
}

func server500() error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}},
		Err:      errors.New("injected internal server error"),
	}
}

func (f *faultyDDB) before() error {
	switch x := rand.Float64(); {
	case x < f.r.throttle:
		f.injected.Add(1)
		return &types.ProvisionedThroughputExceededException{Message: aws.String("injected throttle")}
	case x < f.r.throttle+f.r.serverError:
		f.injected.Add(1)
		return server500()
	}
	return nil
}

func (f *faultyDDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if err := f.before(); err != nil {
		return nil, err
	}
	send := map[string][]types.WriteRequest{}
	held := map[string][]types.WriteRequest{}
	for table, reqs := range in.RequestItems {
		for _, r := range reqs {
			if rand.Float64() < f.r.unprocessed {
				held[table] = append(held[table], r)
			} else {
				send[table] = append(send[table], r)
			}
		}
	}
	out := &dynamodb.BatchWriteItemOutput{}
	if len(send) > 0 {
		res, err := f.DynamoDBAPI.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: send, ReturnConsumedCapacity: in.ReturnConsumedCapacity}, o...)
		if err != nil {
			return nil, err
		}
		out = res
	}
	if out.UnprocessedItems == nil {
		out.UnprocessedItems = map[string][]types.WriteRequest{}
	}
	for table, reqs := range held {
		f.injected.Add(int64(len(reqs)))
		out.UnprocessedItems[table] = append(out.UnprocessedItems[table], reqs...)
	}
	return out, nil
}

func (f *faultyDDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := f.before(); err != nil {
		return nil, err
	}
	return f.DynamoDBAPI.PutItem(ctx, in, o...)
}

func (f *faultyDDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if err := f.before(); err != nil {
		return nil, err
	}
	return f.DynamoDBAPI.DeleteItem(ctx, in, o...)
}

func (f *faultyDDB) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if err := f.before(); err != nil {
		return nil, err
	}
	return f.DynamoDBAPI.Scan(ctx, in, o...)
}

func (f *faultyDDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := f.before(); err != nil {
		return nil, err
	}
	return f.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

// faultyStreams throttles, expires iterators, and on demand reports trimmed
// data or hides a shard.
type faultyStreams struct {
	StreamsAPI
	throttle    float64
	expireEvery int64 // every n-th GetRecords reports an expired iterator
	calls       atomic.Int64
	trim        atomic.Bool  // GetRecords/GetShardIterator report TrimmedDataAccessException
	hide        atomic.Value // string shard id to remove from listings and report missing
	expired     atomic.Int64
}

func (f *faultyStreams) hidden() string { s, _ := f.hide.Load().(string); return s }

func (f *faultyStreams) DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, o ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	out, err := f.StreamsAPI.DescribeStream(ctx, in, o...)
	if err != nil || f.hidden() == "" {
		return out, err
	}
	var keep []streamtypes.Shard
	for _, s := range out.StreamDescription.Shards {
		if aws.ToString(s.ShardId) != f.hidden() {
			keep = append(keep, s)
		}
	}
	out.StreamDescription.Shards = keep
	return out, nil
}

func (f *faultyStreams) GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, o ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	if f.trim.Load() {
		return nil, &streamtypes.TrimmedDataAccessException{Message: aws.String("injected trim")}
	}
	if aws.ToString(in.ShardId) == f.hidden() {
		return nil, &streamtypes.ResourceNotFoundException{Message: aws.String("injected: shard gone")}
	}
	return f.StreamsAPI.GetShardIterator(ctx, in, o...)
}

func (f *faultyStreams) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, o ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	if f.trim.Load() {
		return nil, &streamtypes.TrimmedDataAccessException{Message: aws.String("injected trim")}
	}
	if n := f.calls.Add(1); f.expireEvery > 0 && n%f.expireEvery == 0 {
		f.expired.Add(1)
		return nil, &streamtypes.ExpiredIteratorException{Message: aws.String("injected expiry")}
	}
	if rand.Float64() < f.throttle {
		return nil, &streamtypes.LimitExceededException{Message: aws.String("injected throttle")}
	}
	return f.StreamsAPI.GetRecords(ctx, in, o...)
}

// 20% throttling, 30% UnprocessedItems and 1% server errors on every target
// write and source scan, throttled and expiring stream reads, injected at the
// client interfaces; the result must be exact. (The emulator test injects the
// same faults server-side, for both hand-offs.)
func TestFaultsThrottlingUnprocessedServerErrors(t *testing.T) {
	for _, h := range []HandOff{HandOffReplay} {
		t.Run(string(h), func(t *testing.T) {
			e := newEnv(t, "us-east-1", "us-east-1")
			rates := faultRates{throttle: 0.20, unprocessed: 0.30, serverError: 0.01}
			dst := &faultyDDB{DynamoDBAPI: e.dst, r: rates}
			src := &faultyDDB{DynamoDBAPI: e.src, r: rates}
			streams := &faultyStreams{StreamsAPI: e.streams, throttle: 0.2, expireEvery: 5}
			m := liveRun(t, e, func(c *Config) {
				c.HandOff = h
				c.Source.DynamoDB, c.Source.Streams = src, streams
				c.Target.DynamoDB = dst
				c.CheckpointClient = e.dst
			}, "pk")
			if dst.injected.Load() == 0 || streams.expired.Load() == 0 {
				t.Fatalf("faults were not exercised: target %d, source %d, expired iterators %d", dst.injected.Load(), src.injected.Load(), streams.expired.Load())
			}
			t.Logf("injected: target %d, source %d, expired iterators %d, resubmitted unprocessed %d", dst.injected.Load(), src.injected.Load(), streams.expired.Load(), m.unprocessed.Load())
		})
	}
}

// startSynced starts a migration, backfills and catches up with a writer running.
func startSynced(t *testing.T, e *env, mod func(*Config)) (*Migration, *writer) {
	seed(t, e.src, e.srcTable, 0, 500, 100)
	w := startWriter(e.src, e.srcTable, 600, 100, nil)
	m := e.newMigration(t, mod)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	must(t, m.Start(ctx))
	must(t, m.Backfill(ctx))
	must(t, m.CatchUp(ctx))
	return m, w
}

// requireLoss checks that err reports a loss and that the migration is failed
// for every later caller.
func requireLoss(t *testing.T, e *env, err error) {
	t.Helper()
	if !errors.Is(err, ErrRebackfillRequired) {
		t.Fatalf("got %v, want a re-backfill required failure", err)
	}
	var le *LossError
	if !errors.As(err, &le) {
		t.Fatalf("%T is not a *LossError", err)
	}
	again := e.newMigration(t, nil)
	st, serr := again.Status(context.Background())
	must(t, serr)
	if st.Phase != PhaseFailed || st.Error == "" {
		t.Fatalf("status after loss: %+v", st)
	}
	if err := again.Start(context.Background()); !errors.Is(err, ErrRebackfillRequired) {
		t.Fatalf("Start after a loss = %v, want re-backfill required (never a silent resume)", err)
	}
	if err := again.Run(context.Background()); !errors.Is(err, ErrRebackfillRequired) {
		t.Fatalf("Run after a loss = %v, want re-backfill required", err)
	}
	t.Logf("loss reported: %v", err)
}

func runFor(m *Migration, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := m.Run(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

func TestLossTrimmedStreamFailsLoudly(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	streams := &faultyStreams{StreamsAPI: e.streams}
	m, w := startSynced(t, e, func(c *Config) { c.Source.Streams = streams })
	defer w.stop(t)
	streams.trim.Store(true)
	requireLoss(t, e, runFor(m, 30*time.Second))
}

func TestLossVanishedShardFailsLoudly(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	streams := &faultyStreams{StreamsAPI: e.streams}
	m, w := startSynced(t, e, func(c *Config) { c.Source.Streams = streams })
	defer w.stop(t)
	known, err := m.shardCheckpoints(context.Background())
	must(t, err)
	for id, ck := range known {
		if !ck.Finished {
			streams.hide.Store(id)
			break
		}
	}
	if streams.hidden() == "" {
		t.Fatal("no open shard to hide")
	}
	requireLoss(t, e, runFor(m, 30*time.Second))
}

func TestLossChangedStreamARNFailsLoudly(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	m, w := startSynced(t, e, nil)
	w.stop(t)
	ctx := context.Background()
	for _, enabled := range []bool{false, true} {
		spec := &types.StreamSpecification{StreamEnabled: aws.Bool(enabled)}
		if enabled {
			spec.StreamViewType = types.StreamViewTypeNewAndOldImages
		}
		_, err := e.src.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &e.srcTable, StreamSpecification: spec})
		must(t, err)
	}
	requireLoss(t, e, runFor(m, 40*time.Second))
}

// loseSeqSave is a checkpoint client whose next save of a shard position, once
// armed, fails as if another worker had taken the shard's lease.
type loseSeqSave struct {
	DynamoDBAPI
	armed, fired atomic.Bool
}

func (c *loseSeqSave) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if c.armed.Load() {
		for _, name := range in.ExpressionAttributeNames {
			if name == "seq" && c.armed.CompareAndSwap(true, false) {
				c.fired.Store(true)
				// Slow (four of the drain's quiet periods, within the request
				// timeout), so that the drain's checks run while the page is in
				// hand.
				time.Sleep(800 * time.Millisecond)
				return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
			}
		}
	}
	return c.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

// A drain ends only once every shard's tip is applied and checkpointed. The
// drain finds records written after the catch-up in a short page; the save of
// that page's position takes longer than the drain's quiet period and then
// fails with the lease lost. The drain must not count the shard as at its tip
// on the strength of the page alone: it waits until the shard is read again and
// its position saved, so nothing is pending behind the checkpoint when it
// returns (a cutover would refuse it as "still being written").
//
// Catches: the reader marking the shard at its tip when it receives a short
// page, before applying and checkpointing it (readShard).
func TestDrainEndsOnlyOnACheckpointedTip(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 20, 100)
	ck := &loseSeqSave{DynamoDBAPI: e.dst}
	m := e.newMigration(t, func(c *Config) { c.HandOff = HandOffReplay; c.CheckpointClient = ck })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	must(t, m.Start(ctx))
	must(t, m.Backfill(ctx))
	must(t, m.CatchUp(ctx))
	seed(t, e.src, e.srcTable, 100, 5, 100)
	ck.armed.Store(true)
	must(t, m.Drain(ctx, 200*time.Millisecond))
	if !ck.fired.Load() {
		t.Fatal("no shard position was saved during the drain: the fault never fired")
	}
	p, err := m.Pending(ctx)
	must(t, err)
	if p.Records != 0 {
		t.Fatalf("%d records are behind the checkpoint after the drain returned", p.Records)
	}
	requireSame(t, e, Transform{}, "pk", nil)
}
