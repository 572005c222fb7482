package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

const upgradeAddr = "ddbglobal_version_upgrade.test"

var threeRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-1"}

// upgradeCheckNames are the prerequisites every legacy upgrade records.
var upgradeCheckNames = []string{"ttl", "gsi", "encryption", "capacity", "replication_attributes"}

func upgradeConfig(name, extra string) string {
	return acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_version_upgrade" "test" {
  global_table_name                          = %q
  acknowledge_replication_attributes_removal = true
%s
}
`, name, extra)
}

// A legacy table in three Regions is upgraded once the console action happens; then
// writes carry no aws:rep:* attributes and make one stream record each.
func TestAccVersionUpgrade_basic(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: threeRegions})

	// Legacy behaviour first, so the test shows the change.
	putItem(t, "us-east-1", name, "before")
	if n := len(streamRecords(t, "us-east-1", name, "before")); n != 2 {
		t.Fatalf("legacy write made %d stream records in the source Region, want 2", n)
	}
	if item := waitItem(t, "eu-west-1", name, "before"); item["aws:rep:updatetime"] == nil {
		t.Fatalf("legacy replicated item lacks aws:rep:updatetime: %v", item)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkStillCurrent(t, name, threeRegions),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { acctest.ConsoleUpgrade(t, name, 2*time.Second) },
				Config:    upgradeConfig(name, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("from_version"), knownvalue.StringExact("2017.11.29")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("replica_regions"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("ap-southeast-1"), knownvalue.StringExact("eu-west-1"), knownvalue.StringExact("us-east-1"),
					})),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("prerequisites"), knownvalue.ListExact([]knownvalue.Check{
						passedCheck("ttl", "disabled in every Region (ap-southeast-1, eu-west-1, us-east-1)"),
						passedCheck("gsi", "no global secondary indexes in any Region (ap-southeast-1, eu-west-1, us-east-1)"),
						passedCheck("encryption", "owned by DynamoDB (default) in every Region (ap-southeast-1, eu-west-1, us-east-1)"),
						passedCheck("capacity", "on-demand in every Region (ap-southeast-1, eu-west-1, us-east-1)"),
						passedCheck("replication_attributes", "acknowledged: no application depends on aws:rep:deleting, aws:rep:updateregion, aws:rep:updatetime, which the current version no longer writes"),
					})),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("upgraded_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
				},
				Check: func(*terraform.State) error {
					for _, region := range threeRegions {
						table := describe(t, region, name)
						if v := aws.ToString(table.GlobalTableVersion); v != "2019.11.21" || table.TableStatus != awstypes.TableStatusActive {
							return fmt.Errorf("%s reports %s %s after the upgrade", region, table.TableStatus, v)
						}
					}
					putItem(t, "us-east-1", name, "after")
					for _, region := range []string{"eu-west-1", "ap-southeast-1"} {
						if item := waitItem(t, region, name, "after"); hasRepAttributes(item) {
							return fmt.Errorf("replicated write in %s carries aws:rep:* attributes: %v", region, item)
						}
					}
					records := streamRecords(t, "us-east-1", name, "after")
					if len(records) != 1 {
						return fmt.Errorf("a write after the upgrade made %d stream records in the source Region, want 1", len(records))
					}
					for _, r := range records {
						if image := r.Dynamodb.NewImage; image["aws:rep:updatetime"] != nil || image["aws:rep:updateregion"] != nil {
							return fmt.Errorf("stream record after the upgrade carries aws:rep:* attributes: %v", image)
						}
					}
					return nil
				},
			},
			{
				Config: upgradeConfig(name, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// Each prerequisite failing alone stops `terraform plan`, with what every Region
// reported, and nothing is changed.
func TestAccVersionUpgrade_prerequisiteFailsAtPlan(t *testing.T) {
	acctest.PreCheck(t)
	regions := []string{"us-east-1", "eu-west-1"}
	cases := map[string]struct {
		provisioned bool
		setup       func(t *testing.T, name string)
		extra       string
		want, want2 string
		unchanged   func(t *testing.T, name string)
	}{
		"ttl": {
			setup: func(t *testing.T, name string) { enableTTL(t, "us-east-1", name, "expiresAt") },
			want:  "TTL: disabled in eu-west-1; enabled on attribute expiresAt in us-east-1",
			unchanged: func(t *testing.T, name string) {
				if ttl := ttlOf(t, "eu-west-1", name); ttl != "DISABLED" {
					t.Errorf("TTL in eu-west-1 is %s, want DISABLED", ttl)
				}
			},
		},
		"gsi": {
			setup: func(t *testing.T, name string) { addGSI(t, "eu-west-1", name, "byOwner", "owner") },
			want:  "GSI definitions: index byOwner: keys owner (HASH, S), projection ALL in eu-west-1; missing in us-east-1",
		},
		"encryption": {
			setup: func(t *testing.T, name string) { enableKMS(t, "eu-west-1", name) },
			want:  "Encryption at rest: AWS managed KMS key (aws/dynamodb) arn:aws:kms:eu-west-1:",
			want2: "in eu-west-1; owned by DynamoDB (default) in us-east-1",
		},
		// KMS in both Regions is not enough: the AWS managed key in one Region and a
		// customer managed key in the other are different encryption settings.
		"encryption key kind": {
			setup: func(t *testing.T, name string) {
				enableKMS(t, "us-east-1", name)
				enableKMSKey(t, "eu-west-1", name, acctest.CreateKMSKey(t, "eu-west-1")) // a key the emulator's KMS knows as customer managed
			},
			want:  "Encryption at rest: customer managed KMS key arn:aws:kms:eu-west-1:",
			want2: "in eu-west-1; AWS managed KMS key (aws/dynamodb) arn:aws:kms:us-east-1:",
		},
		"capacity": {
			provisioned: true,
			want:        "Capacity: provisioned without WCU auto scaling on the table in every Region (eu-west-1, us-east-1)",
			unchanged: func(t *testing.T, name string) {
				for _, region := range regions {
					if mode := billingMode(t, region, name); mode != awstypes.BillingModeProvisioned {
						t.Errorf("%s billing mode is %s, want PROVISIONED", region, mode)
					}
				}
			},
		},
		"acknowledgement": {
			extra: "  remediate = true",
			want:  "Replication attributes: not acknowledged: after the upgrade, new writes no longer carry aws:rep:deleting, aws:rep:updateregion, aws:rep:updatetime",
		},
	}
	for caseName, tc := range cases {
		t.Run(caseName, func(t *testing.T) {
			name := acctest.RandomName("tf-acc-upg")
			acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: tc.provisioned})
			if tc.setup != nil {
				tc.setup(t, name)
			}
			config := upgradeConfig(name, tc.extra)
			if caseName == "acknowledgement" {
				config = strings.Replace(config, "acknowledge_replication_attributes_removal = true", "acknowledge_replication_attributes_removal = false", 1)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      config,
					PlanOnly:    true,
					ExpectError: errorText("upgrading DynamoDB global table ("+name+", us-east-1)", "does not meet the upgrade prerequisites", tc.want, tc.want2),
				}},
			})
			checkStillLegacy(t, name, regions)
			if tc.unchanged != nil {
				tc.unchanged(t, name)
			}
		})
	}
}

// remediate = true switches provisioned replicas to on-demand and aligns TTL, then the
// upgrade goes ahead.
func TestAccVersionUpgrade_remediation(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	enableTTL(t, "us-east-1", name, "expiresAt")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { acctest.ConsoleUpgrade(t, name, time.Second) },
			Config:    upgradeConfig(name, "  remediate = true"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("eu-west-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
					knownvalue.StringExact("us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
					knownvalue.StringExact("eu-west-1: enable TTL on attribute expiresAt"),
				})),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("prerequisites"), knownvalue.ListPartial(map[int]knownvalue.Check{
					0: passedCheck("ttl", "enabled on attribute expiresAt in every Region (eu-west-1, us-east-1)"),
					3: passedCheck("capacity", "on-demand in every Region (eu-west-1, us-east-1)"),
				})),
			},
			Check: func(*terraform.State) error {
				for _, region := range regions {
					if mode := billingMode(t, region, name); mode != awstypes.BillingModePayPerRequest {
						return fmt.Errorf("%s billing mode is %s after remediation", region, mode)
					}
					if ttl := ttlOf(t, region, name); ttl != "ENABLED" {
						return fmt.Errorf("%s TTL is %s after remediation", region, ttl)
					}
				}
				return nil
			},
		}},
	})
}

// remediation_capacity_mode = "AUTOSCALING" registers WCU auto scaling instead.
func TestAccVersionUpgrade_remediationAutoScaling(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { acctest.ConsoleUpgrade(t, name, time.Second) },
			Config:    upgradeConfig(name, "  remediate = true\n  remediation_capacity_mode = \"AUTOSCALING\""),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("eu-west-1: register WCU auto scaling on the table (5 to 100 units, target 70% utilization)"),
					knownvalue.StringExact("us-east-1: register WCU auto scaling on the table (5 to 100 units, target 70% utilization)"),
				})),
			},
			Check: func(*terraform.State) error {
				for _, region := range regions {
					if mode := billingMode(t, region, name); mode != awstypes.BillingModeProvisioned {
						return fmt.Errorf("%s billing mode is %s, want PROVISIONED", region, mode)
					}
					out, err := acctest.AWS(t).AutoScaling(region).DescribeScalingPolicies(context.Background(), &aas.DescribeScalingPoliciesInput{
						ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/" + name),
					})
					if err != nil {
						return err
					}
					if len(out.ScalingPolicies) != 1 || out.ScalingPolicies[0].ScalableDimension != aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits {
						return fmt.Errorf("%s scaling policies = %+v, want one WCU policy", region, out.ScalingPolicies)
					}
				}
				return nil
			},
		}},
	})
}

// A GSI difference is never remediated: the upgrade is refused, and the capacity
// problem that remediation could fix is left alone too.
func TestAccVersionUpgrade_gsiMismatchRefused(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	addGSI(t, "us-east-1", name, "byOwner", "owner")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      upgradeConfig(name, "  remediate = true"),
			ExpectError: errorText("GSI definitions: index byOwner: missing in eu-west-1; keys owner (HASH, S), projection ALL in us-east-1", "Index changes are never made for you"),
		}},
	})
	checkStillLegacy(t, name, regions)
	for _, region := range regions {
		if mode := billingMode(t, region, name); mode != awstypes.BillingModeProvisioned {
			t.Errorf("%s billing mode is %s: a refused upgrade must change nothing", region, mode)
		}
	}
}

// acknowledge_replication_attributes_removal = false refuses the upgrade, remediation
// or not, and changes nothing.
func TestAccVersionUpgrade_acknowledgementMissing(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	config := acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_version_upgrade" "test" {
  global_table_name                          = %q
  remediate                                  = true
  acknowledge_replication_attributes_removal = false
}
`, name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: errorText("Replication attributes: not acknowledged", "acknowledge_replication_attributes_removal = true"),
		}},
	})
	checkStillLegacy(t, name, regions)
	if mode := billingMode(t, "us-east-1", name); mode != awstypes.BillingModeProvisioned {
		t.Errorf("billing mode is %s: a refused upgrade must change nothing", mode)
	}
}

