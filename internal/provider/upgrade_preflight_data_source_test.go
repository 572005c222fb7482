package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

const preflightAddr = "data.ddbglobal_upgrade_preflight.test"

// The report shows every check with per-Region detail and what remediation would do,
// and changes nothing.
func TestAccUpgradePreflightDataSource_legacy(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-pre")
	regions := []string{"us-east-1", "eu-west-1"}
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: regions, Provisioned: true})
	enableTTL(t, "eu-west-1", name, "expiresAt")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
data "ddbglobal_upgrade_preflight" "test" {
  global_table_name = %q
  region            = "eu-west-1"
}
`, name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("version"), knownvalue.StringExact("2017.11.29")),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("upgrade_needed"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("ready"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("ready_after_remediation"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("replica_regions"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("eu-west-1"), knownvalue.StringExact("us-east-1"),
				})),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("prerequisites"), knownvalue.ListExact([]knownvalue.Check{
					preflightCheck("ttl", false, true, "enabled on attribute expiresAt in eu-west-1; disabled in us-east-1"),
					preflightCheck("gsi", true, false, "no global secondary indexes in any Region (eu-west-1, us-east-1)"),
					preflightCheck("encryption", true, false, "owned by DynamoDB (default) in every Region (eu-west-1, us-east-1)"),
					preflightCheck("capacity", false, true, "provisioned without WCU auto scaling on the table in every Region (eu-west-1, us-east-1)"),
					preflightCheck("replication_attributes", false, false, "not acknowledged: after the upgrade, new writes no longer carry aws:rep:deleting, aws:rep:updateregion, aws:rep:updatetime"),
				})),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("remediation"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("eu-west-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
					knownvalue.StringExact("us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)"),
					knownvalue.StringExact("us-east-1: enable TTL on attribute expiresAt"),
				})),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("instructions"), knownvalue.StringRegexp(
					errorText("dynamodb:UpdateGlobalTableVersion in every replica Region (eu-west-1, us-east-1)", "Choose Update version"))),
			},
		}, {
			// Acknowledged, with auto scaling as the capacity remedy.
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
data "ddbglobal_upgrade_preflight" "test" {
  global_table_name                          = %q
  acknowledge_replication_attributes_removal = true
  remediation_capacity_mode                  = "AUTOSCALING"
}
`, name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("ready"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("ready_after_remediation"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("remediation"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("eu-west-1: register WCU auto scaling on the table (5 to 100 units, target 70% utilization)"),
					knownvalue.StringExact("us-east-1: register WCU auto scaling on the table (5 to 100 units, target 70% utilization)"),
					knownvalue.StringExact("us-east-1: enable TTL on attribute expiresAt"),
				})),
			},
		}},
	})
	checkStillLegacy(t, name, regions)
	if ttl := ttlOf(t, "us-east-1", name); ttl != "DISABLED" {
		t.Errorf("TTL in us-east-1 is %s: the report must change nothing", ttl)
	}
}

func TestAccUpgradePreflightDataSource_current(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-pre")
	createCurrentGlobalTable(t, name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
data "ddbglobal_upgrade_preflight" "test" {
  global_table_name = %q
}
`, name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("upgrade_needed"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("ready"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("prerequisites"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue(preflightAddr, tfjsonpath.New("instructions"), knownvalue.StringExact("")),
			},
		}},
	})
}

func preflightCheck(name string, passed, fixable bool, detail string) knownvalue.Check {
	return knownvalue.ObjectPartial(map[string]knownvalue.Check{
		"name":    knownvalue.StringExact(name),
		"passed":  knownvalue.Bool(passed),
		"fixable": knownvalue.Bool(fixable),
		"detail":  knownvalue.StringExact(detail),
	})
}
