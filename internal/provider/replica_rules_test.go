package provider_test

import (
	"context"
	"fmt"
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
)

// A table with a customer managed key: a replica without a key, or with a key in
// another Region, is refused at plan; the key is stored as the ARN DynamoDB reports, and
// a new key replaces the replica. Catches: dropping checkReplicaRules from ModifyPlan
// (the first step would pass the plan), and the plan of the replacement's create
// refusing the old replica as one outside the state.
func TestAccReplica_customerManagedKey(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica")
	eastKey := acctest.CreateKMSKey(t, "us-east-1")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk", KMSKeyID: eastKey})
	const address = "ddbglobal_replica.test"
	westKey := acctest.CreateKMSKey(t, "eu-west-1")
	otherWestKey := acctest.CreateKMSKey(t, "eu-west-1")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config:      replicaConfig(table, "eu-west-1", ""),
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("customer managed key", "Set kms_key_arn to the ARN of a key in eu-west-1"),
			},
			{
				Config:      replicaConfig(table, "eu-west-1", fmt.Sprintf("  kms_key_arn = %q", eastKey)),
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("kms_key_arn is a key in us-east-1, but the replica is in eu-west-1"),
			},
			{
				Config: replicaConfig(table, "eu-west-1", fmt.Sprintf("  kms_key_arn = %q", westKey)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kms_key_arn"), knownvalue.StringExact(westKey)),
				},
			},
			{
				Config: replicaConfig(table, "eu-west-1", fmt.Sprintf("  kms_key_arn = %q", otherWestKey)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("kms_key_arn"), knownvalue.StringExact(otherWestKey)),
				},
			},
		},
	})
}

// A replica key on a table with the AWS owned key, and a source warm throughput above
// the destination's table maximum, are refused at plan, before anything changes.
// Catches: dropping checkReplicaKey's owned-key case or checkWarmThroughput.
func TestAccReplica_keyAndWarmThroughputRefusals(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	owned := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: owned, HashKey: "pk"})
	emu.SetTableQuota(acctest.Region, emulator.TableQuota{Read: 100000, Write: 100000})
	t.Cleanup(func() { emu.SetTableQuota(acctest.Region, emulator.TableQuota{}) })
	hot := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: hot, HashKey: "pk", WarmWrite: 60000})

	for name, tc := range map[string]struct {
		config string
		want   []string
	}{
		"key on an AWS owned key table": {
			replicaConfig(owned, "eu-west-1", `  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/22222222-2222-4222-8222-222222222222"`),
			[]string{"is encrypted with the AWS owned key", "Remove kms_key_arn"},
		},
		"warm throughput above the destination maximum": {
			replicaConfig(hot, "eu-west-1", ""),
			[]string{"warm throughput of 12000 read and 60000 write units per second", "table maximum of eu-west-1 (40000 read, 40000 write)"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: acctest.ErrorRegexp(tc.want...)}},
			})
		})
	}
	for _, table := range []string{owned, hot} {
		if got := replicaRegions(t, table); len(got) > 0 {
			t.Errorf("table %s got replicas %v from a refused plan", table, got)
		}
	}
}

// Right after a replica turns ACTIVE, PITR is unavailable and then ENABLING, and
// deletion protection keeps the table UPDATING: Create retries and waits, so the apply
// ends with PITR ENABLED, the table ACTIVE, and an empty plan.
// Catches: setPITR without the ContinuousBackupsUnavailableException retry (the apply
// fails) or without waiting through ENABLING, and setDeletionProtection without
// waitTableSettled (the Check sees UPDATING).
func TestAccReplica_slowSettingsWaitedOut(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"
	slow := emulator.Delays{PITRUnavailable: 2 * time.Second, PITREnabling: 2 * time.Second, Settle: 3 * time.Second}
	emu.SetDelays(slow)
	t.Cleanup(func() { emu.SetDelays(acctest.TestDelays) })

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: replicaConfig(table, "eu-west-1", `
  point_in_time_recovery      = true
  deletion_protection_enabled = true
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("point_in_time_recovery"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("deletion_protection_enabled"), knownvalue.Bool(true)),
				},
				Check: func(*terraform.State) error {
					ctx := context.Background()
					west := acctest.DynamoDB(t, "eu-west-1")
					out, err := west.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
					if err != nil {
						return err
					}
					if out.Table.TableStatus != awstypes.TableStatusActive {
						return fmt.Errorf("replica table is %s after apply, want ACTIVE", out.Table.TableStatus)
					}
					cb, err := west.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
					if err != nil {
						return err
					}
					if st := cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus; st != awstypes.PointInTimeRecoveryStatusEnabled {
						return fmt.Errorf("PITR is %s after apply, want ENABLED", st)
					}
					return nil
				},
			},
			{
				// Toggled back right away: throttled, then UPDATING; both waited out.
				Config: replicaConfig(table, "eu-west-1", `
  point_in_time_recovery      = true
  deletion_protection_enabled = false
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue(address, tfjsonpath.New("deletion_protection_enabled"), knownvalue.Bool(false)),
				},
			},
		},
	})
}

// A Region that sourced a replica create refuses deletion for 24 hours: destroy says
// which Region, which replicas, and when the delete becomes possible.
// Catches: dropping explainSourceHold from Delete (the raw ValidationException shows).
func TestAccReplica_sourceRegionHoldExplained(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	t.Cleanup(func() { emu.SetDelays(emulator.Delays{SourceHold: 24 * time.Hour}) })
	ireland := acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_replica" "ireland" {
  table_name = %[1]q
  region     = "eu-west-1"
}
`, table)
	// Tokyo is copied from Ireland.
	both := ireland + fmt.Sprintf(`
resource "ddbglobal_replica" "tokyo" {
  table_name    = %[1]q
  region        = "ap-northeast-1"
  source_region = "eu-west-1"
}
`, table)
	// Ireland goes; Tokyo is managed from the base table's Region from now on.
	tokyoOnly := acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_replica" "tokyo" {
  table_name    = %[1]q
  region        = "ap-northeast-1"
  source_region = %[2]q
}
`, table, acctest.Region)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{Config: ireland},
			{Config: both},
			{
				Config: tokyoOnly,
				ExpectError: acctest.ErrorRegexp("deleting DynamoDB replica", "in the last 24 hours eu-west-1 was the source Region",
					"ap-northeast-1 (created", "The delete becomes possible at about"),
			},
			{
				// A day later (shortened): the delete goes through.
				PreConfig: func() { emu.SetDelays(emulator.Delays{SourceHold: time.Millisecond}) },
				Config:    tokyoOnly,
				Check: func(*terraform.State) error {
					if got := replicaRegions(t, table); fmt.Sprint(got) != "[ap-northeast-1]" {
						return fmt.Errorf("replicas = %v, want [ap-northeast-1]", got)
					}
					return nil
				},
			},
		},
	})
}