// A create that times out waiting leaves a tainted resource; the next apply replaces
// it and resumes waiting until the console upgrade is done. The replacement remembers
// what the first attempt found and did: from_version 2017.11.29 (not the 2019.11.21 the
// table reports by then), the prerequisites as they stood before the upgrade, and the
// remediations already made.
func TestAccVersionUpgrade_timeoutThenResume(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	remediated := []knownvalue.Check{
		knownvalue.StringExact("eu-west-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
		knownvalue.StringExact("us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      upgradeConfig(name, "  remediate = true\n  timeouts = { create = \"3s\" }"),
				ExpectError: errorText("Timed out after 3s waiting for every member", "Run terraform apply again to resume waiting"),
			},
			{
				PreConfig: func() {
					checkStillLegacy(t, name, regions)
					acctest.ConsoleUpgrade(t, name, 0)
				},
				Config: upgradeConfig(name, "  remediate = true\n  timeouts = { create = \"2m\" }"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(upgradeAddr, plancheck.ResourceActionReplace)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("from_version"), knownvalue.StringExact("2017.11.29")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListExact(remediated)),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("prerequisites"), knownvalue.ListPartial(map[int]knownvalue.Check{
						3: passedCheck("capacity", "on-demand in every Region (eu-west-1, us-east-1)"),
					})),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("prerequisites"), knownvalue.ListSizeExact(len(upgradeCheckNames))),
				},
			},
		},
	})
}

