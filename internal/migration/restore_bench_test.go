package migration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// writeCounter is a target client that sums the write capacity DynamoDB reports as
// consumed: it asks for ConsumedCapacity on every write (the engine asks only
// when a write limit is set).
type writeCounter struct {
	*dynamodb.Client
	mu    sync.Mutex
	units float64
}

func (c *writeCounter) add(ccs ...types.ConsumedCapacity) {
	c.mu.Lock()
	c.units += consumedUnits(ccs)
	c.mu.Unlock()
}

func (c *writeCounter) total() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.units
}

func (c *writeCounter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.Client.BatchWriteItem(ctx, in, opts...)
	if err == nil {
		c.add(out.ConsumedCapacity...)
	}
	return out, err
}

func (c *writeCounter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.Client.PutItem(ctx, in, opts...)
	if err == nil && out.ConsumedCapacity != nil {
		c.add(*out.ConsumedCapacity)
	}
	return out, err
}

func (c *writeCounter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.Client.UpdateItem(ctx, in, opts...)
	if err == nil && out.ConsumedCapacity != nil {
		c.add(*out.ConsumedCapacity)
	}
	return out, err
}

func (c *writeCounter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.Client.DeleteItem(ctx, in, opts...)
	if err == nil && out.ConsumedCapacity != nil {
		c.add(*out.ConsumedCapacity)
	}
	return out, err
}

// quickRestores makes the emulator's backups and restores take no more than copying
// the items does (its defaults model AWS's minutes), in this process or through the
// admin API of a separate emulator.
func quickRestores(b *testing.B, ep string) {
	d := emulator.Delays{Backup: time.Millisecond, Restore: time.Millisecond, PITRLag: time.Millisecond}
	if server != nil {
		server.SetDelays(d)
		return
	}
	body, _ := json.Marshal(map[string]string{"Backup": "1ms", "Restore": "1ms", "PITRLag": "1ms"})
	resp, err := http.Post(ep+"/_emulator/delays", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("setting the emulator's delays: %s", resp.Status)
	}
}

// timedBackfill runs Start and Backfill and returns items/s of the backfill and the
// write units the target reported.
func timedBackfill(b *testing.B, e *env, n int, mod func(*Config)) (rate, units float64) {
	wc := &writeCounter{Client: e.dst}
	cfg := e.config(func(c *Config) { benchConfig(c); mod(c) })
	cfg.Target.DynamoDB = wc
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Start(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := m.Backfill(ctx); err != nil {
		b.Fatal(err)
	}
	rate = float64(n) / time.Since(start).Seconds()
	out, err := e.dst.Scan(ctx, &dynamodb.ScanInput{TableName: &e.dstTable, Select: types.SelectCount})
	if err != nil {
		b.Fatal(err)
	}
	got := int(out.Count)
	for out.LastEvaluatedKey != nil {
		out, err = e.dst.Scan(ctx, &dynamodb.ScanInput{TableName: &e.dstTable, Select: types.SelectCount, ExclusiveStartKey: out.LastEvaluatedKey})
		if err != nil {
			b.Fatal(err)
		}
		got += int(out.Count)
	}
	if got != n {
		b.Fatalf("the target holds %d items after the backfill, want %d", got, n)
	}
	return rate, wc.total()
}

// BenchmarkBackfillRestoreVsScan100k copies the same 100k items of about 1 KB three
// ways, in one run: a scan backfill (replay hand-off), a restore (from an on-demand
// backup, into another Region), and a restore with a transform that changes every
// item (the in-place pass). Items/s covers the backfill phase (from after the
// capture to the end of the backfill: for a restore, the minute-long margin after
// the capture, shortened here to 100 ms, the backup, the restore and the pass); the
// write units are what the target reported as consumed (an item is about 1,020
// bytes, 1 unit; the transform's added attribute takes it past 1 KB, 2 units per
// rewrite). The emulator's restore takes as long as copying the items into
// DynamoDB Local (its delays shortened to nothing): AWS's restore time is not
// modelled, so the restore's items/s says what the runner spends, not how long
// AWS takes.
func BenchmarkBackfillRestoreVsScan100k(b *testing.B) {
	n := benchItems(100_000)
	e := newEnv(b, "us-east-1", "eu-west-1")
	quickRestores(b, e.ep)
	rawSeed(b, e.src, e.srcTable, n, 1000)

	rate, units := timedBackfill(b, e, n, func(c *Config) { c.HandOff = HandOffReplay })
	b.ReportMetric(rate, "scan-items/s")
	b.ReportMetric(units, "scan-write-units")
	if units < float64(n) {
		b.Fatalf("the scan backfill reported %.0f write units for %d items: the target does not report consumed capacity", units, n)
	}

	restore := func(tr Transform) func(*Config) {
		return func(c *Config) { c.Backfill, c.RestoreMargin, c.Transform = BackfillRestore, 100*time.Millisecond, tr }
	}
	drop(e)
	e.dstTable, e.id = uniqueName("dst"), uniqueName("mig")
	rate, units = timedBackfill(b, e, n, restore(Transform{}))
	b.ReportMetric(rate, "restore-items/s")
	b.ReportMetric(units, "restore-write-units")

	drop(e)
	e.dstTable, e.id = uniqueName("dst"), uniqueName("mig")
	rate, units = timedBackfill(b, e, n, restore(Transform{Set: map[string]types.AttributeValue{"schemaVersion": &types.AttributeValueMemberN{Value: "2"}}}))
	b.ReportMetric(rate, "restore-transform-items/s")
	b.ReportMetric(units, "restore-transform-write-units")
	drop(e)
}

// benchItems is n, or BENCH_ITEMS when set (a quicker run while developing).
func benchItems(n int) int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_ITEMS")); err == nil && v > 0 {
		return v
	}
	return n
}

// drop deletes e's target, to keep DynamoDB Local's heap for the next copy.
func drop(e *env) {
	_, _ = e.dst.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(e.dstTable)})
}
