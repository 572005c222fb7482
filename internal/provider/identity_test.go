package provider_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// Resource identity needs Terraform 1.12 or later: these tests run on the one
// acctest.UseIdentityTerraform finds (DDBGLOBAL_TF_IDENTITY_PATH in `make test`), and
// skip, saying so, without one. The rest of the suite runs on an older Terraform and
// so checks that nothing depends on identities.

// accountID is the account the identities must name: the emulator's, or any account
// against real AWS.
func accountID() knownvalue.Check {
	if acctest.RealAWS() {
		return knownvalue.StringRegexp(regexp.MustCompile(`^\d{12}$`))
	}
	return knownvalue.StringExact(emulator.AccountID)
}

// identityTestCase is a TestCase on a Terraform with resource identity (the test has
// called acctest.UseIdentityTerraform before making its fixtures).
func identityTestCase(tc resource.TestCase) resource.TestCase {
	tc.ProtoV6ProviderFactories = acctest.ProtoV6ProviderFactories
	tc.TerraformVersionChecks = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)}
	return tc
}

// A created replica records its identity (table, Region and the credentials' account),
// and an import block with that identity plans a no-op import.
func TestAccIdentity_replica(t *testing.T) {
	acctest.PreCheck(t)
	acctest.UseIdentityTerraform(t)
	table := acctest.RandomName("tf-acc-ident")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	const address = "ddbglobal_replica.test"

	resource.Test(t, identityTestCase(resource.TestCase{
		CheckDestroy: checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: replicaConfig(table, "eu-west-1", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(address, map[string]knownvalue.Check{
						"table_name": knownvalue.StringExact(table),
						"region":     knownvalue.StringExact("eu-west-1"),
						"account_id": accountID(),
					}),
					statecheck.ExpectIdentityValueMatchesState(address, tfjsonpath.New("table_name")),
					statecheck.ExpectIdentityValueMatchesState(address, tfjsonpath.New("region")),
				},
			},
			{
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
			{
				// And by id, in an import block as in `terraform import`.
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   table + ":eu-west-1",
			},
		},
	}))
}

// identityExample is a published import-by-identity example with its table names
// replaced by the test's, after the tests' provider block.
func identityExample(t *testing.T, resourceType string, names map[string]string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/resources/" + resourceType + "/import-by-identity/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	config := string(b)
	for published, name := range names {
		// Attribute values only, not resource names.
		if !strings.Contains(config, "= "+strconv.Quote(published)) {
			t.Fatalf("the %s example names no table %q", resourceType, published)
		}
		config = strings.ReplaceAll(config, "= "+strconv.Quote(published), "= "+strconv.Quote(name))
	}
	return acctest.ProviderConfig() + config
}

// A replica made outside Terraform is taken over by the published import block, which
// gives the identity's required attributes only; the account is filled in from the
// credentials. An identity naming another account is refused before anything is read.
func TestAccIdentity_replicaImportBlock(t *testing.T) {
	acctest.PreCheck(t)
	acctest.UseIdentityTerraform(t)
	table := acctest.RandomName("tf-acc-ident")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	addReplicaOutsideTerraform(t, table, "ap-northeast-1")
	const address = "ddbglobal_replica.tokyo"
	config := identityExample(t, "ddbglobal_replica", map[string]string{"orders": table})

	resource.Test(t, identityTestCase(resource.TestCase{
		CheckDestroy: checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					// account_id catches an import that keeps the import block's
					// identity, without the attributes it left out.
					statecheck.ExpectIdentity(address, map[string]knownvalue.Check{
						"table_name": knownvalue.StringExact(table),
						"region":     knownvalue.StringExact("ap-northeast-1"),
						"account_id": accountID(),
					}),
				},
			},
			{
				// Catches a provider that ignores account_id and imports whatever
				// has the name in its own account.
				Config: config + fmt.Sprintf(`
resource "ddbglobal_replica" "again" {
  table_name = %[1]q
  region     = "ap-northeast-1"
}

import {
  to       = ddbglobal_replica.again
  identity = { table_name = %[1]q, region = "ap-northeast-1", account_id = "000000000000" }
}
`, table),
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("identity in another account", "The identity names account 000000000000"),
			},
		},
	}))
}