// An already-current global table succeeds at once.
func TestAccVersionUpgrade_current(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	createCurrentGlobalTable(t, name)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: upgradeConfig(name, `  timeouts = { create = "30s" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("from_version"), knownvalue.StringExact("2019.11.21")),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("replica_regions"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("eu-west-1"), knownvalue.StringExact("us-east-1"),
				})),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("prerequisites"), knownvalue.ListSizeExact(0)),
			},
		}},
	})
}

// Destroying the resource only forgets it: the table stays current with its replicas.
func TestAccVersionUpgrade_delete(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	createCurrentGlobalTable(t, name)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: upgradeConfig(name, "")},
			{
				Config: acctest.ProviderConfig(),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(upgradeAddr, plancheck.ResourceActionDestroy)},
				},
				Check: checkStillCurrent(t, name, []string{"us-east-1", "eu-west-1"}),
			},
		},
	})
}

// A table that is not a global table is refused at plan time.
func TestAccVersionUpgrade_notGlobal(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      upgradeConfig(name, ""),
			PlanOnly:    true,
			ExpectError: errorText("is neither a legacy (2017.11.29) global table nor a current global table"),
		}},
	})
}

// errorText matches an error that contains the pieces in order, however Terraform
// wraps its lines.
func errorText(pieces ...string) *regexp.Regexp {
	var parts []string
	for _, p := range pieces {
		if p != "" {
			parts = append(parts, strings.Join(strings.Fields(regexp.QuoteMeta(p)), `\s+`))
		}
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

func passedCheck(name, detail string) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"name":   knownvalue.StringExact(name),
		"passed": knownvalue.Bool(true),
		"detail": knownvalue.StringExact(detail),
	})
}

// createCurrentGlobalTable makes a 2019.11.21 global table in us-east-1 and eu-west-1.
func createCurrentGlobalTable(t *testing.T, name string) {
	t.Helper()
	acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk", StreamView: awstypes.StreamViewTypeNewAndOldImages})
	client := acctest.DynamoDB(t, "us-east-1")
	ctx := context.Background()
	if _, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:      aws.String(name),
		ReplicaUpdates: []awstypes.ReplicationGroupUpdate{{Create: &awstypes.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}},
	}); err != nil {
		t.Fatalf("adding a replica to %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = acctest.DynamoDB(t, "eu-west-1").DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	deadline := time.Now().Add(time.Minute)
	for {
		table := describe(t, "us-east-1", name)
		if len(table.Replicas) == 1 && table.Replicas[0].ReplicaStatus == awstypes.ReplicaStatusActive && table.TableStatus == awstypes.TableStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica of %s not ACTIVE: %+v", name, table.Replicas)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func checkStillCurrent(t *testing.T, name string, regions []string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, region := range regions {
			out, err := acctest.AWS(t).DynamoDB(region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("the table must outlive the resource: %w", err)
			}
			if v := aws.ToString(out.Table.GlobalTableVersion); v != "2019.11.21" {
				return fmt.Errorf("%s reports version %q after destroy", region, v)
			}
		}
		return nil
	}
}

func checkStillLegacy(t *testing.T, name string, regions []string) {
	t.Helper()
	out, err := acctest.DynamoDB(t, regions[0]).DescribeGlobalTable(context.Background(), &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String(name)})
	if err != nil {
		t.Fatalf("%s must still be a legacy global table: %v", name, err)
	}
	if n := len(out.GlobalTableDescription.ReplicationGroup); n != len(regions) {
		t.Errorf("%s has %d members, want %d", name, n, len(regions))
	}
}

func describe(t *testing.T, region, name string) *awstypes.TableDescription {
	t.Helper()
	out, err := acctest.DynamoDB(t, region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("describing %s in %s: %v", name, region, err)
	}
	return out.Table
}

func billingMode(t *testing.T, region, name string) awstypes.BillingMode {
	t.Helper()
	table := describe(t, region, name)
	if table.BillingModeSummary == nil || table.BillingModeSummary.BillingMode == "" {
		return awstypes.BillingModeProvisioned
	}
	return table.BillingModeSummary.BillingMode
}

func enableTTL(t *testing.T, region, name, attr string) {
	t.Helper()
	if _, err := acctest.DynamoDB(t, region).UpdateTimeToLive(context.Background(), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &awstypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(attr)},
	}); err != nil {
		t.Fatalf("enabling TTL on %s in %s: %v", name, region, err)
	}
}

func ttlOf(t *testing.T, region, name string) string {
	t.Helper()
	out, err := acctest.DynamoDB(t, region).DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("describing TTL of %s in %s: %v", name, region, err)
	}
	return string(out.TimeToLiveDescription.TimeToLiveStatus)
}

func enableKMS(t *testing.T, region, name string) {
	t.Helper()
	if _, err := acctest.DynamoDB(t, region).UpdateTable(context.Background(), &dynamodb.UpdateTableInput{
		TableName:        aws.String(name),
		SSESpecification: &awstypes.SSESpecification{Enabled: aws.Bool(true), SSEType: awstypes.SSETypeKms},
	}); err != nil {
		t.Fatalf("enabling KMS encryption on %s in %s: %v", name, region, err)
	}
}

func enableKMSKey(t *testing.T, region, name, key string) {
	t.Helper()
	if _, err := acctest.DynamoDB(t, region).UpdateTable(context.Background(), &dynamodb.UpdateTableInput{
		TableName:        aws.String(name),
		SSESpecification: &awstypes.SSESpecification{Enabled: aws.Bool(true), SSEType: awstypes.SSETypeKms, KMSMasterKeyId: aws.String(key)},
	}); err != nil {
		t.Fatalf("enabling KMS encryption with %s on %s in %s: %v", key, name, region, err)
	}
}

func addGSI(t *testing.T, region, name, index, key string) {
	t.Helper()
	client := acctest.DynamoDB(t, region)
	update := &awstypes.CreateGlobalSecondaryIndexAction{
		IndexName:  aws.String(index),
		KeySchema:  []awstypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: awstypes.KeyTypeHash}},
		Projection: &awstypes.Projection{ProjectionType: awstypes.ProjectionTypeAll},
	}
	if billingMode(t, region, name) == awstypes.BillingModeProvisioned {
		update.ProvisionedThroughput = &awstypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	}
	if _, err := client.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{
		TableName:                   aws.String(name),
		AttributeDefinitions:        []awstypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: awstypes.ScalarAttributeTypeS}, {AttributeName: aws.String(key), AttributeType: awstypes.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []awstypes.GlobalSecondaryIndexUpdate{{Create: update}},
	}); err != nil {
		t.Fatalf("adding index %s to %s in %s: %v", index, name, region, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		table := describe(t, region, name)
		if table.TableStatus == awstypes.TableStatusActive && len(table.GlobalSecondaryIndexes) == 1 && table.GlobalSecondaryIndexes[0].IndexStatus == awstypes.IndexStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index %s of %s in %s not ACTIVE", index, name, region)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func putItem(t *testing.T, region, name, pk string) {
	t.Helper()
	if _, err := acctest.DynamoDB(t, region).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(name),
		Item:      map[string]awstypes.AttributeValue{"pk": &awstypes.AttributeValueMemberS{Value: pk}, "v": &awstypes.AttributeValueMemberS{Value: "x"}},
	}); err != nil {
		t.Fatalf("writing %s to %s in %s: %v", pk, name, region, err)
	}
}

// waitItem reads an item in a Region until replication has brought it there.
func waitItem(t *testing.T, region, name, pk string) map[string]awstypes.AttributeValue {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := acctest.DynamoDB(t, region).GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName: aws.String(name), ConsistentRead: aws.Bool(true),
			Key: map[string]awstypes.AttributeValue{"pk": &awstypes.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			t.Fatalf("reading %s from %s in %s: %v", pk, name, region, err)
		}
		if out.Item != nil {
			return out.Item
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s in %s", pk, name, region)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasRepAttributes(item map[string]awstypes.AttributeValue) bool {
	for k := range item {
		if strings.HasPrefix(k, "aws:rep:") {
			return true
		}
	}
	return false
}

// streamRecords reads the table's stream in a Region from the start, once the
// emulator's replication has settled (so an extra record would be there), and returns
// the records of one key.
func streamRecords(t *testing.T, region, name, pk string) []streamtypes.Record {
	t.Helper()
	ctx := context.Background()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := acctest.Emulator(t).WaitReplicated(wctx, name); err != nil {
		t.Fatalf("waiting for the replication of %s to settle: %v", name, err)
	}
	streams := acctest.AWS(t).Streams(region)
	arn := describe(t, region, name).LatestStreamArn
	// Every shard, on every DescribeStream page (the stream has several shards and
	// the tests' emulator pages them one at a time).
	var shards []streamtypes.Shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: arn}
	for {
		desc, err := streams.DescribeStream(ctx, in)
		if err != nil {
			t.Fatalf("describing the stream of %s in %s: %v", name, region, err)
		}
		shards = append(shards, desc.StreamDescription.Shards...)
		if in.ExclusiveStartShardId = desc.StreamDescription.LastEvaluatedShardId; in.ExclusiveStartShardId == nil {
			break
		}
	}
	var out []streamtypes.Record
	for _, shard := range shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("reading the stream of %s in %s: %v", name, region, err)
		}
		iter := it.ShardIterator
		for pages := 0; iter != nil && pages < 50; pages++ {
			page, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("reading the stream of %s in %s: %v", name, region, err)
			}
			for _, r := range page.Records {
				if k, ok := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS); ok && k.Value == pk {
					out = append(out, r)
				}
			}
			if len(page.Records) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

// A table on-demand in one Region and auto scaled in the other passes "each Region on
// its own" but not AWS's prerequisite (one capacity mode for the whole table): plan
// refuses it, and remediation brings every Region to on-demand, after which the
// console upgrade (which refuses the mix too) goes ahead.
func TestAccVersionUpgrade_capacityMixRemediated(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	registerWriteAutoScaling(t, "us-east-1", "table/"+name, aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits)
	switchBilling(t, "eu-west-1", name, awstypes.BillingModePayPerRequest)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:   upgradeConfig(name, ""),
				PlanOnly: true,
				ExpectError: errorText("Capacity: on-demand in eu-west-1; provisioned with WCU auto scaling in us-east-1",
					"one capacity mode for the whole table"),
			},
			{
				PreConfig: func() { acctest.ConsoleUpgrade(t, name, time.Second) },
				Config:    upgradeConfig(name, "  remediate = true\n  timeouts = { create = \"1m\" }"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
					})),
				},
				Check: func(*terraform.State) error {
					for _, region := range regions {
						if mode := billingMode(t, region, name); mode != awstypes.BillingModePayPerRequest {
							return fmt.Errorf("%s billing mode is %s after remediation", region, mode)
						}
					}
					return nil
				},
			},
		},
	})
}

func registerWriteAutoScaling(t *testing.T, region, id string, dim aastypes.ScalableDimension) {
	t.Helper()
	ctx := context.Background()
	as := acctest.AWS(t).AutoScaling(region)
	if _, err := as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String(id), ScalableDimension: dim, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(50)}); err != nil {
		t.Fatalf("registering %s in %s: %v", id, region, err)
	}
	if _, err := as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String(id), ScalableDimension: dim, PolicyName: aws.String("wcu"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeDynamoDBWriteCapacityUtilization}}}); err != nil {
		t.Fatalf("putting a scaling policy on %s in %s: %v", id, region, err)
	}
}

// switchBilling changes a Region's billing mode and waits until the table is ACTIVE.
func switchBilling(t *testing.T, region, name string, mode awstypes.BillingMode) {
	t.Helper()
	in := &dynamodb.UpdateTableInput{TableName: aws.String(name), BillingMode: mode}
	if mode == awstypes.BillingModeProvisioned {
		in.ProvisionedThroughput = &awstypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	}
	if _, err := acctest.DynamoDB(t, region).UpdateTable(context.Background(), in); err != nil {
		t.Fatalf("switching %s in %s to %s: %v", name, region, mode, err)
	}
	deadline := time.Now().Add(time.Minute)
	for describe(t, region, name).TableStatus != awstypes.TableStatusActive {
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s not ACTIVE after switching to %s", name, region, mode)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Only a table that does not exist yet is a warning at plan (it may come from the same
// apply); a read that AWS refuses is a plan error that names the Region and the
// missing permission, and nothing is changed.
func TestAccVersionUpgrade_planReadErrors(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	em := acctest.Emulator(t)
	id := em.AddFault(emulator.Fault{Operation: "DescribeTimeToLive", Region: "eu-west-1", Table: name,
		ErrorCode: "AccessDeniedException", Message: "User: arn:aws:iam::123456789012:user/tf is not authorized to perform: dynamodb:DescribeTimeToLive"})
	t.Cleanup(func() { em.RemoveFault(id) })

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      upgradeConfig(name, "  remediate = true"),
				PlanOnly:    true,
				ExpectError: errorText("upgrading DynamoDB global table ("+name+", us-east-1)", "eu-west-1", "dynamodb:DescribeTimeToLive", "AccessDeniedException"),
			},
			{
				// A table that does not exist yet: a warning, and the plan goes ahead.
				Config:             upgradeConfig(name+"-later", ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
	checkStillLegacy(t, name, regions)
	for _, region := range regions {
		if mode := billingMode(t, region, name); mode != awstypes.BillingModeProvisioned {
			t.Errorf("%s billing mode is %s: a refused plan must change nothing", region, mode)
		}
	}
}

// A member that cannot finish by itself (its KMS key inaccessible, its Region disabled)
// ends the wait at once with the Region, the status and what to do, instead of waiting
// out timeouts.create.
func TestAccVersionUpgrade_waitFailsFast(t *testing.T) {
	acctest.PreCheck(t)
	regions := []string{"us-east-1", "eu-west-1"}
	cases := []struct{ region, status, want string }{
		{"us-east-1", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "us-east-1 reports INACCESSIBLE_ENCRYPTION_CREDENTIALS"},
		{"eu-west-1", "REGION_DISABLED", "the legacy replication group lists eu-west-1 as REGION_DISABLED"},
	}
	for _, tc := range cases {
		t.Run(tc.status, func(t *testing.T) {
			name := acctest.RandomName("tf-acc-upg")
			acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions})
			if err := acctest.Emulator(t).SetMemberStatus(name, tc.region, tc.status, "made inaccessible by the test"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      upgradeConfig(name, `  timeouts = { create = "2m" }`),
					ExpectError: errorText("upgrading DynamoDB global table ("+name+", us-east-1)", "will not finish by itself", tc.want, "within 20 hours"),
				}},
			})
			if d := time.Since(start); d > time.Minute {
				t.Errorf("the wait took %s: it must end at the first poll that sees %s", d, tc.status)
			}
		})
	}
}

// End to end: a provisioned legacy table with a GSI in both Regions gets WCU auto
// scaling on the table and on the index in every Region, the checks read it back
// (after remediation they run again) and the console upgrade accepts it.
//
// Mutation check: making the auto scaling reader (gatherAutoScaling in
// internal/upgrade/facts.go) return nothing fails this test: after remediation the
// checks still see no auto scaling ("Remediation ran ... but prerequisites still fail").
func TestAccVersionUpgrade_remediationAutoScalingWithGSI(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	for _, region := range regions {
		addGSI(t, region, name, "byOwner", "owner")
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { acctest.ConsoleUpgrade(t, name, time.Second) },
			Config:    upgradeConfig(name, "  remediate = true\n  remediation_capacity_mode = \"AUTOSCALING\"\n  timeouts = { create = \"1m\" }"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("eu-west-1: register WCU auto scaling on the table (5 to 100 units, target 70% utilization)"),
					knownvalue.StringExact("eu-west-1: register WCU auto scaling on index byOwner (5 to 100 units, target 70% utilization)"),
					knownvalue.StringExact("us-east-1: register WCU auto scaling on the table (5 to 100 units, target 70% utilization)"),
					knownvalue.StringExact("us-east-1: register WCU auto scaling on index byOwner (5 to 100 units, target 70% utilization)"),
				})),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("prerequisites"), knownvalue.ListPartial(map[int]knownvalue.Check{
					1: passedCheck("gsi", "index byOwner: keys owner (HASH, S), projection ALL in every Region (eu-west-1, us-east-1)"),
					3: passedCheck("capacity", "provisioned with WCU auto scaling in every Region (eu-west-1, us-east-1)"),
				})),
			},
			Check: func(*terraform.State) error {
				for _, region := range regions {
					out, err := acctest.AWS(t).AutoScaling(region).DescribeScalableTargets(context.Background(), &aas.DescribeScalableTargetsInput{
						ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
						ResourceIds:      []string{"table/" + name, "table/" + name + "/index/byOwner"},
					})
					if err != nil {
						return err
					}
					if len(out.ScalableTargets) != 2 {
						return fmt.Errorf("%s scalable targets = %+v, want the table's and the index's", region, out.ScalableTargets)
					}
				}
				return nil
			},
		}},
	})
}

// The wait ends when every member is ACTIVE, not when the version first reads
// 2019.11.21: the emulator's upgrade spends its second half reporting 2019.11.21 while
// still UPDATING (and DescribeGlobalTable no longer knowing the table). With a 20 s
// upgrade, polls 2 s, 4 s and 8 s apart are sure to see that state.
//
// Mutation check: making RegionStatus.Done (internal/upgrade/wait.go) ignore
// TableStatus fails this test: the wait stops in the in-between state and the
// verification reports "us-east-1 is UPDATING".
func TestAccVersionUpgrade_waitsForActive(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions})
	em := acctest.Emulator(t)
	em.SetDelays(emulator.Delays{Upgrade: 20 * time.Second})
	t.Cleanup(func() { em.SetDelays(emulator.Delays{Upgrade: acctest.TestDelays.Upgrade}) })

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { acctest.ConsoleUpgrade(t, name, 0) },
			Config:    upgradeConfig(name, `  timeouts = { create = "2m" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("from_version"), knownvalue.StringExact("2017.11.29")),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
			},
			Check: func(*terraform.State) error {
				for _, region := range regions {
					if table := describe(t, region, name); table.TableStatus != awstypes.TableStatusActive {
						return fmt.Errorf("%s is %s when the upgrade resource says it is done", region, table.TableStatus)
					}
				}
				return nil
			},
		}},
	})
}

