package provider_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

const migrationAddress = "ddbglobal_live_migration.test"

// migrationFixture is a source table with items and an empty target table.
type migrationFixture struct {
	source, target string
	srcRegion      string
	dstRegion      string
	checkpoint     string
	targetKey      string // target hash key name
	sourceKey      string
	items          int
}

func newMigrationFixture(t *testing.T, items int, targetKey string) migrationFixture {
	t.Helper()
	f := migrationFixture{
		source: acctest.RandomName("tf-acc-mig-src"), target: acctest.RandomName("tf-acc-mig-dst"),
		srcRegion: acctest.Region, dstRegion: "eu-west-1", checkpoint: acctest.RandomName("tf-acc-ckpt"),
		sourceKey: "pk", targetKey: targetKey, items: items,
	}
	acctest.CreateTable(t, acctest.TableSpec{Name: f.source, HashKey: "pk"})
	acctest.CreateTable(t, acctest.TableSpec{Name: f.target, Region: f.dstRegion, HashKey: targetKey})
	t.Cleanup(func() {
		_, _ = acctest.DynamoDB(t, f.dstRegion).DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(f.checkpoint)})
	})
	src := acctest.DynamoDB(t, f.srcRegion)
	for i := 0; i < items; i += 25 {
		var reqs []awstypes.WriteRequest
		for j := i; j < min(i+25, items); j++ {
			reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: fixtureItem(j, 0)}})
		}
		writeAll(t, src, f.source, reqs)
	}
	return f
}

func fixtureItem(i, version int) map[string]awstypes.AttributeValue {
	return map[string]awstypes.AttributeValue{
		"pk":      &awstypes.AttributeValueMemberS{Value: fmt.Sprintf("item-%05d", i)},
		"n":       &awstypes.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		"version": &awstypes.AttributeValueMemberN{Value: strconv.Itoa(version)},
		"tags":    &awstypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"blob":    &awstypes.AttributeValueMemberB{Value: []byte{0, byte(i), 255}},
	}
}

func writeAll(t testing.TB, client *dynamodb.Client, table string, reqs []awstypes.WriteRequest) {
	t.Helper()
	for len(reqs) > 0 {
		out, err := client.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]awstypes.WriteRequest{table: reqs}})
		if err != nil {
			t.Fatalf("BatchWriteItem: %v", err)
		}
		reqs = out.UnprocessedItems[table]
	}
}

// status reads the migration's progress from the checkpoint table, as the runner does.
func (f migrationFixture) status(t *testing.T) migration.Status {
	t.Helper()
	ctx := context.Background()
	cfg, err := migration.LoadConfig(ctx, acctest.DynamoDB(t, f.dstRegion), f.checkpoint, fmt.Sprintf("%s/%s/%s/%s", f.srcRegion, f.source, f.dstRegion, f.target))
	if err != nil {
		t.Fatalf("loading the migration: %v", err)
	}
	cfg.Source.DynamoDB, cfg.Source.Streams = acctest.DynamoDB(t, f.srcRegion), acctest.AWS(t).Streams(f.srcRegion)
	cfg.Target.DynamoDB = acctest.DynamoDB(t, f.dstRegion)
	m, err := migration.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("migration status: %v", err)
	}
	return st
}

