package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// Composition: the base tables are created in the same apply as the replica and the
// migration into them, as users write it. At plan time the tables' names are known but
// the tables do not exist; the plan must warn, not fail, and Create must check again.
// Catches: a plan-time check that errors on a missing table (the first plan fails), and
// a Create that trusts a not-found result cached during the plan.
func TestAccComposition_tablesReplicaAndMigrationInOneApply(t *testing.T) {
	acctest.PreCheck(t)
	orders := acctest.RandomName("tf-acc-comp-orders")
	target := acctest.RandomName("tf-acc-comp-target")
	checkpoint := acctest.RandomName("tf-acc-comp-ckpt")
	source := newMigrationSource(t, 30)
	t.Cleanup(func() { deleteTable(t, "us-west-2", checkpoint) })

	config := acctest.ProviderConfig() + fmt.Sprintf(`
provider "aws" {
  region = "us-east-1"
}

resource "aws_dynamodb_table" "orders" {
  name             = %[1]q
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "customer"
  range_key        = "order"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "customer"
    type = "S"
  }
  attribute {
    name = "order"
    type = "S"
  }

  lifecycle {
    ignore_changes = [replica]
  }
}

resource "ddbglobal_replica" "eu" {
  table_name = aws_dynamodb_table.orders.name
  region     = "eu-west-1"
}

resource "aws_dynamodb_table" "target" {
  region       = "us-west-2"
  name         = %[2]q
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }
}

resource "ddbglobal_live_migration" "move" {
  source {
    table_name = %[3]q
    region     = "us-east-1"
  }
  target {
    table_name = aws_dynamodb_table.target.name
    region     = "us-west-2"
  }
  checkpoint_table = %[4]q
  cutover          = true
}
`, orders, target, source, checkpoint)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("ddbglobal_replica.eu", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction("ddbglobal_live_migration.move", plancheck.ResourceActionCreate),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("ddbglobal_replica.eu", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue("ddbglobal_live_migration.move", tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
				statecheck.ExpectKnownValue("ddbglobal_live_migration.move", tfjsonpath.New("verification").AtMapKey("target_items"), knownvalue.Int64Exact(30)),
			},
			Check: func(*terraform.State) error {
				if got := replicaRegions(t, orders); len(got) != 1 || got[0] != "eu-west-1" {
					return fmt.Errorf("replicas of %s = %v, want [eu-west-1]", orders, got)
				}
				if n := len(scanAll(t, acctest.DynamoDB(t, "us-west-2"), target)); n != 30 {
					return fmt.Errorf("target holds %d items, want 30", n)
				}
				return nil
			},
		}},
	})
}

// newMigrationSource is an existing on-demand table with items, keyed by pk.
func newMigrationSource(t *testing.T, items int) string {
	t.Helper()
	name := acctest.RandomName("tf-acc-comp-src")
	acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	var reqs []awstypes.WriteRequest
	for i := 0; i < items; i++ {
		reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: fixtureItem(i, 0)}})
		if len(reqs) == 25 || i == items-1 {
			writeAll(t, acctest.DynamoDB(t, acctest.Region), name, reqs)
			reqs = nil
		}
	}
	return name
}

func deleteTable(t *testing.T, region, name string) {
	_, _ = acctest.DynamoDB(t, region).DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
}

// The same composition with terraform_data stand-ins that create the tables (through a
// local-exec provisioner) instead of aws_dynamodb_table: the names are known at plan
// time (terraform_data's input), the tables appear only during the apply.
func TestAccComposition_terraformDataStandIns(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t) // the stand-ins' tool talks to the local endpoint
	orders := acctest.RandomName("tf-acc-comp-orders")
	target := acctest.RandomName("tf-acc-comp-target")
	checkpoint := acctest.RandomName("tf-acc-comp-ckpt")
	source := newMigrationSource(t, 12)
	t.Cleanup(func() { deleteTable(t, "us-west-2", checkpoint) })

	config := acctest.ProviderConfig() +
		acctest.TerraformDataTable(t, "orders", orders, acctest.Region, "pk") +
		acctest.TerraformDataTable(t, "target", target, "us-west-2", "pk") + fmt.Sprintf(`
resource "ddbglobal_replica" "eu" {
  table_name = terraform_data.orders.input
  region     = "eu-west-1"
}

resource "ddbglobal_live_migration" "move" {
  source {
    table_name = %[1]q
    region     = "us-east-1"
  }
  target {
    table_name = terraform_data.target.input
    region     = "us-west-2"
  }
  checkpoint_table = %[2]q
  cutover          = true
}
`, source, checkpoint)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			for region, table := range map[string]string{acctest.Region: orders, "us-west-2": target} {
				_, err := acctest.DynamoDB(t, region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
				var nf *awstypes.ResourceNotFoundException
				if !errors.As(err, &nf) {
					return fmt.Errorf("table %s in %s left after destroy (DescribeTable: %v)", table, region, err)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("ddbglobal_replica.eu", tfjsonpath.New("table_name"), knownvalue.StringExact(orders)),
					plancheck.ExpectKnownValue("ddbglobal_live_migration.move", tfjsonpath.New("target").AtMapKey("table_name"), knownvalue.StringExact(target)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("ddbglobal_replica.eu", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue("ddbglobal_live_migration.move", tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
				statecheck.ExpectKnownValue("ddbglobal_live_migration.move", tfjsonpath.New("verification").AtMapKey("target_items"), knownvalue.Int64Exact(12)),
			},
		}},
	})
}