// A remediation that fails half way stops the apply with what was already done; the
// resource keeps it (tainted), and the next apply resumes: it does only what is left
// and reports every remediation of both attempts.
func TestAccVersionUpgrade_partialRemediationThenResume(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	enableTTL(t, "us-east-1", name, "expiresAt")
	em := acctest.Emulator(t)
	fault := em.AddFault(emulator.Fault{Operation: "UpdateTimeToLive", Region: "eu-west-1", Table: name, ErrorCode: "AccessDeniedException",
		Message: "User: arn:aws:iam::123456789012:user/tf is not authorized to perform: dynamodb:UpdateTimeToLive"})
	t.Cleanup(func() { em.RemoveFault(fault) })
	config := upgradeConfig(name, "  remediate = true\n  timeouts = { create = \"1m\" }")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ExpectError: errorText("Remediation failed: eu-west-1: enable TTL on attribute expiresAt", "AccessDeniedException",
					"Already done: eu-west-1: switch the table to on-demand capacity (PAY_PER_REQUEST); us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
			},
			{
				PreConfig: func() {
					for _, region := range regions {
						if mode := billingMode(t, region, name); mode != awstypes.BillingModePayPerRequest {
							t.Errorf("%s billing mode is %s: the first attempt switched it", region, mode)
						}
					}
					checkStillLegacy(t, name, regions)
					em.RemoveFault(fault)
					acctest.ConsoleUpgrade(t, name, time.Second)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(upgradeAddr, plancheck.ResourceActionReplace)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("from_version"), knownvalue.StringExact("2017.11.29")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("eu-west-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
						knownvalue.StringExact("us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
						knownvalue.StringExact("eu-west-1: enable TTL on attribute expiresAt"),
					})),
				},
			},
		},
	})
}

