package migration

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Benchmarks of the engine against the emulator (not part of `go test`
// default runs; every one runs once):
//
//	go test ./internal/migration -run '^$' -bench . -benchtime 1x -timeout 60m
//
// BenchmarkBackfill100k: raw BatchWriteItem ceiling (seeding the source with
// the engine's write concurrency), then backfill items/s for both hand-offs,
// their share of the ceiling, peak heap and RSS, and full-verification items/s.
// BenchmarkBackfill400k: the same backfill at 400,000 items (500-byte items, so
// that source and target fit DynamoDB Local's 1 GB heap) for peak memory.
// BenchmarkSyncLag: lag from source write to target write under 500 writes/s.

const benchWriters = 16

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

func BenchmarkBackfill100k(b *testing.B) {
	const n = 100_000
	e := newEnv(b, "us-east-1", "us-east-1")
	ceiling := rawSeed(b, e.src, e.srcTable, n, 1000)
	b.ReportMetric(ceiling, "raw-batchwrite-items/s")
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
	cond, heap, rss, _ := backfillOnce(b, e, HandOffInsertIfAbsent, n)
	b.ReportMetric(cond, "insert-if-absent-items/s")
	b.ReportMetric(100*cond/ceiling, "insert-if-absent-%-of-raw")
	b.ReportMetric(heap, "insert-if-absent-peak-heap-MB")
	b.ReportMetric(rss, "insert-if-absent-peak-rss-MB")
}

func BenchmarkBackfill400k(b *testing.B) {
	const n = 400_000
	e := newEnv(b, "us-west-2", "us-west-2")
	ceiling := rawSeed(b, e.src, e.srcTable, n, 500)
	b.ReportMetric(ceiling, "raw-batchwrite-items/s")
	replay, heap, rss, _ := backfillOnce(b, e, HandOffReplay, n)
	b.ReportMetric(replay, "replay-items/s")
	b.ReportMetric(heap, "replay-peak-heap-MB")
	b.ReportMetric(rss, "replay-peak-rss-MB")
}

func BenchmarkSyncLag(b *testing.B) {
	const rate, seconds = 500, 20
	e := newEnv(b, "eu-west-1", "eu-west-1")
	var mu sync.Mutex
	var lags []time.Duration
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
			mu.Lock()
			lags = append(lags, time.Since(time.Unix(0, ts)))
			mu.Unlock()
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
	// Puts only: every write carries its own timestamp.
	w := startPutWriter(e.src, e.srcTable, 5000, rate)
	time.Sleep(seconds * time.Second)
	ops := w.stop(b)
	time.Sleep(3 * time.Second)
	cancel()
	<-errc
	mu.Lock()
	defer mu.Unlock()
	if len(lags) == 0 {
		b.Fatal("no lag samples")
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	pct := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))].Milliseconds()) }
	b.ReportMetric(float64(ops)/seconds, "writes/s")
	b.ReportMetric(pct(0.50), "lag-p50-ms")
	b.ReportMetric(pct(0.99), "lag-p99-ms")
	b.ReportMetric(pct(1), "lag-max-ms")
}

// startPutWriter puts timestamped items at a steady rate from several
// goroutines (one client round trip is slower than 2 ms under load).
func startPutWriter(c *dynamodb.Client, table string, keys, perSecond int) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{cancel: cancel, done: make(chan struct{})}
	tokens := make(chan struct{}, perSecond)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tokens:
				}
				it := Item{"pk": sAV(fmt.Sprintf("k%07d", (i*7919)%keys)), "ts": nAV(time.Now().UnixNano())}
				if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil && ctx.Err() == nil {
					w.err.Store(err)
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
