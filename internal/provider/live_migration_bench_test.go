package provider_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// benchRawWriters is how many BatchWriteItem calls in flight measure the raw
// write ceiling.
const benchRawWriters = 8

// The benchmark migrates from a table in srcRegion to one in dstRegion.
const srcRegion, dstRegion = "us-east-1", "us-west-2"

// BenchmarkLiveMigrationApply runs `terraform apply` of a ddbglobal_live_migration
// with default settings (the provider built and run by Terraform as a user would)
// over a source of DDBGLOBAL_BENCH_ITEMS items (default 100,000) of about
// DDBGLOBAL_BENCH_ITEM_BYTES bytes (default 1,000) holding string, number and binary
// sets, 38-digit numbers and binary. After an untimed warm-up apply it measures
// the raw write ceiling (DDBGLOBAL_BENCH_ITEMS items written by 8 concurrent
// BatchWriteItem writers into a scratch table in the target Region), then runs
// DDBGLOBAL_BENCH_ROUNDS rounds (default 3), each timing an apply to a new target
// and measuring the ceiling again, and reports:
//
//   - raw-items/s: the median ceiling;
//   - apply-items/s: the median of the items over each whole apply's wall time
//     (Terraform's start, refresh, plan, capture, backfill, catch-up);
//   - apply-%-of-raw: the median over the rounds of the apply's rate as a
//     percentage of the mean of the ceilings measured just before and after it;
//   - provider-peak-rss-MB: the provider process's highest peak RSS (VmHWM).
//
// Each apply and ceiling also logs the CPU per item of DynamoDB Local, of the
// emulator's front (this process) and of Terraform with the provider, and the
// machine's idle and stolen time, to show where the time went.
//
// Every apply's target is compared with the source item by item (exact: sets
// unordered, numbers as decimals, binary bytes). For the flat-memory check run it
// again with DDBGLOBAL_BENCH_ITEMS=400000 DDBGLOBAL_BENCH_ITEM_BYTES=500
// DDBGLOBAL_BENCH_ROUNDS=1 (DynamoDB Local's heap holds source and target at that
// size).
func BenchmarkLiveMigrationApply(b *testing.B) {
	acctest.PreCheck(b)
	emu := acctest.Emulator(b)
	if _, err := exec.LookPath("terraform"); err != nil {
		b.Skip("terraform is not on PATH")
	}
	n, size := envInt(b, "DDBGLOBAL_BENCH_ITEMS", 100_000), envInt(b, "DDBGLOBAL_BENCH_ITEM_BYTES", 1000)
	work := b.TempDir()
	plugins := filepath.Join(work, "plugins")
	bin := filepath.Join(plugins, "terraform-provider-ddbglobal")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		b.Fatalf("building the provider: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(work, "terraformrc")
	if err := os.WriteFile(cliConfig, fmt.Appendf(nil, "provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/ddbglobal/ddbglobal\" = %q\n  }\n  direct {}\n}\n", plugins), 0o600); err != nil {
		b.Fatal(err)
	}
	src, dst := acctest.DynamoDB(b, srcRegion), acctest.DynamoDB(b, dstRegion)

	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1")
	rounds := envInt(b, "DDBGLOBAL_BENCH_ROUNDS", 3)

	for i := 0; i < b.N; i++ {
		source := acctest.RandomName("bench-mig-src")
		acctest.CreateTable(b, acctest.TableSpec{Name: source, Region: srcRegion, HashKey: "pk"})
		benchWrite(b, src, source, n, size)

		// DynamoDB Local's JVM compiles its request paths while it serves them,
		// and every new kind of call compiles more: measured with jstat, an
		// apply on a JVM that had only written and scanned spent about 16 s of
		// compiler CPU within its 29 s, on a 2-core machine. DynamoDB has no
		// such warm-up, so the timed phases run on a warm JVM: an untimed apply
		// copies the source first.
		//
		// The machine's speed drifts: from one minute to the next every
		// process's CPU per item can change by a third (measured here, with no
		// stolen time reported). So each timed apply is compared with the mean
		// of the ceilings measured just before and just after it, and the
		// reported ratio is the median of the rounds' ratios.
		warm := benchMigrate(b, work, env, bin, src, source, dst, n)
		b.Logf("untimed warm-up apply: %s; %s", warm.elapsed.Round(time.Millisecond), warm.cpuPerItem(n))
		ceiling := func() float64 {
			scratch := acctest.RandomName("bench-mig-raw")
			acctest.CreateTable(b, acctest.TableSpec{Name: scratch, Region: dstRegion, HashKey: "pk"})
			defer deleteTables(dst, scratch)
			before := usageNow(b, emu.LocalPID())
			start := time.Now()
			benchWrite(b, dst, scratch, n, size)
			raw := float64(n) / time.Since(start).Seconds()
			used := usageNow(b, emu.LocalPID()).since(before)
			b.Logf("raw ceiling %.0f items/s; DynamoDB Local %d µs per item; machine idle %.1f s", raw,
				used.local.Microseconds()/int64(n), used.idle.Seconds())
			return raw
		}
		raws := []float64{ceiling()}
		var rates, ratios, rss []float64
		for r := 0; r < rounds; r++ {
			run := benchMigrate(b, work, env, bin, src, source, dst, n)
			if !strings.Contains(run.out, "hand-off replay") {
				b.Logf("the plan did not choose replay:\n%s", run.out)
			}
			raws = append(raws, ceiling())
			rate, raw := float64(n)/run.elapsed.Seconds(), (raws[r]+raws[r+1])/2
			b.Logf("round %d: apply %s, %.0f items/s, %.1f%% of the ceiling around it (%.0f items/s); provider peak RSS %.1f MB; %s",
				r+1, run.elapsed.Round(time.Millisecond), rate, 100*rate/raw, raw, run.rssMB, run.cpuPerItem(n))
			rates, ratios, rss = append(rates, rate), append(ratios, 100*rate/raw), append(rss, run.rssMB)
		}
		b.Logf("%d items, %d rounds: apply %.1f%% of the raw ceiling (median of the rounds); medians: raw ceiling %.0f items/s, apply %.0f items/s; provider peak RSS %.1f MB (highest)",
			n, rounds, median(ratios), median(raws), median(rates), slices.Max(rss))
		b.ReportMetric(median(raws), "raw-items/s")
		b.ReportMetric(median(rates), "apply-items/s")
		b.ReportMetric(median(ratios), "apply-%-of-raw")
		b.ReportMetric(slices.Max(rss), "provider-peak-rss-MB")
		b.ReportMetric(float64(n), "items")
		deleteTables(src, source)
	}
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

type benchRun struct {
	out     string
	elapsed time.Duration
	rssMB   float64
	used    usage         // during the apply
	tf      time.Duration // Terraform's CPU time with the provider's
}

// cpuPerItem describes the apply's CPU use per item copied.
func (r benchRun) cpuPerItem(n int) string {
	us := func(d time.Duration) int64 { return d.Microseconds() / int64(n) }
	return fmt.Sprintf("CPU per item: DynamoDB Local %d µs, emulator front %d µs, Terraform and provider %d µs; machine idle %.1f s, stolen %.1f s",
		us(r.used.local), us(r.used.front), us(r.tf), r.used.idle.Seconds(), r.used.stolen.Seconds())
}

// usage is CPU time used so far (or between two snapshots): DynamoDB Local's,
// this process's (the emulator's front, and the raw writers while they run),
// and the machine's idle (with I/O wait) and stolen time over all its cores.
type usage struct{ local, front, idle, stolen time.Duration }

func (u usage) since(v usage) usage {
	return usage{u.local - v.local, u.front - v.front, u.idle - v.idle, u.stolen - v.stolen}
}

// usageNow reads the usage from /proc, in clock ticks of 1/100 s: the first line
// of /proc/stat (cpu user nice system idle iowait irq softirq steal ...), and
// fields 14 and 15 (utime, stime) of /proc/<pid>/stat, which follow the command
// name in parentheses.
func usageNow(b *testing.B, localPID int) usage {
	ticks := func(s string) time.Duration {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		return time.Duration(v) * 10 * time.Millisecond
	}
	process := func(pid int) time.Duration {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		return ticks(f[11]) + ticks(f[12])
	}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	return usage{local: process(localPID), front: process(os.Getpid()), idle: ticks(f[4]) + ticks(f[5]), stolen: ticks(f[8])}
}

// benchMigrate applies a ddbglobal_live_migration with default settings from
// source to a new target, as a user would write it, timing the apply and
// watching the provider's peak RSS; checks the target item by item; then
// destroys the migration, deletes the target and its checkpoint table, and
// turns the source's stream off again (a destroyed migration leaves it on), so
// that the next apply enables and captures a stream as on a table that never had
// one.
func benchMigrate(b *testing.B, work string, env []string, bin string, src *dynamodb.Client, source string, dst *dynamodb.Client, n int) benchRun {
	localPID := acctest.Emulator(b).LocalPID()
	target, checkpoint := acctest.RandomName("bench-mig-dst"), acctest.RandomName("bench-mig-ckpt")
	acctest.CreateTable(b, acctest.TableSpec{Name: target, Region: dstRegion, HashKey: "pk"})
	dir := filepath.Join(work, target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	config := "terraform {\n  required_providers {\n    ddbglobal = { source = \"ddbglobal/ddbglobal\" }\n  }\n}\n" + acctest.ProviderConfig() +
		fmt.Sprintf(`
resource "ddbglobal_live_migration" "m" {
  source {
    table_name = %q
    region     = %q
  }
  target {
    table_name = %q
    region     = %q
  }
  checkpoint_table = %q
}
`, source, srcRegion, target, dstRegion, checkpoint)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	apply := exec.Command("terraform", "apply", "-auto-approve", "-input=false", "-no-color")
	apply.Dir, apply.Env = dir, env
	var out bytes.Buffer
	apply.Stdout, apply.Stderr = &out, &out
	peak := watchProcessRSS(bin)
	before := usageNow(b, localPID)
	start := time.Now()
	err := apply.Run()
	run := benchRun{out: out.String(), elapsed: time.Since(start), rssMB: peak.end()}
	if err != nil {
		b.Fatalf("terraform apply: %v\n%s", err, out.String())
	}
	run.used = usageNow(b, localPID).since(before)
	run.tf = apply.ProcessState.UserTime() + apply.ProcessState.SystemTime()
	requireTablesExact(b, src, source, dst, target, n)

	destroy := exec.Command("terraform", "destroy", "-auto-approve", "-input=false", "-no-color")
	destroy.Dir, destroy.Env = dir, env
	if out, err := destroy.CombinedOutput(); err != nil {
		b.Fatalf("terraform destroy: %v\n%s", err, out)
	}
	deleteTables(dst, target, checkpoint)
	ctx := context.Background()
	if _, err := src.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:           aws.String(source),
		StreamSpecification: &awstypes.StreamSpecification{StreamEnabled: aws.Bool(false)},
	}); err != nil {
		b.Fatalf("disabling the stream of %s: %v", source, err)
	}
	if err := dynamodb.NewTableExistsWaiter(src).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(source)}, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	return run
}