// restore_capacity_mode = true: remediation records each table's and index's
// provisioned capacity, switches to on-demand for the upgrade, and switches back to the
// recorded capacity once every member is current.
func TestAccVersionUpgrade_restoreCapacityMode(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	for _, region := range regions {
		addGSI(t, region, name, "byOwner", "owner")
	}
	capacity := func(region, index string) knownvalue.Check {
		return knownvalue.ObjectExact(map[string]knownvalue.Check{
			"region": knownvalue.StringExact(region), "index": knownvalue.StringExact(index),
			"read_units": knownvalue.Int64Exact(5), "write_units": knownvalue.Int64Exact(5),
		})
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      upgradeConfig(name, "  remediate = true\n  restore_capacity_mode = true\n  remediation_capacity_mode = \"AUTOSCALING\""),
				PlanOnly:    true,
				ExpectError: errorText("restore_capacity_mode = true restores what a switch to on-demand changed"),
			},
			{
				PreConfig: func() { acctest.ConsoleUpgrade(t, name, time.Second) },
				Config:    upgradeConfig(name, "  remediate = true\n  restore_capacity_mode = true\n  timeouts = { create = \"1m\" }"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("capacity_before_remediation"), knownvalue.ListExact([]knownvalue.Check{
						capacity("eu-west-1", ""), capacity("eu-west-1", "byOwner"), capacity("us-east-1", ""), capacity("us-east-1", "byOwner"),
					})),
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("remediations"), knownvalue.ListPartial(map[int]knownvalue.Check{
						0: knownvalue.StringExact("eu-west-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
						1: knownvalue.StringExact("us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
						2: knownvalue.StringExact("eu-west-1: restore provisioned capacity after the upgrade (table 5 RCU, 5 WCU; index byOwner 5 RCU, 5 WCU)"),
					})),
				},
				Check: func(*terraform.State) error {
					for _, region := range regions {
						table := describe(t, region, name)
						if mode := billingMode(t, region, name); mode != awstypes.BillingModeProvisioned {
							return fmt.Errorf("%s billing mode is %s after the restore", region, mode)
						}
						if w := aws.ToInt64(table.ProvisionedThroughput.WriteCapacityUnits); w != 5 {
							return fmt.Errorf("%s table WCU = %d after the restore, want 5", region, w)
						}
					}
					return nil
				},
			},
		},
	})
}

