package provider_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

func buildRunner(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ddbglobal-sync")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/ddbglobal-sync").CombinedOutput(); err != nil {
		t.Fatalf("building the runner: %v\n%s", err, out)
	}
	return bin
}

// fleetRunner is one ddbglobal-sync process with its metrics endpoint.
type fleetRunner struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	out    lockedBuffer
	done   chan error
	mu     sync.Mutex
	copied float64 // the highest ddbglobal_sync_items_copied_total scraped
	scrape int     // successful scrapes
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startFleetRunner(t *testing.T, bin, name string, f migrationFixture, extra ...string) *fleetRunner {
	t.Helper()
	r := &fleetRunner{name: name, addr: freeAddr(t), done: make(chan error, 1)}
	args := append([]string{"-checkpoint-table", f.checkpoint, "-region", f.dstRegion,
		"-id", fmt.Sprintf("%s/%s/%s/%s", f.srcRegion, f.source, f.dstRegion, f.target),
		"-endpoint", acctest.Endpoint(), "-listen", r.addr}, extra...)
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=runner", "AWS_SECRET_ACCESS_KEY=runner", "AWS_EC2_METADATA_DISABLED=true")
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	go func() {
		for {
			select {
			case err := <-r.done:
				r.done <- err
				return
			case <-time.After(300 * time.Millisecond):
			}
			if v, ok := scrapeMetric(r.addr, "ddbglobal_sync_items_copied_total"); ok {
				r.mu.Lock()
				r.copied = max(r.copied, v)
				r.scrape++
				r.mu.Unlock()
			}
		}
	}()
	return r
}

func (r *fleetRunner) itemsCopied() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.copied
}

func scrapeMetric(addr, name string) (float64, bool) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			return v, err == nil
		}
	}
	return 0, false
}

func pollUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// With sync = "external", Create captures the stream and returns with phase
// backfilling, before any item is copied; a refresh during the runner's backfill
// reports items_copied, percent, throughput and ETA; the apply with cutover =
// true waits for the runner's backfill and verifies every item. Catches: Create
// running the backfill itself (the target would not be empty after it).
func TestAccLiveMigration_externalBackfillByRunners(t *testing.T) {
	acctest.PreCheck(t)
	if acctest.RealAWS() {
		t.Skip("runs the runner against the local emulator")
	}
	f := newMigrationFixture(t, 2000, "pk")
	bin := buildRunner(t)
	var runner *fleetRunner
	// 100 write units per second: the runner's backfill takes about 20 s.
	extra := "  sync = \"external\"\n  backfill { max_write_units_per_second = 100 }"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(extra),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("backfilling")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("items_copied"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("backfill_progress").AtMapKey("percent"), knownvalue.Float64Exact(0)),
				},
				Check: func(*terraform.State) error {
					if n := len(scanAll(t, acctest.DynamoDB(t, f.dstRegion), f.target)); n != 0 {
						return fmt.Errorf("the target holds %d items after Create: the apply backfilled", n)
					}
					runner = startFleetRunner(t, bin, "runner", f, "-lease", "4s")
					pollUntil(t, 60*time.Second, "the runner to copy some items", func() bool { return f.status(t).ItemsCopied > 100 })
					return nil
				},
			},
			{
				// A refresh during the backfill reports its progress.
				RefreshState: true,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(migrationAddress, "phase", "backfilling"),
					checkAttrNumber("items_copied", func(v float64) bool { return v > 0 && v < 2000 }),
					checkAttrNumber("backfill_progress.percent", func(v float64) bool { return v > 0 && v < 100 }),
					checkAttrNumber("backfill_progress.items_per_second", func(v float64) bool { return v > 0 }),
					checkAttrNumber("backfill_progress.eta_seconds", func(v float64) bool { return v >= 0 }),
					checkAttrNumber("backfill_progress.estimated_items", func(v float64) bool { return v == 2000 }),
				),
			},
			{
				Config: f.config(extra + "\n  cutover = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("source_items"), knownvalue.Int64Exact(2000)),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("backfill_progress").AtMapKey("percent"), knownvalue.Float64Exact(100)),
				},
				Check: func(s *terraform.State) error {
					select {
					case err := <-runner.done:
						if err != nil {
							return fmt.Errorf("runner exited with %v\n%s", err, runner.out.String())
						}
					case <-time.After(60 * time.Second):
						return fmt.Errorf("the runner did not stop after cutover")
					}
					return checkTablesEqual(t, f, nil)(s)
				},
			},
		},
	})
}