func (f migrationFixture) config(extra string) string {
	return acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_live_migration" "test" {
  source {
    table_name = %q
    region     = %q
  }
  target {
    table_name = %q
    region     = %q
  }
  checkpoint_table = %q
%s
}
`, f.source, f.srcRegion, f.target, f.dstRegion, f.checkpoint, extra)
}

// writer changes the source at a steady rate (puts, updates, deletes) until stopped.
type writer struct {
	stop chan struct{}
	done sync.WaitGroup
	ops  atomic.Int64 // read while the writer runs
	err  error
}

func startWriter(t *testing.T, f migrationFixture, perSecond int) *writer {
	w := &writer{stop: make(chan struct{})}
	client := acctest.DynamoDB(t, f.srcRegion)
	rng := rand.New(rand.NewSource(1))
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			i := rng.Intn(f.items + 50) // also new keys beyond the fixture
			key := map[string]awstypes.AttributeValue{"pk": &awstypes.AttributeValueMemberS{Value: fmt.Sprintf("item-%05d", i)}}
			var err error
			switch op := rng.Intn(10); {
			case op < 5:
				_, err = client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.source), Item: fixtureItem(i, int(w.ops.Load())+1)})
			case op < 8:
				_, err = client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(f.source), Key: key,
					UpdateExpression:          aws.String("SET version = :v, note = :n"),
					ExpressionAttributeValues: map[string]awstypes.AttributeValue{":v": &awstypes.AttributeValueMemberN{Value: strconv.Itoa(int(w.ops.Load()) + 1)}, ":n": &awstypes.AttributeValueMemberS{Value: ""}}})
			default:
				_, err = client.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(f.source), Key: key})
			}
			if err != nil {
				w.err = err
				return
			}
			w.ops.Add(1)
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *writer) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.done.Wait()
}

func scanAll(t testing.TB, client *dynamodb.Client, table string) map[string]migration.Item {
	t.Helper()
	items := map[string]migration.Item{}
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("Scan %s: %v", table, err)
		}
		for _, it := range out.Items {
			for _, k := range []string{"pk", "id"} {
				if v, ok := it[k].(*awstypes.AttributeValueMemberS); ok {
					items[v.Value] = it
				}
			}
		}
	}
	return items
}

// checkTablesEqual compares source and target item by item (through rename, if any).
func checkTablesEqual(t *testing.T, f migrationFixture, rename map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		src := scanAll(t, acctest.DynamoDB(t, f.srcRegion), f.source)
		dst := scanAll(t, acctest.DynamoDB(t, f.dstRegion), f.target)
		if len(src) != len(dst) {
			return fmt.Errorf("source has %d items, target %d", len(src), len(dst))
		}
		tr := migration.Transform{Rename: rename}
		var diffs []string
		for k, it := range src {
			want, err := tr.Apply(it)
			if err != nil {
				return err
			}
			if !migration.ItemsEqual(want, dst[k]) {
				diffs = append(diffs, k)
			}
		}
		sort.Strings(diffs)
		if len(diffs) > 0 {
			return fmt.Errorf("%d items differ, e.g. %v", len(diffs), diffs[:min(5, len(diffs))])
		}
		return nil
	}
}

// The runbook end to end: capture and backfill while the source is written, a plan that
// shows the unapplied changes, a catch-up, then cutover with a full verification.
func TestAccLiveMigration_lifecycle(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 300, "pk")
	w := startWriter(t, f, 40)
	var opsAtApply int64

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(`  backfill { segments = 4 }`),
				// The writer keeps writing, so there is always more to catch up with.
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("id"), knownvalue.StringExact(fmt.Sprintf("%s/%s/%s/%s", f.srcRegion, f.source, f.dstRegion, f.target))),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("syncing")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("stream_arn"), knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:dynamodb:us-east-1:\d{12}:table/`+f.source+`/stream/`))),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("items_copied"), knownvalue.Int64Func(func(v int64) error {
						if v < 250 {
							return fmt.Errorf("items_copied = %d, want about 300", v)
						}
						return nil
					})),
				},
				Check: func(*terraform.State) error { opsAtApply = w.ops.Load(); return nil },
			},
			{
				// The writer kept writing: the plan shows a catch-up. (Wait for changes
				// made after the apply, not for a fixed time.)
				PreConfig: func() {
					for deadline := time.Now().Add(30 * time.Second); w.ops.Load() <= opsAtApply; time.Sleep(20 * time.Millisecond) {
						if time.Now().After(deadline) || w.err != nil {
							t.Fatalf("the writer made no change after the apply (%d changes, %v)", w.ops.Load(), w.err)
						}
					}
				},
				Config:             f.config(`  backfill { segments = 4 }`),
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(migrationAddress, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(migrationAddress, tfjsonpath.New("pending_records")),
					},
				},
			},
			{
				PreConfig: func() {
					w.halt()
					if w.err != nil {
						t.Fatalf("writer: %v", w.err)
					}
					t.Logf("writer made %d changes", w.ops.Load())
				},
				Config: f.config(`  backfill { segments = 4 }
  cutover  = true`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("pending_records"), knownvalue.Int64Exact(0)),
				},
				Check: checkTablesEqual(t, f, nil),
			},
			{
				Config: f.config(`  backfill { segments = 4 }
  cutover  = true`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:      migrationAddress,
				ImportState:       true,
				ImportStateId:     fmt.Sprintf("%s/%s/%s/%s,%s", f.srcRegion, f.source, f.dstRegion, f.target, f.checkpoint),
				ImportStateVerify: true,
				// Operating choices are not stored with the migration.
				ImportStateVerifyIgnore: []string{"cutover", "sync", "verify", "timeouts", "pending_records", "lag_seconds"},
			},
		},
	})
	// Destroy forgot the migration and left both tables' data alone.
	if got := len(scanAll(t, acctest.DynamoDB(t, f.dstRegion), f.target)); got == 0 {
		t.Errorf("target is empty after destroy")
	}
	if got := len(scanAll(t, acctest.DynamoDB(t, f.srcRegion), f.source)); got == 0 {
		t.Errorf("source is empty after destroy")
	}
	ck := scanAll(t, acctest.DynamoDB(t, f.dstRegion), f.checkpoint)
	out, err := acctest.DynamoDB(t, f.dstRegion).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.checkpoint), Select: awstypes.SelectCount})
	if err != nil || out.Count != 0 {
		t.Errorf("checkpoint entries left after destroy: %d (%v) %v", out.Count, err, len(ck))
	}
}

