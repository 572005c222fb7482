package provider_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

func replicaConfig(table, region, extra string) string {
	return acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_replica" "test" {
  table_name = %q
  region     = %q
%s
}
`, table, region, extra)
}

// replicaRegions lists the Regions of the table's replicas as the source Region sees them.
func replicaRegions(t *testing.T, table string) []string {
	t.Helper()
	out, err := acctest.DynamoDB(t, acctest.Region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable %s: %v", table, err)
	}
	var regions []string
	for _, r := range out.Table.Replicas {
		if aws.ToString(r.RegionName) != acctest.Region {
			regions = append(regions, aws.ToString(r.RegionName))
		}
	}
	sort.Strings(regions)
	return regions
}

// checkNoReplicas is a CheckDestroy: the table is back to a single Region.
func checkNoReplicas(t *testing.T, table string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if regions := replicaRegions(t, table); len(regions) > 0 {
			return fmt.Errorf("replicas left after destroy: %v", regions)
		}
		return nil
	}
}

func TestAccReplica_basic(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: replicaConfig(table, "eu-west-1", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("id"), knownvalue.StringExact(table+":eu-west-1")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("source_region"), knownvalue.StringExact(acctest.Region)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("global_table_version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("arn"), knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:dynamodb:eu-west-1:\d{12}:table/`+table+`$`))),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("stream_arn"), knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:dynamodb:eu-west-1:\d{12}:table/`+table+`/stream/`))),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("table_class"), knownvalue.StringExact("STANDARD")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("point_in_time_recovery"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("deletion_protection_enabled"), knownvalue.Bool(false)),
				},
				Check: func(*terraform.State) error {
					if got := replicaRegions(t, table); len(got) != 1 || got[0] != "eu-west-1" {
						return fmt.Errorf("replicas = %v, want [eu-west-1]", got)
					}
					return nil
				},
			},
			{
				ResourceName:            address,
				ImportState:             true,
				ImportStateId:           table + ":eu-west-1",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}

// Several replicas of one table in one apply: DynamoDB takes one replica change at a
// time, so the provider must serialize them and ride out "table busy" errors.
func TestAccReplica_threeInOneApply(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk", RangeKey: "sk"})
	regions := []string{"ap-northeast-1", "eu-west-1", "us-west-2"}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_replica" "tokyo" {
  table_name = %[1]q
  region     = "ap-northeast-1"
}

resource "ddbglobal_replica" "ireland" {
  table_name = %[1]q
  region     = "eu-west-1"
}

resource "ddbglobal_replica" "oregon" {
  table_name = %[1]q
  region     = "us-west-2"
}
`, table),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("ddbglobal_replica.tokyo", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue("ddbglobal_replica.ireland", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue("ddbglobal_replica.oregon", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
			},
			Check: func(*terraform.State) error {
				if got := replicaRegions(t, table); fmt.Sprint(got) != fmt.Sprint(regions) {
					return fmt.Errorf("replicas = %v, want %v", got, regions)
				}
				return nil
			},
		}},
	})
}

func TestAccReplica_updateInPlace(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: replicaConfig(table, "eu-west-1", `  tags = { team = "core" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("core")})),
				},
			},
			{
				Config: replicaConfig(table, "eu-west-1", `
  table_class                 = "STANDARD_INFREQUENT_ACCESS"
  point_in_time_recovery      = true
  deletion_protection_enabled = true
  tags                        = { team = "payments", env = "test" }
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate),
						// The update keeps the status it had: no "(known after apply)". Catches:
						// status without UseStateForUnknown.
						plancheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("table_class"), knownvalue.StringExact("STANDARD_INFREQUENT_ACCESS")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("point_in_time_recovery"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("deletion_protection_enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("payments"), "env": knownvalue.StringExact("test"),
					})),
				},
				Check: func(*terraform.State) error {
					// Set in the replica Region, not in the source.
					ctx := context.Background()
					src, err := acctest.DynamoDB(t, acctest.Region).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
					if err != nil {
						return err
					}
					if aws.ToBool(src.Table.DeletionProtectionEnabled) {
						return fmt.Errorf("deletion protection leaked into the source Region")
					}
					pitr, err := acctest.DynamoDB(t, acctest.Region).DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
					if err != nil {
						return err
					}
					if pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == awstypes.PointInTimeRecoveryStatusEnabled {
						return fmt.Errorf("point-in-time recovery leaked into the source Region")
					}
					return nil
				},
			},
			{
				// Unprotect so that destroy can remove it.
				Config: replicaConfig(table, "eu-west-1", `  deletion_protection_enabled = false`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
			},
		},
	})
}