func checkAttrNumber(name string, ok func(float64) bool) resource.TestCheckFunc {
	return resource.TestCheckResourceAttrWith(migrationAddress, name, func(v string) error {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || !ok(n) {
			return fmt.Errorf("%s = %q", name, v)
		}
		return nil
	})
}

// fleetItems is the fleet test's item count: DDBGLOBAL_FLEET_ITEMS, default
// 10,000 (make test, about two minutes here); make bench runs it with 100,000.
func fleetItems(t *testing.T) int {
	if v := os.Getenv("DDBGLOBAL_FLEET_ITEMS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return 10000
}

// Three runner processes share one migration created with sync = "external"
// while a writer changes the source: the Create returns in seconds, each runner
// copies part of the backfill, one is killed (SIGKILL) mid-backfill and another
// mid-sync, and the cutover verifies an exact copy.
func TestAccLiveMigration_fleetOfRunners(t *testing.T) {
	acctest.PreCheck(t)
	if acctest.RealAWS() {
		t.Skip("runs the runners against the local emulator")
	}
	items := fleetItems(t)
	f := newMigrationFixture(t, items, "pk")
	bin := buildRunner(t)
	var runners []*fleetRunner
	var w *writer
	var createStarted time.Time
	extra := "  sync = \"external\"\n  backfill { segments = 24 }"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { createStarted = time.Now() },
				Config:    f.config(extra),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("backfilling")),
				},
				Check: func(*terraform.State) error {
					// Plan, apply and refresh of the Create, on a shared machine.
					took := time.Since(createStarted)
					t.Logf("the apply that created the migration of %d items took %s", items, took.Round(time.Millisecond))
					if took > 45*time.Second {
						return fmt.Errorf("the Create took %s: it did not hand the backfill to the runners", took)
					}
					w = startWriter(t, f, 40)
					backfillStarted := time.Now()
					for _, name := range []string{"a", "b", "c"} {
						runners = append(runners, startFleetRunner(t, bin, name, f, "-lease", "3s", "-parallelism", "2", "-log-format", "json"))
					}
					a, b := runners[0], runners[1]
					// a dies mid-backfill, once it copied some.
					pollUntil(t, 3*time.Minute, "runner a to copy some items", func() bool { return a.itemsCopied() > 0 })
					if st := f.status(t); st.Phase != migration.PhaseBackfilling {
						return fmt.Errorf("the backfill ended before runner a could be killed in it (%d items copied)", st.ItemsCopied)
					}
					if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
						return err
					}
					t.Logf("killed runner a mid-backfill after it copied %v items", a.itemsCopied())
					pollUntil(t, max(8*time.Minute, time.Duration(items/40)*time.Second), "the backfill to end", func() bool { return f.status(t).Phase == migration.PhaseSyncing })
					backfill := time.Since(backfillStarted)
					t.Logf("the fleet backfilled %d items in %s (%.0f items/s, runner a killed in it)", items, backfill.Round(time.Millisecond), float64(items)/backfill.Seconds())
					// b dies mid-sync, with the writer still writing.
					applied := f.status(t).RecordsApplied
					pollUntil(t, time.Minute, "records to be applied", func() bool { return f.status(t).RecordsApplied > applied+20 })
					if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
						return err
					}
					time.Sleep(3 * time.Second) // c takes b's shards over after their leases expire
					w.halt()
					if w.err != nil {
						return w.err
					}
					for _, r := range runners {
						if r.itemsCopied() <= 0 {
							return fmt.Errorf("runner %s copied no item: the backfill was not shared\n%s", r.name, r.out.String())
						}
						t.Logf("runner %s copied %v items", r.name, r.itemsCopied())
					}
					return nil
				},
			},
			{
				Config: f.config(extra + "\n  cutover = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
				},
				Check: func(s *terraform.State) error {
					c := runners[2]
					select {
					case err := <-c.done:
						if err != nil {
							return fmt.Errorf("runner c exited with %v\n%s", err, c.out.String())
						}
					case <-time.After(60 * time.Second):
						return fmt.Errorf("runner c did not stop after cutover")
					}
					return checkTablesEqual(t, f, nil)(s)
				},
			},
		},
	})
}
