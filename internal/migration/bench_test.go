package migration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Benchmarks of the engine against the emulator (not part of `go test`
// default runs; every one runs once):
//
//	go test ./internal/migration -run '^$' -bench . -benchtime 1x -timeout 60m
//
// Each runs the emulator as a separate process, so the memory figures are the
// engine's.
//
// BenchmarkBackfill100k: backfill items/s for both hand-offs, each next to the raw
// BatchWriteItem ceiling (the engine's write concurrency) measured just before it
// on the same tables, their share of it, peak heap and RSS, and full-verification
// items/s.
// BenchmarkBackfill400k: the same backfill at 400,000 items (500-byte items, so
// that source and target fit DynamoDB Local's 1 GB heap) for peak memory.
// BenchmarkSyncLag: lag from source write to target write under 500 writes/s, every
// write sampled.

const benchWriters = 16

// separateEmulator runs the emulator as its own process (cmd/ddbglobal-emulator) for
// one benchmark and points the harness at it, so that this process's heap and RSS are
// the engine's (and the benchmark's clients), not the emulator's front as well.
func separateEmulator(b *testing.B) {
	b.Helper()
	if os.Getenv("MIGRATION_TEST_ENDPOINT") != "" {
		return // already outside this process
	}
	bin := filepath.Join(b.TempDir(), "ddbglobal-emulator")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ddbglobal/terraform-provider-ddbglobal/cmd/ddbglobal-emulator").CombinedOutput(); err != nil {
		b.Fatalf("building the emulator: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "EMULATOR_ADDR="+addr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	ep := "http://" + addr
	c := ddbClient(ep, "us-east-1")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if _, err := c.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the emulator did not answer on %s:\n%s", addr, out.String())
		}
	}
	b.Setenv("MIGRATION_TEST_ENDPOINT", ep)
}