// A region that is unknown at plan time (it comes from another resource) plans, and
// the checks run during apply.
func TestAccVersionUpgrade_unknownRegion(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions})
	config := acctest.ProviderConfig() + fmt.Sprintf(`
resource "terraform_data" "region" {
  input = "eu-west-1"
}

resource "ddbglobal_version_upgrade" "test" {
  global_table_name                          = %q
  region                                     = terraform_data.region.output
  acknowledge_replication_attributes_removal = true
  timeouts = { create = "1m" }
}
`, name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { acctest.ConsoleUpgrade(t, name, time.Second) },
			Config:    config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("region"), knownvalue.StringExact("eu-west-1")),
				statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
			},
		}},
	})
}

// A global table that is already current is imported, by name or NAME:REGION, and the
// configuration plans no change after; a legacy table is refused, with how to upgrade.
func TestAccVersionUpgrade_import(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-upg")
	createCurrentGlobalTable(t, name)
	legacy := acctest.RandomName("tf-acc-upg")
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: legacy, Regions: []string{"us-east-1", "eu-west-1"}})
	config := upgradeConfig(name, "")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             config,
				ResourceName:       upgradeAddr,
				ImportState:        true,
				ImportStateId:      name,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["version"] != "2019.11.21" || states[0].Attributes["replica_regions.#"] != "2" {
						return fmt.Errorf("imported %+v", states)
					}
					return nil
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config:        upgradeConfig(name, `  region = "eu-west-1"`),
				ResourceName:  upgradeAddr,
				ImportState:   true,
				ImportStateId: name + ":eu-west-1",
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["region"] != "eu-west-1" {
						return fmt.Errorf("imported %+v", states)
					}
					return nil
				},
			},
			{
				Config:        upgradeConfig(legacy, ""),
				ResourceName:  upgradeAddr,
				ImportState:   true,
				ImportStateId: legacy,
				ExpectError:   errorText("is still a legacy (2017.11.29) global table: there is no finished upgrade to import"),
			},
			{
				Config:        upgradeConfig(name, ""),
				ResourceName:  upgradeAddr,
				ImportState:   true,
				ImportStateId: "orders:Europe",
				ExpectError:   errorText(`import id "orders:Europe" must be GLOBAL_TABLE_NAME or GLOBAL_TABLE_NAME:REGION`),
			},
		},
	})
}