// A replica removed outside Terraform is dropped from the state and created again.
func TestAccReplica_disappears(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"
	config := replicaConfig(table, "eu-west-1", "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(*terraform.State) error {
					return deleteReplicaOutsideTerraform(t, table, "eu-west-1")
				},
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
			},
		},
	})
}

func deleteReplicaOutsideTerraform(t *testing.T, table, region string) error {
	ctx := context.Background()
	client := acctest.DynamoDB(t, acctest.Region)
	_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:      aws.String(table),
		ReplicaUpdates: []awstypes.ReplicationGroupUpdate{{Delete: &awstypes.DeleteReplicationGroupMemberAction{RegionName: aws.String(region)}}},
	})
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		_, err := acctest.DynamoDB(t, region).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var notFound *awstypes.ResourceNotFoundException
		if len(replicaRegions(t, table)) == 0 && errors.As(err, &notFound) {
			return nil
		}
	}
	return fmt.Errorf("replica in %s still there a minute after its deletion", region)
}

// A create that ends in CREATION_FAILED fails fast with DynamoDB's reason, and the next
// apply replaces the failed replica with a working one.
func TestAccReplica_creationFailed(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"
	config := replicaConfig(table, "eu-west-1", "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					emu.FailReplicaCreation("eu-west-1", table, "KMS key not accessible in eu-west-1")
				},
				Config:      config,
				ExpectError: acctest.ErrorRegexp("creating DynamoDB replica", "is CREATION_FAILED: KMS key not accessible in eu-west-1"),
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
			},
		},
	})
}

// A timeout names the status the replica was stuck in, and has no hidden floor: a 2 s
// timeout ends the apply after about 2 s. The second step refreshes while the replica
// is still CREATING and its Region answers DescribeTable only: it catches a read that
// treats those errors as fatal (settingsUnreadable returning false fails it).
//
// Catches too: a timeout ignored, or given a floor of 4 s or more (in Create,
// `deadline := time.Now().Add(max(timeout, 5*time.Second))`).
func TestAccReplica_timeout(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	// The replica stays CREATING for 4 s, twice the timeout: a timeout that is ignored,
	// or has a hidden floor of 4 s or more, lets the apply succeed and the step fail.
	slow := acctest.TestDelays
	slow.ReplicaCreate = 4 * time.Second
	var started time.Time

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					emu.SetDelays(slow)
					started = time.Now()
				},
				Config:      replicaConfig(table, "eu-west-1", `  timeouts = { create = "2s" }`),
				ExpectError: acctest.ErrorRegexp("timed out waiting for replica of table " + table + " in eu-west-1 to become ACTIVE; last seen: CREATING (timeouts.create = 2s)"),
			},
			{
				PreConfig: func() {
					emu.SetDelays(acctest.TestDelays)
					took := time.Since(started)
					out, err := acctest.DynamoDB(t, acctest.Region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
					if err != nil {
						t.Fatal(err)
					}
					// The apply ended less than 4 s after it asked for the replica (it is
					// still CREATING), so at most 2 s past its timeout; with plan and
					// Terraform's start-up, the whole step took well under 8 s.
					if len(out.Table.Replicas) != 1 || out.Table.Replicas[0].ReplicaStatus != awstypes.ReplicaStatusCreating {
						t.Errorf("after the 2s timeout the replica is no longer CREATING: the apply waited 4 s or more: %+v", out.Table.Replicas)
					}
					if took > 8*time.Second {
						t.Errorf("the 2s timeout took %s to end the step", took)
					}
				},
				// The tainted replica is replaced by one that completes.
				Config: replicaConfig(table, "eu-west-1", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("ddbglobal_replica.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
			},
		},
	})
}