// A table that still does not exist when the resource is created is refused then, with
// the plan-time message, and nothing is changed.
func TestAccComposition_missingTableRefusedAtApply(t *testing.T) {
	acctest.PreCheck(t)
	source := newMigrationSource(t, 1)
	checkpoint := acctest.RandomName("tf-acc-comp-ckpt")
	t.Cleanup(func() { deleteTable(t, "eu-west-1", checkpoint) })
	cases := map[string]struct {
		config string
		want   []string
	}{
		"replica of a missing table": {replicaConfig("tf-acc-no-such-table", "eu-west-1", ""),
			[]string{"creating DynamoDB replica", `Table "tf-acc-no-such-table" does not exist in us-east-1`, "Create it first"}},
		"migration into a missing target": {acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_live_migration" "test" {
  source {
    table_name = %q
    region     = "us-east-1"
  }
  target {
    table_name = "tf-acc-no-such-target"
    region     = "eu-west-1"
  }
  checkpoint_table = %q
}
`, source, checkpoint), []string{"creating DynamoDB live migration", `Table "tf-acc-no-such-target" does not exist in eu-west-1`, "Create the target table first"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: tc.config, ExpectError: acctest.ErrorRegexp(tc.want...)}},
			})
		})
	}
	_, err := acctest.DynamoDB(t, "eu-west-1").DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(checkpoint)})
	var nf *awstypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("a refused migration created its checkpoint table (DescribeTable: %v)", err)
	}
}

// A module that owns a table and its replicas, instantiated with for_each for two tables
// in one apply, as users package global tables: the replicas' table names come from
// the module's aws_dynamodb_table, and their number from a variable. Catches: anything
// in the plan-time checks that assumes one table per configuration or a table that
// exists before the apply.
func TestAccComposition_moduleWithForEach(t *testing.T) {
	acctest.PreCheck(t)
	orders := acctest.RandomName("tf-acc-mod-orders")
	users := acctest.RandomName("tf-acc-mod-users")
	module := t.TempDir()
	if err := os.WriteFile(filepath.Join(module, "main.tf"), []byte(`
variable "name" {
  type = string
}

variable "regions" {
  type = set(string)
}

resource "aws_dynamodb_table" "this" {
  name             = var.name
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "pk"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "pk"
    type = "S"
  }

  lifecycle {
    ignore_changes = [replica]
  }
}

resource "ddbglobal_replica" "this" {
  for_each   = var.regions
  table_name = aws_dynamodb_table.this.name
  region     = each.value
}

output "replica_ids" {
  value = sort([for r in ddbglobal_replica.this : r.id])
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	rootConfig := acctest.ProviderConfig() + fmt.Sprintf(`
provider "aws" {
  region = "us-east-1"
}

module "global_table" {
  source   = %q
  for_each = {
    orders = { name = %q, regions = ["eu-west-1", "ap-northeast-1"] }
    users  = { name = %q, regions = ["eu-west-1"] }
  }

  name    = each.value.name
  regions = each.value.regions
}

output "replica_ids" {
  value = { for k, m in module.global_table : k => m.replica_ids }
}
`, localModulePath(module), orders, users)
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(rootConfig), 0o600); err != nil {
		t.Fatal(err)
	}

	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{{
			// The harness's terraform init sees the configuration (and installs its
			// modules) only for a step with its own providers and a configuration
			// directory; a Config string is written after init.
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory(root),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(`module.global_table["orders"].ddbglobal_replica.this["ap-northeast-1"]`, plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(`module.global_table["users"].ddbglobal_replica.this["eu-west-1"]`, plancheck.ResourceActionCreate),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("replica_ids", knownvalue.MapExact(map[string]knownvalue.Check{
					"orders": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(orders + ":ap-northeast-1"), knownvalue.StringExact(orders + ":eu-west-1")}),
					"users":  knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(users + ":eu-west-1")}),
				})),
			},
		}, {
			// The harness cannot read a state with modules into its legacy form (for Check,
			// CheckDestroy and its final destroy): the remote checks run here, and an
			// explicit destroy leaves it an empty state.
			PreConfig: func() {
				if got := replicaRegions(t, orders); len(got) != 2 {
					t.Errorf("replicas of %s = %v, want two", orders, got)
				}
				if got := replicaRegions(t, users); len(got) != 1 || got[0] != "eu-west-1" {
					t.Errorf("replicas of %s = %v, want [eu-west-1]", users, got)
				}
			},
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory(root),
			Destroy:                  true,
		}},
	})
	for _, table := range []string{orders, users} {
		_, err := acctest.DynamoDB(t, acctest.Region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var notFound *awstypes.ResourceNotFoundException
		if !errors.As(err, &notFound) {
			t.Errorf("table %s left after destroy (DescribeTable: %v)", table, err)
		}
	}
}

// localModulePath is a local module source (./ or ../, as Terraform requires) that
// reaches the absolute directory dir from wherever the test's working directory is:
// enough ../ to climb to the root, then dir. The test harness copies no directories
// into its working directory, so the module cannot sit next to the configuration.
func localModulePath(dir string) string {
	return strings.Repeat("../", 64) + strings.TrimPrefix(filepath.ToSlash(dir), "/")
}