// A create that stops half way (here: its timeout) resumes from the checkpoints on the
// next apply, and the result is exact; a key-schema change through rename.
func TestAccLiveMigration_interruptedCreateResumes(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	f := newMigrationFixture(t, 2000, "id")
	extra := `  backfill {
    segments                   = 8
    max_write_units_per_second = 100
  }
  transform { rename = { pk = "id" } }`
	// A write limit (2000 items at 100 units/s) and slow target writes make sure the
	// 8 s timeout stops the backfill half way.
	var slow []int
	for _, op := range []string{"PutItem", "BatchWriteItem"} {
		slow = append(slow, emu.AddFault(emulator.Fault{Operation: op, Region: f.dstRegion, Table: f.target, Latency: 400 * time.Millisecond}))
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      f.config(extra + "\n  timeouts = { create = \"8s\" }"),
				ExpectError: acctest.ErrorRegexp("creating DynamoDB live migration", "apply again to continue from here"),
			},
			{
				// The interrupted run left progress behind it, and nothing in the state.
				PreConfig: func() {
					for _, id := range slow {
						emu.RemoveFault(id)
					}
					st := f.status(t)
					if st.Phase != migration.PhaseBackfilling || st.SegmentsDone >= st.Segments {
						t.Fatalf("after the interrupted create: phase %s, %d of %d segments done; want a backfill in progress", st.Phase, st.SegmentsDone, st.Segments)
					}
				},
				Config: f.config(extra + "\n  cutover = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("items_copied"), knownvalue.Int64Exact(int64(f.items))),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
				},
				Check: checkTablesEqual(t, f, map[string]string{"pk": "id"}),
			},
		},
	})
}

