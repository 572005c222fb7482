package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// restoreFixture is a source table with items (and PITR when asked) and the name of
// a target that does not exist yet: a restore creates it.
func restoreFixture(t *testing.T, items int, pitr bool) migrationFixture {
	t.Helper()
	f := migrationFixture{
		source: acctest.RandomName("tf-acc-rst-src"), target: acctest.RandomName("tf-acc-rst-dst"),
		srcRegion: acctest.Region, dstRegion: "eu-west-1", checkpoint: acctest.RandomName("tf-acc-ckpt"),
		sourceKey: "pk", targetKey: "pk", items: items,
	}
	acctest.CreateTable(t, acctest.TableSpec{Name: f.source, HashKey: "pk"})
	t.Cleanup(func() {
		for _, name := range []string{f.checkpoint, f.target} {
			_, _ = acctest.DynamoDB(t, f.dstRegion).DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		}
	})
	src := acctest.DynamoDB(t, f.srcRegion)
	if pitr {
		// PITR is briefly unavailable after a table is created, and takes a while to enable.
		if err := waitFor(30*time.Second, func() error {
			out, err := src.DescribeContinuousBackups(context.Background(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(f.source)})
			if err == nil && out.ContinuousBackupsDescription.PointInTimeRecoveryDescription != nil &&
				out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == awstypes.PointInTimeRecoveryStatusEnabled {
				return nil
			}
			_, err = src.UpdateContinuousBackups(context.Background(), &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(f.source),
				PointInTimeRecoverySpecification: &awstypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
			return fmt.Errorf("PITR not enabled yet (%v)", err)
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < items; i += 25 {
		var reqs []awstypes.WriteRequest
		for j := i; j < min(i+25, items); j++ {
			reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: fixtureItem(j, 0)}})
		}
		writeAll(t, src, f.source, reqs)
	}
	return f
}

// restoreTransform renames, drops and sets non-key attributes (idempotent, as an
// in-place pass needs).
const restoreTransformHCL = `  transform {
    rename = { n = "number" }
    drop   = ["blob"]
    set    = { schemaVersion = jsonencode({ N = "2" }) }
  }`

var restoreTransform = migration.Transform{
	Rename: map[string]string{"n": "number"},
	Drop:   []string{"blob"},
	Set:    map[string]awstypes.AttributeValue{"schemaVersion": &awstypes.AttributeValueMemberN{Value: "2"}},
}

// checkRestoredEqual compares source and target item by item through the transform,
// and checks that the target is a restore of the source.
func checkRestoredEqual(t *testing.T, f migrationFixture, tr migration.Transform) resource.TestCheckFunc {
	return func(*terraform.State) error {
		out, err := acctest.DynamoDB(t, f.dstRegion).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(f.target)})
		if err != nil {
			return err
		}
		if rs := out.Table.RestoreSummary; rs == nil || !strings.HasSuffix(aws.ToString(rs.SourceTableArn), ":table/"+f.source) {
			return fmt.Errorf("target %s is not a restore of %s: %+v", f.target, f.source, out.Table.RestoreSummary)
		}
		src := scanAll(t, acctest.DynamoDB(t, f.srcRegion), f.source)
		dst := scanAll(t, acctest.DynamoDB(t, f.dstRegion), f.target)
		if len(src) != len(dst) {
			return fmt.Errorf("source has %d items, target %d", len(src), len(dst))
		}
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

// The runbook by restore: while an application writes, the source (with PITR) is
// restored into a new table in another Region to a point after the stream capture,
// the transform rewrites the restored items in place, the stream is replayed, and
// the cutover verifies every item; an independent comparison finds the target
// exactly the transformed source.
// Catches: a provider that ignores backfill.method (the target does not exist: a
// scan migration is refused at plan), and a transform not applied to the restored
// items (skip the in-place pass in the engine's backfillLoop: the cutover finds the
// items the writer did not touch different), and writes made during the restore
// that never reach the target (the comparison fails).
func TestAccLiveMigration_restoreCrossRegionWithWriter(t *testing.T) {
	acctest.PreCheck(t)
	f := restoreFixture(t, 300, true)
	extra := `  backfill { method = "restore" }
` + restoreTransformHCL
	var w *writer
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { w = startWriter(t, f, 40) },
				Config:    f.config(extra),
				// The writer keeps writing: the next plan catches up.
				ExpectNonEmptyPlan: true,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("backfill").AtMapKey("method"), knownvalue.StringExact("restore")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("hand_off_in_use"), knownvalue.StringExact("replay")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("syncing")),
				},
				Check: func(*terraform.State) error {
					if w.ops.Load() == 0 {
						return errors.New("the writer wrote nothing during the restore migration")
					}
					return w.err
				},
			},
			{
				PreConfig: func() {
					w.halt()
					if w.err != nil {
						t.Fatalf("writer: %v", w.err)
					}
				},
				Config: f.config(extra + "\n  cutover = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
				},
				Check: checkRestoredEqual(t, f, restoreTransform),
			},
		},
	})
}

