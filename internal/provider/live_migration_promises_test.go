package provider_test

import (
	"context"
	"fmt"

	"testing"

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
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// priorState checks the state a plan starts from: the resource's attributes and
// whether Terraform holds it tainted.
type priorState struct {
	address string
	phase   string
	tainted bool
}

func (c priorState) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	if req.Plan.PriorState == nil || req.Plan.PriorState.Values == nil {
		resp.Error = fmt.Errorf("the plan has no prior state")
		return
	}
	for _, r := range req.Plan.PriorState.Values.RootModule.Resources {
		if r.Address != c.address {
			continue
		}
		if got := r.AttributeValues["phase"]; got != c.phase || r.Tainted != c.tainted {
			resp.Error = fmt.Errorf("%s in the prior state: phase %v, tainted %v; want phase %q, tainted %v", c.address, got, r.Tainted, c.phase, c.tainted)
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the prior state", c.address)
}

// putTargetItem writes to the target behind the migration's back.
func putTargetItem(t *testing.T, f migrationFixture, pk string, version int) error {
	_, err := acctest.DynamoDB(t, f.dstRegion).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(f.target), Item: map[string]awstypes.AttributeValue{
			"pk": &awstypes.AttributeValueMemberS{Value: pk}, "version": &awstypes.AttributeValueMemberN{Value: fmt.Sprint(version)}}})
	return err
}

func deleteTargetItem(t *testing.T, f migrationFixture, pk string) error {
	_, err := acctest.DynamoDB(t, f.dstRegion).DeleteItem(context.Background(), &dynamodb.DeleteItemInput{
		TableName: aws.String(f.target), Key: map[string]awstypes.AttributeValue{"pk": &awstypes.AttributeValueMemberS{Value: pk}}})
	return err
}

// sourceWrites puts items from..from+n-1 into the source: stream records the
// migration has not applied yet.
func sourceWrites(t *testing.T, f migrationFixture, from, n int) {
	var reqs []awstypes.WriteRequest
	for i := from; i < from+n; i++ {
		reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: fixtureItem(i, 1)}})
	}
	writeAll(t, acctest.DynamoDB(t, f.srcRegion), f.source, reqs)
}

// Stream records trimmed past the migration's checkpoint (the emulator trims the
// source's stream while nobody reads it) fail the next apply for good: the refreshed
// state says phase "failed", and -replace with overwrite_target = true replaces the
// migration with a fresh one that empties the target, backfills again and ends exact.
//
// Catches: a loss treated as retryable ("apply again to continue"), a failed phase
// not reported by the refresh, or a replacement that resumes the failed migration
// (which fails again) instead of starting a new one.
func TestAccLiveMigration_lossFailsThenReplaces(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	f := newMigrationFixture(t, 60, "pk")
	config := f.config("")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  func(*terraform.State) error { sourceWrites(t, f, 100, 20); return nil },
				// The writes after the apply are pending.
				ExpectNonEmptyPlan: true,
			},
			{
				// The catch-up applies them: the shard has a checkpoint now.
				Config: config,
				Check: func(*terraform.State) error {
					sourceWrites(t, f, 200, 20)
					return emu.TrimStream(context.Background(), f.srcRegion, f.source)
				},
			},
			{
				// The trimmed records count as nothing pending; the cutover reads the
				// stream and finds them gone.
				Config:      f.config("  cutover = true"),
				ExpectError: acctest.ErrorRegexp("Stream data the target needed is gone", "overwrite_target = true", "terraform apply -replace"),
			},
			{
				PreConfig: func() {
					if st := f.status(t); st.Phase != migration.PhaseFailed || st.Error == "" {
						t.Fatalf("checkpoint table after the loss: %+v", st)
					}
				},
				// -replace, as the error says.
				Taint:  []string{migrationAddress},
				Config: f.config("  overwrite_target = true"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						priorState{address: migrationAddress, phase: "failed", tainted: true},
						plancheck.ExpectResourceAction(migrationAddress, plancheck.ResourceActionReplace),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("syncing")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("items_copied"), knownvalue.Int64Exact(int64(f.items+40))),
				},
				Check: checkTablesEqual(t, f, nil),
			},
		},
	})
}

// terraform apply -replace restarts a completed migration from scratch: a fresh
// backfill copies every item again, so a target item lost after the first cutover is
// back, and the second cutover verifies.
//
// Catches: a replacement that resumes the old checkpoints (Delete not forgetting the
// migration, or Create reusing a completed one): nothing is copied, the lost item stays
// lost, and the cutover's verification fails.
func TestAccLiveMigration_replaceRestarts(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 40, "pk")
	config := f.config("  cutover = true")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
				},
				Check: func(*terraform.State) error { return deleteTargetItem(t, f, "item-00003") },
			},
			{
				// Taint is what -replace does before planning; the target holds the
				// first migration's copy.
				Taint:  []string{migrationAddress},
				Config: f.config("  cutover = true\n  overwrite_target = true"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(migrationAddress, plancheck.ResourceActionReplace)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("items_copied"), knownvalue.Int64Exact(int64(f.items))),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("target_items"), knownvalue.Int64Exact(int64(f.items))),
				},
				Check: checkTablesEqual(t, f, nil),
			},
		},
	})
}

// verify = "count" compares item counts only: an extra target item fails the cutover,
// a changed one does not.
//
// Catches: count mode comparing contents (the changed item would fail it), or not
// comparing counts (the extra item would pass).
func TestAccLiveMigration_verifyCount(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 30, "pk")
	cutover := f.config("  cutover = true\n  verify  = \"count\"")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config("  verify = \"count\""),
				Check:  func(*terraform.State) error { return putTargetItem(t, f, "extra-target-item", 1) },
			},
			{
				Config:      cutover,
				ExpectError: acctest.ErrorRegexp("Verification found differences: 30 source items, 31 target items"),
			},
			{
				PreConfig: func() {
					if err := deleteTargetItem(t, f, "extra-target-item"); err != nil {
						t.Fatal(err)
					}
					if err := putTargetItem(t, f, "item-00002", 999); err != nil {
						t.Fatal(err)
					}
				},
				Config: cutover,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification"), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"source_items": knownvalue.Int64Exact(30), "target_items": knownvalue.Int64Exact(30), "mismatched_items": knownvalue.Int64Exact(0),
					})),
				},
			},
		},
	})
}

// verify = "none" completes the cutover without reading either table: an extra
// target item does not stop it, and no verification is recorded.
//
// Catches: none mode verifying anyway (the extra item would fail the cutover).
func TestAccLiveMigration_verifyNone(t *testing.T) {
	acctest.PreCheck(t)
	f := newMigrationFixture(t, 30, "pk")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: f.config("  verify = \"none\""),
				Check:  func(*terraform.State) error { return putTargetItem(t, f, "extra-target-item", 1) },
			},
			{
				Config: f.config("  cutover = true\n  verify  = \"none\""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification"), knownvalue.Null()),
				},
			},
		},
	})
}
