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

// tableDataSourceWithRegions is the README's usage: the table's replica Regions as an
// output, read in region.
func tableDataSourceWithRegions(name, region string) string {
	return acctest.ProviderConfig() + fmt.Sprintf(`
data "ddbglobal_table" "test" {
  name   = %q
  region = %q
}

output "regions" {
  value = [for r in data.ddbglobal_table.test.replicas : r.region]
}
`, name, region)
}

// A current (2019.11.21) global table seen from each of its two Regions: each lists
// the other as an ACTIVE replica, with the version and not legacy.
//
// Catches: replicas read from the wrong field, or the table's own Region listed;
// global_table_version not taken from DescribeTable; a current table reported legacy.
func TestAccTableDataSource_globalTable(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-ds-global")
	createCurrentGlobalTable(t, name) // us-east-1 with a replica in eu-west-1

	steps := []resource.TestStep{}
	for _, view := range []struct{ region, other string }{{"us-east-1", "eu-west-1"}, {"eu-west-1", "us-east-1"}} {
		steps = append(steps, resource.TestStep{
			Config: tableDataSourceWithRegions(name, view.region),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("region"), knownvalue.StringExact(view.region)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("global_table_version"), knownvalue.StringExact("2019.11.21")),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("is_legacy_global_table"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("replicas"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"region": knownvalue.StringExact(view.other),
						"status": knownvalue.StringExact("ACTIVE"),
					}),
				})),
				statecheck.ExpectKnownOutputValue("regions", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(view.other)})),
			},
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories, Steps: steps})
}

// A legacy (2017.11.29) global table: the data source finds the legacy global table
// (DescribeGlobalTable) and reports it as such, what ddbglobal_version_upgrade
// upgrades, with the version and the other member as DescribeGlobalTable lists it
// (DescribeTable lists no replicas for a legacy member).
//
// Catches: is_legacy_global_table not looked up (DescribeGlobalTable skipped), or the
// version left empty for a legacy table.
func TestAccTableDataSource_legacyGlobalTable(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-ds-legacy")
	acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: name, Regions: []string{"us-east-1", "eu-west-1"}})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: tableDataSourceWithRegions(name, "eu-west-1"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("global_table_version"), knownvalue.StringExact("2017.11.29")),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("is_legacy_global_table"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("replicas"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{"region": knownvalue.StringExact("us-east-1"), "status": knownvalue.StringExact("ACTIVE")}),
				})),
				statecheck.ExpectKnownOutputValue("regions", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("us-east-1")})),
			},
		}},
	})
}
