package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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

// The published ddbglobal_replica example, applied exactly as written (the table and
// the replica in one apply, no provider block: the environment points at the
// emulator), plans empty afterwards and is destroyed cleanly.
func TestAccExamples_replica(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t) // the example's names are fixed: not for a shared real account
	acctest.UseEmulatorByEnvironment(t)
	const address = "ddbglobal_replica.tokyo"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			for _, region := range []string{acctest.Region, "ap-northeast-1"} {
				_, err := acctest.DynamoDB(t, region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
				var notFound *awstypes.ResourceNotFoundException
				if !errors.As(err, &notFound) {
					return fmt.Errorf("table orders in %s left after destroy (DescribeTable: %v)", region, err)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{{
			ConfigDirectory: config.StaticDirectory("../../examples/resources/ddbglobal_replica"),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue(address, tfjsonpath.New("point_in_time_recovery"), knownvalue.Bool(true)),
			},
		}},
	})
}

// The published global_table module, used as its comment shows, from a configuration
// that requires the provider by its published source address (ddbglobal/ddbglobal).
func TestAccExamples_globalTableModule(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	acctest.UseEmulatorByEnvironment(t)
	// The harness serves the in-process providers under this namespace.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "ddbglobal")
	table := acctest.RandomName("tf-acc-example")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	module, err := filepath.Abs("../../examples/modules/global_table")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(fmt.Sprintf(`
terraform {
  required_providers {
    ddbglobal = {
      source = "ddbglobal/ddbglobal"
    }
  }
}

module "orders_global" {
  source     = %q
  table_name = %q
  regions    = ["eu-west-1", "ap-northeast-1"]
}

output "replica_arns" {
  value = module.orders_global.replica_arns
}
`, localModulePath(module), table)), 0o600); err != nil {
		t.Fatal(err)
	}
	arn := func(region string) knownvalue.Check {
		return knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:dynamodb:` + region + `:\d{12}:table/` + table + `$`))
	}
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{{
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory(root),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("replica_arns", knownvalue.MapExact(map[string]knownvalue.Check{
					"eu-west-1": arn("eu-west-1"), "ap-northeast-1": arn("ap-northeast-1"),
				})),
			},
		}, {
			// A state with modules cannot be read by the harness's final checks: destroy here.
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory(root),
			Destroy:                  true,
		}},
	})
	if got := replicaRegions(t, table); len(got) > 0 {
		t.Errorf("replicas left after destroy: %v", got)
	}
}

// The published ddbglobal_live_migration example, applied as written into its new
// table (created in the same apply) from an existing "orders" table: the migration is
// in sync after the apply and plans empty.
func TestAccExamples_liveMigration(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	acctest.UseEmulatorByEnvironment(t)
	acctest.CreateTable(t, acctest.TableSpec{Name: "orders", HashKey: "id", StreamView: awstypes.StreamViewTypeNewAndOldImages})
	src := acctest.DynamoDB(t, acctest.Region)
	for i := 0; i < 5; i++ {
		if _, err := src.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]awstypes.AttributeValue{
			"id":         &awstypes.AttributeValueMemberS{Value: fmt.Sprintf("order-%d", i)},
			"updatedAt":  &awstypes.AttributeValueMemberN{Value: "1700000000"},
			"legacyFlag": &awstypes.AttributeValueMemberBOOL{Value: true},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	const address = "ddbglobal_live_migration.orders_v2"
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{{
			// On the step: the example has a provider block of its own.
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory("../../examples/resources/ddbglobal_live_migration"),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(address, tfjsonpath.New("items_copied"), knownvalue.Int64Exact(5)),
			},
			Check: func(*terraform.State) error {
				items := scanAll(t, acctest.DynamoDB(t, "eu-west-1"), "orders-v2")
				if len(items) != 5 {
					return fmt.Errorf("orders-v2 holds %d items, want 5", len(items))
				}
				for _, item := range items {
					if _, ok := item["pk"]; !ok {
						return fmt.Errorf("item %v has no pk: the example's rename did not apply", item)
					}
					if _, ok := item["legacyFlag"]; ok {
						return fmt.Errorf("item %v kept legacyFlag, which the example drops", item)
					}
				}
				return nil
			},
		}},
	})
}