// With sync = "external", the ddbglobal-sync runner keeps the target current; plan and
// apply only observe, and the runner stops by itself at cutover.
func TestAccLiveMigration_externalSyncWithRunner(t *testing.T) {
	acctest.PreCheck(t)
	if acctest.RealAWS() {
		t.Skip("runs the runner against the local emulator")
	}
	f := newMigrationFixture(t, 100, "pk")
	runnerBin := filepath.Join(t.TempDir(), "ddbglobal-sync")
	if out, err := exec.Command("go", "build", "-o", runnerBin, "../../cmd/ddbglobal-sync").CombinedOutput(); err != nil {
		t.Fatalf("building the runner: %v\n%s", err, out)
	}
	var runner *exec.Cmd
	runnerDone := make(chan error, 1)
	extra := `  sync = "external"`

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(extra),
				Check: func(*terraform.State) error {
					runner = exec.Command(runnerBin, "-checkpoint-table", f.checkpoint, "-region", f.dstRegion,
						"-id", fmt.Sprintf("%s/%s/%s/%s", f.srcRegion, f.source, f.dstRegion, f.target), "-endpoint", acctest.Endpoint(), "-lease", "5s")
					runner.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=runner", "AWS_SECRET_ACCESS_KEY=runner")
					runner.Stdout, runner.Stderr = os.Stderr, os.Stderr
					if err := runner.Start(); err != nil {
						return err
					}
					go func() { runnerDone <- runner.Wait() }()
					// Changes made now reach the target through the runner alone.
					w := startWriter(t, f, 50)
					time.Sleep(3 * time.Second)
					w.halt()
					return waitFor(30*time.Second, func() error { return checkTablesEqual(t, f, nil)(nil) })
				},
			},
			{
				Config: f.config(extra + "\n  cutover = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
				},
				Check: func(s *terraform.State) error {
					select {
					case err := <-runnerDone:
						if err != nil {
							return fmt.Errorf("runner exited with %v", err)
						}
						return checkTablesEqual(t, f, nil)(s)
					case <-time.After(60 * time.Second):
						_ = runner.Process.Kill()
						return errors.New("the runner did not stop after cutover")
					}
				},
			},
		},
	})
}

// A target that differs from the source fails the cutover with counts and sample keys.
func TestAccLiveMigration_mismatchAtCutover(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 50, "pk")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(""),
				Check: func(*terraform.State) error {
					// Someone writes to the target behind the migration's back.
					_, err := acctest.DynamoDB(t, f.dstRegion).PutItem(context.Background(), &dynamodb.PutItemInput{
						TableName: aws.String(f.target), Item: map[string]awstypes.AttributeValue{"pk": &awstypes.AttributeValueMemberS{Value: "item-00007"}, "version": &awstypes.AttributeValueMemberN{Value: "999"}}})
					return err
				},
			},
			{
				Config:      f.config("  cutover = true"),
				ExpectError: acctest.ErrorRegexp("Verification found differences: 50 source items, 50 target items, 1 mismatched", "item-00007"),
			},
		},
	})
}

func waitFor(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Each side is reached through its own role.
func TestAccLiveMigration_rolePerSide(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	f := newMigrationFixture(t, 40, "pk")
	// Roles of the tables' own account: the cross-account case, with source and target
	// in two other accounts, is TestAccLiveMigration_crossAccountRoles.
	srcRole, dstRole := "arn:aws:iam::123456789012:role/"+f.source, "arn:aws:iam::123456789012:role/"+f.target
	before := len(emu.AssumedRoles())
	config := acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_live_migration" "test" {
  source {
    table_name = %q
    region     = %q
    role_arn   = %q
  }
  target {
    table_name = %q
    region     = %q
    role_arn   = %q
  }
  checkpoint_table = %q
  cutover          = true
}
`, f.source, f.srcRegion, srcRole, f.target, f.dstRegion, dstRole, f.checkpoint)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
				statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("source_items"), knownvalue.Int64Exact(40)),
				statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
			},
			Check: func(s *terraform.State) error {
				assumed := emu.AssumedRoles()[before:]
				for _, role := range []string{srcRole, dstRole} {
					if !slices.Contains(assumed, role) {
						return fmt.Errorf("role %s was not assumed; assumed: %v", role, assumed)
					}
				}
				// The data calls themselves were signed with each side's role, never
				// the other side's. Catches: the engine's clients built with the sides'
				// roles swapped (in engine, `src, dst := r.side(m.Target),
				// r.side(m.Source)`), which the assumed-role list above does not see.
				srcCalls, dstCalls := emu.RoleCalls(f.srcRegion, f.source), emu.RoleCalls(f.dstRegion, f.target)
				if srcCalls[srcRole] == 0 || srcCalls[dstRole] != 0 || dstCalls[dstRole] == 0 || dstCalls[srcRole] != 0 {
					return fmt.Errorf("calls by role: source table %v, target table %v; want each table read or written with its own side's role only", srcCalls, dstCalls)
				}
				t.Logf("calls by role: source table %v, target table %v", srcCalls, dstCalls)
				return checkTablesEqual(t, f, nil)(s)
			},
		}},
	})
}

