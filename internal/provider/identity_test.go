package provider_test

import (
	"fmt"
	"regexp"
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

// A replica made outside Terraform is taken over with an import block that gives the
// identity's required attributes only; the account is filled in from the credentials.
// An identity naming another account is refused before anything is read.
func TestAccIdentity_replicaImportBlock(t *testing.T) {
	acctest.PreCheck(t)
	acctest.UseIdentityTerraform(t)
	table := acctest.RandomName("tf-acc-ident")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	addReplicaOutsideTerraform(t, table, "eu-west-1")
	const address = "ddbglobal_replica.test"
	config := replicaConfig(table, "eu-west-1", "") + fmt.Sprintf(`
import {
  to       = ddbglobal_replica.test
  identity = { table_name = %q, region = "eu-west-1" }
}
`, table)

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
					statecheck.ExpectIdentity(address, map[string]knownvalue.Check{
						"table_name": knownvalue.StringExact(table),
						"region":     knownvalue.StringExact("eu-west-1"),
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
  region     = "eu-west-1"
}

import {
  to       = ddbglobal_replica.again
  identity = { table_name = %[1]q, region = "eu-west-1", account_id = "000000000000" }
}
`, table),
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("identity in another account", "The identity names account 000000000000"),
			},
		},
	}))
}

// A current global table's upgrade is imported by identity with the table name alone:
// the Region defaults to the provider's, and the identity records it.
func TestAccIdentity_versionUpgrade(t *testing.T) {
	acctest.PreCheck(t)
	acctest.UseIdentityTerraform(t)
	name := acctest.RandomName("tf-acc-ident")
	createCurrentGlobalTable(t, name)

	resource.Test(t, identityTestCase(resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: upgradeConfig(name, "") + fmt.Sprintf(`
import {
  to       = ddbglobal_version_upgrade.test
  identity = { global_table_name = %q }
}
`, name),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(upgradeAddr, plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(upgradeAddr, tfjsonpath.New("version"), knownvalue.StringExact("2019.11.21")),
					statecheck.ExpectIdentity(upgradeAddr, map[string]knownvalue.Check{
						"global_table_name": knownvalue.StringExact(name),
						"region":            knownvalue.StringExact(acctest.Region),
						"account_id":        accountID(),
					}),
				},
			},
			{
				ResourceName:    upgradeAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
		},
	}))
}

// A migration's identity is its two tables and its checkpoint table; importing it by
// identity plans a no-op import.
func TestAccIdentity_liveMigration(t *testing.T) {
	acctest.PreCheck(t)
	acctest.UseIdentityTerraform(t)
	f := newMigrationFixture(t, 20, "pk")

	resource.Test(t, identityTestCase(resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: f.config(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(migrationAddress, map[string]knownvalue.Check{
						"source_table_name": knownvalue.StringExact(f.source),
						"source_region":     knownvalue.StringExact(f.srcRegion),
						"target_table_name": knownvalue.StringExact(f.target),
						"target_region":     knownvalue.StringExact(f.dstRegion),
						"checkpoint_table":  knownvalue.StringExact(f.checkpoint),
						"account_id":        accountID(),
					}),
				},
			},
			{
				ResourceName:    migrationAddress,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
		},
	}))
}