// A deliberate replacement of an ACTIVE replica works: -replace (replace_triggered_by
// forces it the same way) and a tainted replica are destroyed, then created again.
// Catches: the plan of the new replica refusing the old one as "already exists outside
// the state" (Terraform plans the create half of a replacement with no prior state).
func TestAccReplica_replaceActive(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"
	config := func(trigger string) string {
		return replicaConfig(table, "eu-west-1", fmt.Sprintf(`
  lifecycle {
    replace_triggered_by = [terraform_data.trigger]
  }
}

resource "terraform_data" "trigger" {
  input = %q`, trigger))
	}
	var firstARN, firstCreated string
	created := func(into *string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			*into = describe(t, "eu-west-1", table).CreationDateTime.String()
			return nil
		}
	}
	var secondCreated, thirdCreated string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: config("one"),
				Check: resource.ComposeTestCheckFunc(created(&firstCreated), func(s *terraform.State) error {
					firstARN = s.RootModule().Resources[address].Primary.Attributes["arn"]
					return nil
				}),
			},
			{
				Config: config("two"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
				Check: resource.ComposeTestCheckFunc(created(&secondCreated), func(s *terraform.State) error {
					if secondCreated == firstCreated {
						return fmt.Errorf("the replica was not replaced")
					}
					if got := s.RootModule().Resources[address].Primary.Attributes["arn"]; got != firstARN {
						return fmt.Errorf("arn = %s, want %s", got, firstARN)
					}
					return nil
				}),
			},
			{
				Taint:  []string{address},
				Config: config("two"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(created(&thirdCreated), func(*terraform.State) error {
					if thirdCreated == secondCreated {
						return fmt.Errorf("the tainted replica was not replaced")
					}
					return nil
				}),
			},
		},
	})
}

// Each replica's timeout starts when its turn comes, after the replicas of the same
// table before it: three replicas that take about 4 s each (as polled) all fit a 8 s
// timeout, though the third waits about 8 s for the other two. Catches: the timeout
// starting before the wait for the per-table lock (the third replica times out).
func TestAccReplica_timeoutStartsAtItsTurn(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	slow := acctest.TestDelays
	slow.ReplicaCreate = 3 * time.Second
	t.Cleanup(func() { emu.SetDelays(acctest.TestDelays) })
	config := acctest.ProviderConfig()
	for _, region := range []string{"ap-northeast-1", "eu-west-1", "us-west-2"} {
		config += fmt.Sprintf(`
resource "ddbglobal_replica" %q {
  table_name = %q
  region     = %q
  timeouts   = { create = "8s" }
}
`, region, table, region)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{{
			PreConfig: func() { emu.SetDelays(slow) },
			Config:    config,
			Check: func(*terraform.State) error {
				emu.SetDelays(acctest.TestDelays)
				if got := replicaRegions(t, table); len(got) != 3 {
					return fmt.Errorf("replicas = %v, want three", got)
				}
				return nil
			},
		}},
	})
}

// A create that DynamoDB never took (the table stayed busy with another change for the
// whole timeout) fails without telling the user to untaint anything, and leaves
// nothing in the state: the next apply simply creates the replica. Catches: the
// "untaint" advice and a state whose status holds the busy error's text.
func TestAccReplica_createNeverSent(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	slow := acctest.TestDelays
	slow.ReplicaCreate = 10 * time.Second
	t.Cleanup(func() { emu.SetDelays(acctest.TestDelays) })
	const address = "ddbglobal_replica.test"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					emu.SetDelays(slow)
					// Another replica, added outside Terraform, keeps the table busy.
					_, err := acctest.DynamoDB(t, acctest.Region).UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String(table),
						ReplicaUpdates: []awstypes.ReplicationGroupUpdate{{Create: &awstypes.CreateReplicationGroupMemberAction{RegionName: aws.String("ap-south-1")}}}})
					if err != nil {
						t.Fatalf("adding a replica outside Terraform: %v", err)
					}
					t.Cleanup(func() { _ = deleteReplicaOutsideTerraform(t, table, "ap-south-1") })
				},
				Config:      replicaConfig(table, "eu-west-1", `  timeouts = { create = "2s" }`),
				ExpectError: acctest.ErrorRegexp("timed out waiting for the table to finish another change", "(timeouts.create = 2s)", "DynamoDB did not take the create, so nothing was created"),
			},
			{
				PreConfig: func() {
					emu.SetDelays(acctest.TestDelays)
					if err := waitFor(time.Minute, func() error {
						if got := replicaRegions(t, table); len(got) != 1 || got[0] != "ap-south-1" {
							return fmt.Errorf("replicas = %v, want [ap-south-1]", got)
						}
						return nil
					}); err != nil {
						t.Fatal(err)
					}
				},
				Config: replicaConfig(table, "eu-west-1", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					// Nothing was saved: a plain create, not the replacement of a tainted replica.
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
			},
		},
	})
}