// A target that already holds items (a restart after a loss, say) is refused at
// plan on overwrite_target, creating nothing; with overwrite_target = true the
// migration deletes the target's leftovers and ends exactly equal to the source.
func TestAccLiveMigration_nonEmptyTargetNeedsOverwrite(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 60, "pk")
	dst := acctest.DynamoDB(t, f.dstRegion)
	var leftovers []awstypes.WriteRequest
	for i := 50; i < 80; i++ { // ten stale copies of source items, twenty the source lacks
		it := fixtureItem(i, 0)
		it["stale"] = &awstypes.AttributeValueMemberBOOL{Value: true}
		leftovers = append(leftovers, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: it}})
	}
	writeAll(t, dst, f.target, leftovers[:25])
	writeAll(t, dst, f.target, leftovers[25:])
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      f.config(`  cutover = true`),
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("already holds items", "Empty the table, or set overwrite_target = true"),
			},
			{
				Config: f.config("  cutover = true\n  overwrite_target = true"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "phase", "completed"),
					resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "verification.mismatched_items", "0"),
					checkTablesEqual(t, f, nil),
				),
			},
		},
	})
}

// Version mode needs a NEW_AND_OLD_IMAGES stream (a delete carries its version only
// in the old image): another view type is refused at plan on version_attribute.
func TestAccLiveMigration_versionAttributeNeedsOldImages(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 1, "pk")
	_, err := acctest.DynamoDB(t, f.srcRegion).UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String(f.source),
		StreamSpecification: &awstypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: awstypes.StreamViewTypeNewImage}})
	if err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      f.config(`  version_attribute = "version"`),
			PlanOnly:    true,
			ExpectError: acctest.ErrorRegexp("version_attribute", "NEW_AND_OLD_IMAGES", "NEW_IMAGE"),
		}},
	})
}

// With the default hand-off (auto) a small table is backfilled by replay, and the
// state says so; changing backfill.segments starts a new migration, so it plans a
// replacement rather than an update that could never apply, and the new one
// starts again (overwrite_target) into the target the first one filled.
func TestAccLiveMigration_handOffAutoAndSegmentsReplace(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 40, "pk")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(""),
				Check: resource.ComposeAggregateTestCheckFunc(
					// No backfill block: every backfill setting at its default (hand_off = "auto").
					resource.TestCheckNoResourceAttr("ddbglobal_live_migration.test", "backfill.hand_off"),
					resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "hand_off_in_use", "replay"),
					resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "items_copied", "40"),
					checkTablesEqual(t, f, nil),
				),
			},
			{
				// The replacement starts again into the target the first one filled.
				Config: f.config("  backfill { segments = 4 }\n  overwrite_target = true"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("ddbglobal_live_migration.test", plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "backfill.segments", "4"),
					resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "items_copied", "40"),
					checkTablesEqual(t, f, nil),
				),
			},
		},
	})
}

// With sync = "external" a refresh reads the lag too, so outputs, check blocks and
// `terraform apply -refresh-only` see records that no runner has applied yet.
func TestAccLiveMigration_externalLagVisibleOnRefresh(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 10, "pk")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(`  sync = "external"`),
				Check:  resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "pending_records", "0"),
			},
			{
				PreConfig: func() {
					var reqs []awstypes.WriteRequest
					for i := 100; i < 105; i++ {
						reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: fixtureItem(i, 1)}})
					}
					writeAll(t, acctest.DynamoDB(t, f.srcRegion), f.source, reqs)
				},
				RefreshState: true,
				Check:        resource.TestCheckResourceAttr("ddbglobal_live_migration.test", "pending_records", "5"),
			},
		},
	})
}