// An apply interrupted while DynamoDB restores the target (here from an on-demand
// backup: the source has no PITR) leaves the restore running; the next apply finds
// the target it restored, waits for it, and ends exact, with no second restore and
// no "already exists" refusal.
// Catches: a plan or create that treats the migration's own restored target as a
// foreign existing table (make checkRestoreTables refuse any existing target: the
// second step fails with "already exists").
func TestAccLiveMigration_restoreInterruptedResumes(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	f := restoreFixture(t, 500, false)
	slow := acctest.TestDelays
	slow.Restore = 20 * time.Second
	emu.SetDelays(slow)
	t.Cleanup(func() { emu.SetDelays(acctest.TestDelays) })
	extra := `  backfill { method = "restore" }
` + restoreTransformHCL
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      f.config(extra + "\n  timeouts = { create = \"8s\" }"),
				ExpectError: acctest.ErrorRegexp("creating DynamoDB live migration", "apply again to continue from here"),
			},
			{
				PreConfig: func() {
					emu.SetDelays(acctest.TestDelays)
					if st := f.status(t); st.Phase != migration.PhaseBackfilling {
						t.Fatalf("after the interrupted create: phase %s, want backfilling", st.Phase)
					}
					out, err := acctest.DynamoDB(t, f.dstRegion).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(f.target)})
					if err != nil {
						t.Fatalf("the interrupted create did not start the restore: %v", err)
					}
					if rs := out.Table.RestoreSummary; out.Table.TableStatus != awstypes.TableStatusCreating || rs == nil || !aws.ToBool(rs.RestoreInProgress) {
						t.Fatalf("the restore ended before the interruption (status %s); lengthen the emulator's restore delay", out.Table.TableStatus)
					}
					// Changes made after the capture reach the target by the replay.
					w := startWriter(t, f, 40)
					time.Sleep(time.Second)
					w.halt()
				},
				Config: f.config(extra + "\n  cutover = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
				},
				Check: func(s *terraform.State) error {
					if err := checkRestoredEqual(t, f, restoreTransform)(s); err != nil {
						return err
					}
					// One restore: a single on-demand backup of the source was taken.
					out, err := acctest.DynamoDB(t, f.srcRegion).ListBackups(context.Background(), &dynamodb.ListBackupsInput{TableName: aws.String(f.source)})
					if err != nil {
						return err
					}
					if len(out.BackupSummaries) != 1 {
						return fmt.Errorf("%d backups of the source, want 1", len(out.BackupSummaries))
					}
					return nil
				},
			},
		},
	})
}

// A target table made in the same apply (absent at plan, so the plan passes) is
// refused once it exists, before the source stream is captured or the checkpoint
// table created.
func TestAccLiveMigration_restoreTargetAppearsBeforeApply(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t) // the stand-in's tool talks to the local endpoint
	f := restoreFixture(t, 1, false)
	config := acctest.ProviderConfig() + acctest.TerraformDataTable(t, "target", f.target, f.dstRegion, "pk") + fmt.Sprintf(`
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
  backfill { method = "restore" }
  depends_on = [terraform_data.target]
}
`, f.source, f.srcRegion, f.target, f.dstRegion, f.checkpoint)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: acctest.ErrorRegexp("DynamoDB live migration", "backfill by restore: table "+f.target+" already exists in "+f.dstRegion),
		}},
		CheckDestroy: func(*terraform.State) error {
			ctx := context.Background()
			_, err := acctest.DynamoDB(t, f.dstRegion).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(f.checkpoint)})
			var nf *awstypes.ResourceNotFoundException
			if !errors.As(err, &nf) {
				return fmt.Errorf("the refused create made the checkpoint table (DescribeTable: %v)", err)
			}
			out, err := acctest.DynamoDB(t, f.srcRegion).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(f.source)})
			if err != nil {
				return err
			}
			if s := out.Table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
				return errors.New("the refused create enabled the source stream")
			}
			return nil
		},
	})
}