func deleteTables(c *dynamodb.Client, names ...string) {
	for _, name := range names {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// benchItem is item i: sets of every type, 38-digit numbers, binary, padded to about size bytes.
func benchItem(i, size int) map[string]awstypes.AttributeValue {
	it := map[string]awstypes.AttributeValue{
		"pk":   &awstypes.AttributeValueMemberS{Value: fmt.Sprintf("item-%08d", i)},
		"big":  &awstypes.AttributeValueMemberN{Value: fmt.Sprintf("1234567890123456789012345678%010d", i)},
		"frac": &awstypes.AttributeValueMemberN{Value: fmt.Sprintf("-0.%037d1", i)},
		"ss":   &awstypes.AttributeValueMemberSS{Value: []string{"red", "green", fmt.Sprint(i)}},
		"ns":   &awstypes.AttributeValueMemberNS{Value: []string{"99999999999999999999999999999999999999", strconv.Itoa(i)}},
		"bs":   &awstypes.AttributeValueMemberBS{Value: [][]byte{{0, 1, 2}, {byte(i), byte(i >> 8), 255}}},
		"bin":  &awstypes.AttributeValueMemberB{Value: []byte{0, 255, byte(i), byte(i >> 8), byte(i >> 16)}},
	}
	pad := make([]byte, max(0, size-200))
	for j := range pad {
		pad[j] = byte(j*7 + i)
	}
	it["pad"] = &awstypes.AttributeValueMemberB{Value: pad}
	return it
}

// benchWrite writes items 0..n-1 with benchRawWriters concurrent BatchWriteItem calls.
func benchWrite(b *testing.B, c *dynamodb.Client, table string, n, size int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < benchRawWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				hi := int(next.Add(25))
				lo := hi - 25
				if lo >= n {
					return
				}
				reqs := make([]awstypes.WriteRequest, 0, 25)
				for i := lo; i < min(hi, n); i++ {
					reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: benchItem(i, size)}})
				}
				for len(reqs) > 0 {
					out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]awstypes.WriteRequest{table: reqs}})
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
	if b.Failed() {
		b.FailNow()
	}
}

