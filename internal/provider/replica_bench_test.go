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
// to finish after the emulator reported ACTIVE, and how many DescribeTable calls per
// second the provider made while it waited.
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

	var afterActive, callsPerSecond []float64
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
		calls := counter.between(start, active)
		afterActive = append(afterActive, finished.Sub(active).Seconds())
		callsPerSecond = append(callsPerSecond, float64(calls)/active.Sub(start).Seconds())

		destroy := exec.Command("terraform", "destroy", "-auto-approve", "-input=false", "-no-color")
		destroy.Dir, destroy.Env = dir, apply.Env
		if out, err := destroy.CombinedOutput(); err != nil {
			b.Fatalf("terraform destroy: %v\n%s", err, out)
		}
	}
	b.ReportMetric(mean(afterActive), "s-after-ACTIVE")
	b.ReportMetric(mean(callsPerSecond), "DescribeTable/s")
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

// describeCounter is a pass-through proxy that records when DescribeTable is called.
type describeCounter struct {
	*httptest.Server
	mu    sync.Mutex
	calls []time.Time
}

func newDescribeCounter(b *testing.B, backend string) *describeCounter {
	target, err := url.Parse(backend)
	if err != nil {
		b.Fatal(err)
	}
	c := &describeCounter{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeTable") {
			c.mu.Lock()
			c.calls = append(c.calls, time.Now())
			c.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(c.Close)
	return c
}

func (c *describeCounter) reset() {
	c.mu.Lock()
	c.calls = nil
	c.mu.Unlock()
}

func (c *describeCounter) between(from, to time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.calls {
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
