package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// BenchmarkReplicaCreateApply runs `terraform apply` of one ddbglobal_replica against
// the emulator, with the replica CREATING for 8 s, and reports how long the apply took
// to finish after the emulator reported ACTIVE, next to its baseline measured in the
// same run: how long Terraform takes for a no-op apply of the same configuration (its
// own start-up, refresh and plan, which no wait can save). It also reports how many
// DescribeTable calls per second the wait made: only the calls between the replica's
// UpdateTable and ACTIVE, not the plan's and the create's own checks.
func BenchmarkReplicaCreateApply(b *testing.B) {
	acctest.PreCheck(b)
	emu := acctest.Emulator(b)
	if _, err := exec.LookPath("terraform"); err != nil {
		b.Skip("terraform is not on PATH")
	}
	const creating = 8 * time.Second
	delays := acctest.TestDelays
	delays.ReplicaCreate = creating
	emu.SetDelays(delays)
	defer emu.SetDelays(acctest.TestDelays)

	work := b.TempDir()
	plugins := filepath.Join(work, "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "terraform-provider-ddbglobal"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the provider: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(work, "terraformrc")
	if err := os.WriteFile(cliConfig, fmt.Appendf(nil, "provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/ddbglobal/ddbglobal\" = %q\n  }\n  direct {}\n}\n", plugins), 0o600); err != nil {
		b.Fatal(err)
	}
	counter := newDescribeCounter(b, acctest.Endpoint())

	var afterActive, noop, callsPerSecond []float64
	for i := 0; i < b.N; i++ {
		table := acctest.RandomName("bench-replica")
		acctest.CreateTable(b, acctest.TableSpec{Name: table, HashKey: "pk"})
		dir := filepath.Join(work, table)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		config := "terraform {\n  required_providers {\n    ddbglobal = { source = \"ddbglobal/ddbglobal\" }\n  }\n}\n" +
			acctest.ProviderConfigWithEndpoint(counter.URL) + fmt.Sprintf("resource \"ddbglobal_replica\" \"r\" {\n  table_name = %q\n  region = \"eu-west-1\"\n}\n", table)
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
			b.Fatal(err)
		}

		activeAt := make(chan time.Time, 1)
		ctx, cancel := context.WithCancel(context.Background())
		go watchActive(ctx, acctest.DynamoDB(b, acctest.Region), table, "eu-west-1", activeAt)
		counter.reset()
		start := time.Now()
		apply := exec.Command("terraform", "apply", "-auto-approve", "-input=false", "-no-color")
		apply.Dir = dir
		apply.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1")
		out, err := apply.CombinedOutput()
		finished := time.Now()
		cancel()
		if err != nil {
			b.Fatalf("terraform apply: %v\n%s", err, out)
		}
		active := <-activeAt
		waitStart, ok := counter.first("UpdateTable", start)
		if !ok || !waitStart.Before(active) {
			b.Fatalf("no UpdateTable before the replica turned ACTIVE")
		}
		calls := counter.between("DescribeTable", waitStart, active)
		afterActive = append(afterActive, finished.Sub(active).Seconds())
		callsPerSecond = append(callsPerSecond, float64(calls)/active.Sub(waitStart).Seconds())

		// Baseline: the same configuration again, nothing to change.
		again := exec.Command("terraform", "apply", "-auto-approve", "-input=false", "-no-color")
		again.Dir, again.Env = dir, apply.Env
		noopStart := time.Now()
		if out, err := again.CombinedOutput(); err != nil || !strings.Contains(string(out), "No changes.") {
			b.Fatalf("no-op terraform apply: %v\n%s", err, out)
		}
		noop = append(noop, time.Since(noopStart).Seconds())

		destroy := exec.Command("terraform", "destroy", "-auto-approve", "-input=false", "-no-color")
		destroy.Dir, destroy.Env = dir, apply.Env
		if out, err := destroy.CombinedOutput(); err != nil {
			b.Fatalf("terraform destroy: %v\n%s", err, out)
		}
	}
	b.ReportMetric(mean(afterActive), "s-after-ACTIVE")
	b.ReportMetric(mean(noop), "s-noop-apply-baseline")
	b.ReportMetric(mean(callsPerSecond), "wait-DescribeTable/s")
}

// watchActive polls the emulator directly (not through the counter) every 10 ms and
// sends the moment the replica is first seen ACTIVE.
func watchActive(ctx context.Context, client *dynamodb.Client, table, region string, activeAt chan<- time.Time) {
	for ctx.Err() == nil {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err == nil {
			if r := ddb.FindReplica(out.Table, region); r != nil && r.ReplicaStatus == awstypes.ReplicaStatusActive {
				activeAt <- time.Now()
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	activeAt <- time.Now()
}

// describeCounter is a pass-through proxy that records when each DynamoDB operation
// is called.
type describeCounter struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string][]time.Time
}

func newDescribeCounter(b *testing.B, backend string) *describeCounter {
	target, err := url.Parse(backend)
	if err != nil {
		b.Fatal(err)
	}
	c := &describeCounter{calls: map[string][]time.Time{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, op, ok := strings.Cut(r.Header.Get("X-Amz-Target"), "."); ok {
			c.mu.Lock()
			c.calls[op] = append(c.calls[op], time.Now())
			c.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(c.Close)
	return c
}

func (c *describeCounter) reset() {
	c.mu.Lock()
	c.calls = map[string][]time.Time{}
	c.mu.Unlock()
}

// first is when op was first called at or after from.
func (c *describeCounter) first(op string, from time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.calls[op] {
		if !t.Before(from) {
			return t, true
		}
	}
	return time.Time{}, false
}

func (c *describeCounter) between(op string, from, to time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.calls[op] {
		if !t.Before(from) && !t.After(to) {
			n++
		}
	}
	return n
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