// A current global table's upgrade is imported by the published import block (with a
// Region), and by an identity with the table name alone, whose Region is the provider's.
func TestAccIdentity_versionUpgrade(t *testing.T) {
	acctest.PreCheck(t)
	acctest.UseIdentityTerraform(t)
	name := acctest.RandomName("tf-acc-ident")
	createCurrentGlobalTable(t, name)
	const address = "ddbglobal_version_upgrade.orders"
	config := identityExample(t, "ddbglobal_version_upgrade", map[string]string{"orders": name})

	resource.Test(t, identityTestCase(resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectIdentity(address, map[string]knownvalue.Check{
						"global_table_name": knownvalue.StringExact(name),
						"region":            knownvalue.StringExact("eu-west-1"),
						"account_id":        accountID(),
					}),
				},
			},
			{
				Config: config + fmt.Sprintf(`
resource "ddbglobal_version_upgrade" "default_region" {
  global_table_name                          = %[1]q
  acknowledge_replication_attributes_removal = true
}

import {
  to       = ddbglobal_version_upgrade.default_region
  identity = { global_table_name = %[1]q }
}
`, name),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("ddbglobal_version_upgrade.default_region", map[string]knownvalue.Check{
						"global_table_name": knownvalue.StringExact(name),
						"region":            knownvalue.StringExact(acctest.Region),
						"account_id":        accountID(),
					}),
				},
			},
			{
				// The configuration without its import blocks: the step adds its own.
				Config: acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_version_upgrade" "orders" {
  global_table_name                          = %q
  region                                     = "eu-west-1"
  acknowledge_replication_attributes_removal = true
}
`, name),
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
		},
	}))
}

// A migration's identity is its two tables and its checkpoint table. The published
// import block (the default checkpoint table) takes over a migration that another
// configuration started and forgot; importing by the full identity plans a no-op.
func TestAccIdentity_liveMigration(t *testing.T) {
	acctest.PreCheck(t)
	acctest.UseIdentityTerraform(t)
	f := newMigrationFixture(t, 20, "pk")
	const address = "ddbglobal_live_migration.orders_v2"
	started := acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_live_migration" "first" {
  source {
    table_name = %q
    region     = %q
  }
  target {
    table_name = %q
    region     = %q
  }
}
`, f.source, f.srcRegion, f.target, f.dstRegion)
	example := identityExample(t, "ddbglobal_live_migration", map[string]string{"orders": f.source, "orders-v2": f.target})

	resource.Test(t, identityTestCase(resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: started,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("ddbglobal_live_migration.first", tfjsonpath.New("phase"), knownvalue.StringExact("syncing")),
				},
			},
			{
				// The first configuration lets go of the migration without
				// destroying it; the example takes it over.
				Config: example + `
removed {
  from = ddbglobal_live_migration.first
  lifecycle {
    destroy = false
  }
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("phase"), knownvalue.StringExact("syncing")),
					statecheck.ExpectIdentity(address, map[string]knownvalue.Check{
						"source_table_name": knownvalue.StringExact(f.source),
						"source_region":     knownvalue.StringExact(f.srcRegion),
						"target_table_name": knownvalue.StringExact(f.target),
						"target_region":     knownvalue.StringExact(f.dstRegion),
						"checkpoint_table":  knownvalue.StringExact("ddbglobal-migrations"),
						"account_id":        accountID(),
					}),
				},
			},
			{
				// The configuration without its import block: the step adds its own.
				Config:          strings.Replace(started, `"first"`, `"orders_v2"`, 1),
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
		},
	}))
}