// An apply interrupted during the restore, then switched to sync = "external", is
// resumed by the ddbglobal-sync runner alone: it loads the restore migration from the checkpoint
// table, waits for the restore the apply requested, applies the transform in place,
// replays the stream and keeps the target in sync; the cutover apply then verifies.
// Catches: a runner that loads a restore migration as a scan (drop the backfill
// method from configFromItem: the runner does not resume it, and the phase stays
// backfilling).
func TestAccLiveMigration_restoreResumedByRunner(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	f := restoreFixture(t, 300, true)
	slow := acctest.TestDelays
	slow.Restore = 40 * time.Second
	emu.SetDelays(slow)
	t.Cleanup(func() { emu.SetDelays(acctest.TestDelays) })
	runnerBin := filepath.Join(t.TempDir(), "ddbglobal-sync")
	if out, err := exec.Command("go", "build", "-o", runnerBin, "../../cmd/ddbglobal-sync").CombinedOutput(); err != nil {
		t.Fatalf("building the runner: %v\n%s", err, out)
	}
	var runner *exec.Cmd
	runnerDone := make(chan error, 1)
	extra := `  backfill { method = "restore" }
` + restoreTransformHCL
	external := extra + "\n  sync = \"external\""
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// An apply that backfills itself, stopped while DynamoDB restores.
				Config:      f.config(extra + "\n  timeouts = { create = \"20s\" }"),
				ExpectError: acctest.ErrorRegexp("creating DynamoDB live migration", "apply again to continue from here"),
			},
			{
				// The runner takes over: the apply with sync = "external" leaves the
				// backfill to it.
				PreConfig: func() {
					emu.SetDelays(acctest.TestDelays)
					if st := f.status(t); st.Phase != migration.PhaseBackfilling {
						t.Fatalf("after the interrupted create: phase %s, want backfilling", st.Phase)
					}
					runner = exec.Command(runnerBin, "-checkpoint-table", f.checkpoint, "-region", f.dstRegion,
						"-id", fmt.Sprintf("%s/%s/%s/%s", f.srcRegion, f.source, f.dstRegion, f.target), "-endpoint", acctest.Endpoint(), "-lease", "5s")
					runner.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=runner", "AWS_SECRET_ACCESS_KEY=runner")
					runner.Stdout, runner.Stderr = os.Stderr, os.Stderr
					if err := runner.Start(); err != nil {
						t.Fatal(err)
					}
					go func() { runnerDone <- runner.Wait() }()
					t.Cleanup(func() { _ = runner.Process.Kill() })
				},
				Config: f.config(external),
				Check: func(*terraform.State) error {
					w := startWriter(t, f, 40)
					// The runner finishes the restore the apply started (the apply's lease on
					// it runs out first), then syncs.
					err := waitFor(90*time.Second, func() error {
						if st := f.status(t); st.Phase != migration.PhaseSyncing {
							return fmt.Errorf("phase %s (%s)", st.Phase, st.Error)
						}
						return nil
					})
					w.halt()
					if err != nil {
						return fmt.Errorf("the runner did not finish the restore migration's backfill: %v", err)
					}
					return waitFor(30*time.Second, func() error { return checkRestoredEqual(t, f, restoreTransform)(nil) })
				},
			},
			{
				Config: f.config(external + "\n  cutover = true"),
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
					case <-time.After(60 * time.Second):
						return errors.New("the runner did not stop after cutover")
					}
					return checkRestoredEqual(t, f, restoreTransform)(s)
				},
			},
		},
	})
}

// -replace (here a taint) of a restore migration deletes no table: the old
// migration is forgotten, and the new one is refused while the target it restored
// exists, which keeps its items. Deleting that table is the user's call.
func TestAccLiveMigration_restoreReplaceKeepsTarget(t *testing.T) {
	acctest.PreCheck(t)
	f := restoreFixture(t, 50, false)
	extra := `  backfill { method = "restore" }
  cutover  = true`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config(extra),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
				},
			},
			{
				Taint:       []string{migrationAddress},
				Config:      f.config(extra),
				ExpectError: acctest.ErrorRegexp("backfill by restore: table " + f.target + " already exists in " + f.dstRegion),
			},
			{
				// The refused replacement left the target as it was.
				PreConfig: func() {
					if n := len(scanAll(t, acctest.DynamoDB(t, f.dstRegion), f.target)); n != f.items {
						t.Fatalf("the target holds %d items after the refused replacement, want %d", n, f.items)
					}
				},
				// From now on the plan says so, until the table is deleted or renamed.
				Config:      f.config(extra),
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("planning DynamoDB live migration", "backfill by restore: table "+f.target+" already exists"),
			},
		},
	})
}