// requireTablesExact compares the target with the source, item by item, and with
// what was written.
func requireTablesExact(b *testing.B, src *dynamodb.Client, source string, dst *dynamodb.Client, target string, n int) {
	want := scanByKey(b, src, source)
	got := scanByKey(b, dst, target)
	if len(want) != n || len(got) != n {
		b.Fatalf("source holds %d items, target %d, want %d", len(want), len(got), n)
	}
	bad := 0
	for k, w := range want {
		if !migration.ItemsEqual(w, got[k]) {
			if bad < 3 {
				b.Errorf("item %s: source %v, target %v", k, w, got[k])
			}
			bad++
		}
	}
	if bad > 0 {
		b.Fatalf("%d of %d items differ", bad, n)
	}
}

// scanByKey reads a table with 16 parallel Scan segments (DynamoDB Local pages a
// single-segment Scan of a large table far more slowly), consistently.
func scanByKey(b *testing.B, c *dynamodb.Client, table string) map[string]map[string]awstypes.AttributeValue {
	const segments = 16
	out := map[string]map[string]awstypes.AttributeValue{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, segments)
	for seg := 0; seg < segments; seg++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(segments)})
			for p.HasMorePages() {
				page, err := p.NextPage(context.Background())
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, it := range page.Items {
					out[it["pk"].(*awstypes.AttributeValueMemberS).Value] = it
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("scan %s: %v", table, err)
	}
	return out
}

// processPeak samples the peak RSS (VmHWM) of the processes running bin.
type processPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func watchProcessRSS(bin string) *processPeak {
	p := &processPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				if _, err := strconv.Atoi(e.Name()); err != nil {
					continue
				}
				if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err != nil || exe != bin {
					continue
				}
				status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
				if err != nil {
					continue
				}
				for _, line := range strings.Split(string(status), "\n") {
					if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
						if kb, _ := strconv.ParseUint(f[1], 10, 64); kb<<10 > p.peak.Load() {
							p.peak.Store(kb << 10)
						}
					}
				}
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

func (p *processPeak) end() float64 {
	close(p.stop)
	<-p.done
	return float64(p.peak.Load()) / (1 << 20)
}