// An imported replica reads its overrides although the import has no configuration to
// go by, so that the configuration that set them plans no change. Catches: overrides
// read only when the state already has them (the import leaves them empty).
func TestAccReplica_importWithOverrides(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk", Provisioned: true, GSI: "by-g"})
	addWriteAutoScaling(t, table, "by-g")
	const address = "ddbglobal_replica.test"
	// The index override is read back from DescribeTable's Replicas (import has
	// nothing else): catches an emulator or a Read that drops per-index overrides.
	config := replicaConfig(table, "eu-west-1", `  read_capacity_override = 3
  global_secondary_index {
    name                   = "by-g"
    read_capacity_override = 2
  }`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("read_capacity_override"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("global_secondary_index"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"name": knownvalue.StringExact("by-g"), "read_capacity_override": knownvalue.Int64Exact(2)}),
					})),
				},
			},
			{
				Config:                  config,
				ResourceName:            address,
				ImportState:             true,
				ImportStateId:           table + ":eu-west-1",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}

// addWriteAutoScaling registers write capacity auto scaling of a provisioned table and
// of the listed indexes, as DynamoDB requires (of all of them) before a replica is added.
func addWriteAutoScaling(t *testing.T, table string, indexes ...string) {
	t.Helper()
	ctx := context.Background()
	as := acctest.AWS(t).AutoScaling(acctest.Region)
	targets := map[string]aastypes.ScalableDimension{"table/" + table: aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits}
	for _, index := range indexes {
		targets["table/"+table+"/index/"+index] = aastypes.ScalableDimensionDynamoDBIndexWriteCapacityUnits
	}
	for id, dim := range targets {
		if _, err := as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
			ResourceId: aws.String(id), ScalableDimension: dim, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(100)}); err != nil {
			t.Fatal(err)
		}
		metric := aastypes.MetricTypeDynamoDBWriteCapacityUtilization
		if _, err := as.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb, PolicyName: aws.String("wcu"),
			ResourceId: aws.String(id), ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
			TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
				PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: metric}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// The provider's default_tags are merged into every replica's tags, as the AWS provider
// does: tags_all shows the result, the replica's own tags win, a change of the defaults
// updates the replica, and plans stay empty after each apply (and after an import).
// Catches: default tags not written, or read back into tags (a diff after every apply).
func TestAccReplica_defaultTags(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"
	config := func(defaults, extra string) string {
		provider := strings.TrimSuffix(acctest.ProviderConfig(), "}\n") + "\n  default_tags {\n    tags = " + defaults + "\n  }\n}\n"
		return provider + fmt.Sprintf(`
resource "ddbglobal_replica" "test" {
  table_name = %q
  region     = "eu-west-1"
%s
}
`, table, extra)
	}
	tagsAre := func(want map[string]string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			ctx := context.Background()
			client := acctest.DynamoDB(t, "eu-west-1")
			out, err := client.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: describe(t, "eu-west-1", table).TableArn})
			if err != nil {
				return err
			}
			got := map[string]string{}
			for _, tag := range out.Tags {
				got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("replica tags = %v, want %v", got, want)
			}
			return nil
		}
	}
	emptyAfter := resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config:           config(`{ env = "test", team = "platform" }`, `  tags = { team = "core" }`),
				ConfigPlanChecks: emptyAfter,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("core")})),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("tags_all"), knownvalue.MapExact(map[string]knownvalue.Check{
						"env": knownvalue.StringExact("test"), "team": knownvalue.StringExact("core"),
					})),
				},
				Check: tagsAre(map[string]string{"env": "test", "team": "core"}),
			},
			{
				Config: config(`{ env = "prod", team = "platform" }`, `  tags = { team = "core" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: tagsAre(map[string]string{"env": "prod", "team": "core"}),
			},
			{
				Config:           config(`{ env = "prod", team = "platform" }`, ""),
				ConfigPlanChecks: emptyAfter,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("tags"), knownvalue.Null()),
				},
				Check: tagsAre(map[string]string{"env": "prod", "team": "platform"}),
			},
			{
				Config:                  config(`{ env = "prod", team = "platform" }`, ""),
				ResourceName:            address,
				ImportState:             true,
				ImportStateId:           table + ":eu-west-1",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}