// rawSeed writes n items of size bytes with benchWriters concurrent
// BatchWriteItem calls and returns items/s: the server's write ceiling.
func rawSeed(b *testing.B, c *dynamodb.Client, table string, n, size int) float64 {
	pad := strings.Repeat("x", size)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < benchWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				hi := int(next.Add(25))
				lo := hi - 25
				if lo >= n {
					return
				}
				reqs := make([]types.WriteRequest, 0, 25)
				for i := lo; i < min(hi, n); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: Item{
						"pk": sAV(fmt.Sprintf("k%07d", i)), "n": nAV(int64(i)), "payload": sAV(pad),
					}}})
				}
				for len(reqs) > 0 {
					out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
					if err != nil {
						b.Error(err)
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// memPeak samples heap in use and RSS until stop is called.
type memPeak struct {
	heap, rss atomic.Uint64
	stop      chan struct{}
	done      chan struct{}
}

func watchMemory() *memPeak {
	p := &memPeak{stop: make(chan struct{}), done: make(chan struct{})}
	runtime.GC()
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > p.heap.Load() {
				p.heap.Store(ms.HeapInuse)
			}
			if r := rssBytes(); r > p.rss.Load() {
				p.rss.Store(r)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *memPeak) end() (heapMB, rssMB float64) {
	close(p.stop)
	<-p.done
	return float64(p.heap.Load()) / (1 << 20), float64(p.rss.Load()) / (1 << 20)
}

func rssBytes() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func benchConfig(c *Config) {
	c.Segments = 32
	c.Parallelism = 8
	c.WriteConcurrency = benchWriters
	c.LeaseDuration = 30 * time.Second
	c.ProgressInterval = 10 * time.Second
}

// backfillOnce copies e's source into a fresh target and reports items/s and memory.
func backfillOnce(b *testing.B, e *env, h HandOff, n int) (rate, heapMB, rssMB float64, m *Migration) {
	e.dstTable = uniqueName("dst")
	e.id = uniqueName("mig")
	createTable(b, e.dst, e.dstTable, "pk", "")
	m = e.newMigration(b, func(c *Config) { benchConfig(c); c.HandOff = h })
	ctx := context.Background()
	if err := m.Start(ctx); err != nil {
		b.Fatal(err)
	}
	mem := watchMemory()
	start := time.Now()
	if err := m.Backfill(ctx); err != nil {
		b.Fatal(err)
	}
	rate = float64(n) / time.Since(start).Seconds()
	heapMB, rssMB = mem.end()
	return rate, heapMB, rssMB, m
}

// rawCeiling writes n items of size bytes into a fresh table next to e's tables with
// benchWriters concurrent BatchWriteItem calls, then deletes it: the server's write
// ceiling on the database state the next backfill starts from.
func rawCeiling(b *testing.B, e *env, n, size int) float64 {
	name := uniqueName("raw")
	createTable(b, e.dst, name, "pk", "")
	rate := rawSeed(b, e.dst, name, n, size)
	if _, err := e.dst.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}); err != nil {
		b.Fatal(err)
	}
	return rate
}

func BenchmarkBackfill100k(b *testing.B) {
	const n = 100_000
	separateEmulator(b)
	e := newEnv(b, "us-east-1", "us-east-1")
	rawSeed(b, e.src, e.srcTable, n, 1000)
	// Each mode is measured against a ceiling taken just before it, on the same
	// tables: the database grows between the two modes.
	ceiling := rawCeiling(b, e, n, 1000)
	b.ReportMetric(ceiling, "raw-before-replay-items/s")
	replay, heap, rss, m := backfillOnce(b, e, HandOffReplay, n)
	b.ReportMetric(replay, "replay-items/s")
	b.ReportMetric(100*replay/ceiling, "replay-%-of-raw")
	b.ReportMetric(heap, "replay-peak-heap-MB")
	b.ReportMetric(rss, "replay-peak-rss-MB")
	start := time.Now()
	rep, err := m.Verify(context.Background(), VerifyFull)
	if err != nil || rep.Mismatched != 0 || rep.SourceItems != n {
		b.Fatalf("verify: %v %+v", err, rep)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "verify-full-items/s")
	start = time.Now()
	if rep, err = m.Verify(context.Background(), VerifyCount); err != nil || rep.TargetItems != n {
		b.Fatalf("verify count: %v %+v", err, rep)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "verify-count-items/s")
	ceiling = rawCeiling(b, e, n, 1000)
	b.ReportMetric(ceiling, "raw-before-insert-if-absent-items/s")
	cond, heap, rss, _ := backfillOnce(b, e, HandOffInsertIfAbsent, n)
	b.ReportMetric(cond, "insert-if-absent-items/s")
	b.ReportMetric(100*cond/ceiling, "insert-if-absent-%-of-raw")
	b.ReportMetric(heap, "insert-if-absent-peak-heap-MB")
	b.ReportMetric(rss, "insert-if-absent-peak-rss-MB")
}

func BenchmarkBackfill400k(b *testing.B) {
	const n = 400_000
	separateEmulator(b)
	e := newEnv(b, "us-west-2", "us-west-2")
	rawSeed(b, e.src, e.srcTable, n, 500)
	replay, heap, rss, _ := backfillOnce(b, e, HandOffReplay, n)
	b.ReportMetric(replay, "replay-items/s")
	b.ReportMetric(heap, "replay-peak-heap-MB")
	b.ReportMetric(rss, "replay-peak-rss-MB")
}

func BenchmarkSyncLag(b *testing.B) {
	const rate, seconds = 500, 20
	separateEmulator(b)
	e := newEnv(b, "eu-west-1", "eu-west-1")
	var mu sync.Mutex
	lags := map[string]time.Duration{} // by key: the first application of each write
	replays := 0                       // a write applied again (a page replayed)
	var measuring atomic.Bool
	m := e.newMigration(b, func(c *Config) {
		benchConfig(c)
		c.PollInterval = 50 * time.Millisecond
		c.OnApplied = func(it Item) {
			if !measuring.Load() {
				return
			}
			ts, err := strconv.ParseInt(nOf(it["ts"]), 10, 64)
			if err != nil || ts == 0 {
				return
			}
			lag := time.Since(time.Unix(0, ts))
			mu.Lock()
			defer mu.Unlock()
			if _, seen := lags[sOf(it["pk"])]; seen {
				replays++
				return
			}
			lags[sOf(it["pk"])] = lag
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if err := m.Backfill(ctx); err != nil {
		b.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	measuring.Store(true)
	// Puts only, each of a key of its own: every write carries its own timestamp and
	// reaches the target as its own item (the engine keeps only the newest change
	// of a key in a page, so reused keys would leave older writes unmeasured).
	w := startPutWriter(e.src, e.srcTable, rate)
	time.Sleep(seconds * time.Second) // the measured period, not a wait for a result
	w.stop(b)
	// The writes that landed are the source's items (a put cut off by the stop may
	// or may not have, and may land a moment later): wait until every item of the
	// source was sampled, counting them again while waiting.
	sampled := func() int { mu.Lock(); defer mu.Unlock(); return len(lags) }
	var writes int
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		writes = len(scanAllItems(b, e.src, e.srcTable, "pk"))
		if sampled() == writes {
			break
		}
		select {
		case err := <-errc:
			b.Fatalf("Run stopped with %d of %d writes applied: %v", sampled(), writes, err)
		default:
		}
		if time.Now().After(deadline) {
			st, err := m.Status(context.Background())
			b.Fatalf("%d writes, %d sampled within a minute; the source's stream holds %d records, the target %d items; status %+v %v",
				writes, sampled(), countStreamRecords(b, e), len(scanAllItems(b, e.dst, e.dstTable, "pk")), st, err)
		}
	}
	cancel()
	<-errc
	mu.Lock()
	defer mu.Unlock()
	all := make([]time.Duration, 0, len(lags))
	for _, l := range lags {
		all = append(all, l)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Milliseconds()) }
	b.ReportMetric(float64(writes)/seconds, "writes/s")
	b.ReportMetric(float64(len(all)), "writes-sampled")
	b.ReportMetric(float64(replays), "writes-applied-again")
	b.ReportMetric(pct(0.50), "lag-p50-ms")
	b.ReportMetric(pct(0.99), "lag-p99-ms")
	b.ReportMetric(pct(1), "lag-max-ms")
}

// startPutWriter puts timestamped items at a steady rate from several goroutines
// (one client round trip is slower than 2 ms under load), each write a new key.
func startPutWriter(c *dynamodb.Client, table string, perSecond int) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{cancel: cancel, done: make(chan struct{})}
	tokens := make(chan struct{}, perSecond)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tokens:
				}
				it := Item{"pk": sAV(fmt.Sprintf("w%02d-%07d", g, i)), "ts": nAV(time.Now().UnixNano())}
				if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
					if ctx.Err() == nil {
						w.err.Store(err)
					}
					return
				}
				w.ops.Add(1)
			}
		}()
	}
	go func() {
		defer close(w.done)
		t := time.NewTicker(time.Second / time.Duration(perSecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-t.C:
				select {
				case tokens <- struct{}{}:
				default:
				}
			}
		}
	}()
	return w
}

// countStreamRecords reads the source's whole stream, every shard from its trim
// horizon to its tip.
func countStreamRecords(b *testing.B, e *env) int {
	ctx := context.Background()
	desc, err := e.src.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &e.srcTable})
	if err != nil {
		b.Fatal(err)
	}
	var shards []streamtypes.Shard // every DescribeStream page
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: desc.Table.LatestStreamArn}
	for {
		ds, err := e.streams.DescribeStream(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		shards = append(shards, ds.StreamDescription.Shards...)
		if in.ExclusiveStartShardId = ds.StreamDescription.LastEvaluatedShardId; in.ExclusiveStartShardId == nil {
			break
		}
	}
	n := 0
	for _, sh := range shards {
		it, err := e.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: desc.Table.LatestStreamArn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			b.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := e.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				b.Fatal(err)
			}
			n += len(out.Records)
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return n
}
