package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// makeStrong turns the empty table name in region into an MRSC global table with
// replicas in others (and a witness when witness is set), as aws_dynamodb_table
// would, and waits until every replica is ACTIVE. The replicas' tables are dropped
// when the test ends.
func makeStrong(t *testing.T, name, region string, others []string, witness string) {
	t.Helper()
	ctx := context.Background()
	c := acctest.DynamoDB(t, region)
	in := &dynamodb.UpdateTableInput{TableName: aws.String(name), MultiRegionConsistency: awstypes.MultiRegionConsistencyStrong}
	for _, r := range others {
		in.ReplicaUpdates = append(in.ReplicaUpdates, awstypes.ReplicationGroupUpdate{Create: &awstypes.CreateReplicationGroupMemberAction{RegionName: aws.String(r)}})
		t.Cleanup(func() {
			_, _ = acctest.DynamoDB(t, r).DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		})
	}
	if witness != "" {
		in.GlobalTableWitnessUpdates = []awstypes.GlobalTableWitnessGroupUpdate{{Create: &awstypes.CreateGlobalTableWitnessGroupMemberAction{RegionName: aws.String(witness)}}}
	}
	if _, err := c.UpdateTable(ctx, in); err != nil {
		t.Fatalf("making %s strongly consistent: %v", name, err)
	}
	waitReplicasActive(t, c, name, len(others))
}

func waitReplicasActive(t *testing.T, c *dynamodb.Client, name string, n int) {
	t.Helper()
	if err := waitFor(time.Minute, func() error {
		out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return err
		}
		active := 0
		for _, r := range out.Table.Replicas {
			if r.ReplicaStatus == awstypes.ReplicaStatusActive {
				active++
			}
		}
		for _, w := range out.Table.GlobalTableWitnesses {
			if w.WitnessStatus != awstypes.WitnessStatusActive {
				return fmt.Errorf("witness %s is %s", aws.ToString(w.RegionName), w.WitnessStatus)
			}
		}
		if active != n || out.Table.TableStatus != awstypes.TableStatusActive {
			return fmt.Errorf("%d of %d replicas ACTIVE, table %s", active, n, out.Table.TableStatus)
		}
		return nil
	}); err != nil {
		t.Fatalf("waiting for the replicas of %s: %v", name, err)
	}
}

// The data source reports an MRSC table's mode, its witness, and each replica's
// account and ARN; ddbglobal_replica refuses to add a Region to it at plan time,
// with guidance. Catches: MultiRegionConsistency or GlobalTableWitnesses not read
// (consistency_mode EVENTUAL, no witness), and the refusal dropped (the plan would
// succeed and the apply fail on DynamoDB's ValidationException).
func TestAccGlobalModes_strongConsistency(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	name := acctest.RandomName("tf-acc-mrsc")
	acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	makeStrong(t, name, "us-east-1", []string{"us-east-2"}, "us-west-2")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: tableDataSourceWithRegions(name, "us-east-1"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("consistency_mode"), knownvalue.StringExact("STRONG")),
					statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("multi_account"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("witnesses"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"region": knownvalue.StringExact("us-west-2"), "status": knownvalue.StringExact("ACTIVE")}),
					})),
					statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("replicas"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"region":     knownvalue.StringExact("us-east-2"),
							"account_id": knownvalue.StringExact("123456789012"),
							"arn":        knownvalue.StringExact("arn:aws:dynamodb:us-east-2:123456789012:table/" + name),
						}),
					})),
				},
			},
			{
				Config: acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_replica" "test" {
  table_name = %q
  region     = "eu-west-1"
}
`, name),
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("multi-Region strongly consistent (MRSC) global table", "never adds or removes its replicas one by one", "Moving a table that holds data into a strongly consistent global table"),
			},
		},
	})
}

// The data source of a multi-account global table's source lists the replica of
// the other account with that account and its ARN. Catches: the replica's account
// taken from the table's own ARN instead of ReplicaArn.
func TestAccGlobalModes_multiAccountDataSource(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	name := acctest.RandomName("tf-acc-ma-ds")
	src := acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	createMultiAccountReplica(t, name, aws.ToString(src.TableArn), dstAccount, "us-west-2")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: tableDataSourceWithRegions(name, "us-east-1"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("consistency_mode"), knownvalue.StringExact("EVENTUAL")),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("multi_account"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("replicas"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"region":     knownvalue.StringExact("us-west-2"),
						"account_id": knownvalue.StringExact(dstAccount),
						"arn":        knownvalue.StringExact("arn:aws:dynamodb:us-west-2:" + dstAccount + ":table/" + name),
						"status":     knownvalue.StringExact("ACTIVE"),
					}),
				})),
			},
		}},
	})
}

// replicationPolicy lets DynamoDB's replication service replicate tableArn for the
// given accounts (AWS's multi-account tutorial).
func replicationPolicy(tableArn string, accounts ...string) string {
	list := ""
	for i, a := range accounts {
		if i > 0 {
			list += ","
		}
		list += `"` + a + `"`
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["replication.dynamodb.amazonaws.com"]},` +
		`"Action":["dynamodb:ReadDataForReplication","dynamodb:WriteDataForReplication","dynamodb:ReplicateSettings"],` +
		`"Resource":"` + tableArn + `","Condition":{"StringEquals":{"aws:SourceAccount":[` + list + `]}}}]}`
}

// createMultiAccountReplica grants replication on the source (in the default
// account) and creates its replica in account, as the other account would.
func createMultiAccountReplica(t *testing.T, name, sourceArn, account, region string) {
	t.Helper()
	ctx := context.Background()
	srcRegion, srcAccount := arnRegion(sourceArn), "123456789012"
	if _, err := acctest.DynamoDB(t, srcRegion).PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(sourceArn),
		Policy: aws.String(replicationPolicy(sourceArn, srcAccount, account))}); err != nil {
		t.Fatal(err)
	}
	c := acctest.DynamoDBAs(t, account, region)
	replicaArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, name)
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:                          aws.String(name),
		AttributeDefinitions:               []awstypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: awstypes.ScalarAttributeTypeS}},
		KeySchema:                          []awstypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: awstypes.KeyTypeHash}},
		BillingMode:                        awstypes.BillingModePayPerRequest,
		GlobalTableSourceArn:               aws.String(sourceArn),
		GlobalTableSettingsReplicationMode: awstypes.GlobalTableSettingsReplicationModeEnabled,
		ResourcePolicy:                     aws.String(replicationPolicy(replicaArn, srcAccount, account)),
	})
	if err != nil {
		t.Fatalf("creating the replica in %s: %v", account, err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	waitReplicasActive(t, acctest.DynamoDB(t, srcRegion), name, 1)
}

func arnRegion(arn string) string { return strings.SplitN(arn, ":", 6)[3] }

// The guide's runbook: a table that holds data (and keeps being written) moves into
// an empty three-Region MRSC table created beforehand; after cutover every Region's
// replica equals the source item for item. Catches: the emulator's replicator
// stalling once the migration enables the source's stream in the target's Region
// (us-east-2 and us-west-2 stayed empty before reopenTrimmed), and an engine or plan
// check that refuses a global target.
func TestAccGlobalModes_migrationIntoStrongTable(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	f := migrationFixture{
		source: acctest.RandomName("tf-acc-mrsc-src"), target: acctest.RandomName("tf-acc-mrsc-dst"),
		srcRegion: "us-east-1", dstRegion: "us-east-1", checkpoint: acctest.RandomName("tf-acc-mrsc-ckpt"),
		sourceKey: "pk", targetKey: "pk", items: 120,
	}
	acctest.CreateTable(t, acctest.TableSpec{Name: f.source, HashKey: "pk"})
	acctest.CreateTable(t, acctest.TableSpec{Name: f.target, HashKey: "pk"})
	t.Cleanup(func() {
		_, _ = acctest.DynamoDB(t, f.dstRegion).DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(f.checkpoint)})
	})
	for i := 0; i < f.items; i += 25 {
		var reqs []awstypes.WriteRequest
		for j := i; j < min(i+25, f.items); j++ {
			reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: fixtureItem(j, 0)}})
		}
		writeAll(t, acctest.DynamoDB(t, f.srcRegion), f.source, reqs)
	}
	makeStrong(t, f.target, "us-east-1", []string{"us-east-2", "us-west-2"}, "")
	w := startWriter(t, f, 20)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             f.config(""),
				ExpectNonEmptyPlan: true, // the writer keeps writing
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("syncing")),
				},
			},
			{
				PreConfig: func() {
					w.halt()
					if w.err != nil {
						t.Fatalf("writer: %v", w.err)
					}
				},
				Config: f.config("  cutover = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("phase"), knownvalue.StringExact("completed")),
					statecheck.ExpectKnownValue(migrationAddress, tfjsonpath.New("verification").AtMapKey("mismatched_items"), knownvalue.Int64Exact(0)),
				},
				Check: func(*terraform.State) error {
					src := scanAll(t, acctest.DynamoDB(t, f.srcRegion), f.source)
					for _, region := range []string{"us-east-1", "us-east-2", "us-west-2"} {
						// Replication to the other Regions follows the writes: poll to a deadline.
						if err := waitFor(30*time.Second, func() error {
							dst := scanAll(t, acctest.DynamoDB(t, region), f.target)
							if len(dst) != len(src) {
								return fmt.Errorf("%s: %d items, source %d", region, len(dst), len(src))
							}
							for k, it := range src {
								if !migration.ItemsEqual(it, dst[k]) {
									return fmt.Errorf("%s: item %s differs", region, k)
								}
							}
							return nil
						}); err != nil {
							return err
						}
					}
					t.Logf("%d items in each of the three Regions (writer made %d changes)", len(src), w.ops.Load())
					return nil
				},
			},
		},
	})
}

// sourcePolicy is the source account's resource-based policy: the replication
// service for replicationAccounts, and dynamodb:DescribeTable and
// dynamodb:GetResourcePolicy for reader (so the replica's plan can check the source).
func sourcePolicy(tableArn, reader string, replicationAccounts ...string) string {
	list := ""
	for i, a := range replicationAccounts {
		if i > 0 {
			list += ","
		}
		list += `"` + a + `"`
	}
	read := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + reader + `:root"},"Action":["dynamodb:DescribeTable","dynamodb:GetResourcePolicy"],"Resource":"` + tableArn + `"}`
	if len(replicationAccounts) == 0 {
		return `{"Version":"2012-10-17","Statement":[` + read + `]}`
	}
	return `{"Version":"2012-10-17","Statement":[` + read + `,{"Effect":"Allow","Principal":{"Service":["replication.dynamodb.amazonaws.com"]},` +
		`"Action":["dynamodb:ReadDataForReplication","dynamodb:WriteDataForReplication","dynamodb:ReplicateSettings"],` +
		`"Resource":"` + tableArn + `","Condition":{"StringEquals":{"aws:SourceAccount":[` + list + `]}}}]}`
}

// A replica in a second account, declared with that account's provider
// configuration: refused at plan when the source's policy has no replication
// grant, refused by DynamoDB (the emulator) at apply when the grant leaves the
// account out; then created (the source's items reach the other account), its
// deletion outside Terraform seen as drift and repaired, imported, destroyed.
// Catches: a plan that does not read the source's policy (step 1 would plan), the
// replica created in the provider's default account instead of the aliased one
// (the item check reads account B), and a destroy that leaves B's table.
func TestAccReplica_otherAccount(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	ctx := context.Background()
	name := acctest.RandomName("tf-acc-xa-rep")
	src := acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	srcArn := aws.ToString(src.TableArn)
	srcClient := acctest.DynamoDB(t, "us-east-1")
	writeAll(t, srcClient, name, []awstypes.WriteRequest{{PutRequest: &awstypes.PutRequest{Item: fixtureItem(1, 0)}}})
	b := acctest.DynamoDBAs(t, dstAccount, "us-west-2")
	t.Cleanup(func() {
		_, _ = b.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	setPolicy := func(doc string) {
		if _, err := srcClient.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(srcArn), Policy: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	setPolicy(sourcePolicy(srcArn, dstAccount))
	// Only the aliased configuration: the harness serves every configuration of the
	// in-process provider from one server, where the last one configured would win.
	config := acctest.ProviderConfigAs("b", dstAccount, "us-west-2") + fmt.Sprintf(`
resource "ddbglobal_replica" "b" {
  provider         = ddbglobal.b
  table_name       = %q
  region           = "us-west-2"
  source_table_arn = %q
}
`, name, srcArn)
	const addr = "ddbglobal_replica.b"
	replicaArn := "arn:aws:dynamodb:us-west-2:" + dstAccount + ":table/" + name
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := b.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if apiCode(err) != "ResourceNotFoundException" {
				return fmt.Errorf("the replica table in account %s is still there after destroy: %v", dstAccount, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      config,
				PlanOnly:    true,
				ExpectError: acctest.ErrorRegexp("does not name", "replication.dynamodb.amazonaws.com"),
			},
			{
				// The grant names the source's account only: DynamoDB refuses the replica.
				PreConfig:   func() { setPolicy(sourcePolicy(srcArn, dstAccount, "123456789012")) },
				Config:      config,
				ExpectError: acctest.ErrorRegexp("does not allow replication.dynamodb.amazonaws.com", "for the new replica", "account "+dstAccount),
			},
			{
				PreConfig: func() { setPolicy(sourcePolicy(srcArn, dstAccount, "123456789012", dstAccount)) },
				Config:    config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("arn"), knownvalue.StringExact(replicaArn)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("source_region"), knownvalue.StringExact("us-east-1")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("global_table_version"), knownvalue.StringExact("2019.11.21")),
				},
				Check: func(*terraform.State) error {
					return waitFor(20*time.Second, func() error {
						out, err := b.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: map[string]awstypes.AttributeValue{"pk": &awstypes.AttributeValueMemberS{Value: "item-00001"}}})
						if err != nil || out.Item == nil {
							return fmt.Errorf("the source's item is not in account %s: %v", dstAccount, err)
						}
						return nil
					})
				},
			},
			{
				// Drift: the replica's table deleted in its account.
				PreConfig: func() {
					if _, err := b.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
						t.Fatal(err)
					}
					if err := waitFor(20*time.Second, func() error {
						_, err := b.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
						if apiCode(err) != "ResourceNotFoundException" {
							return fmt.Errorf("still there: %v", err)
						}
						return nil
					}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           name + ":us-west-2:" + srcArn,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}

// The published multi_account_replica module, used as its comment shows: the source
// account's aws provider writes the source's policy, the replica account's ddbglobal
// provider creates the replica there; destroyed cleanly.
func TestAccExamples_multiAccountReplicaModule(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t)
	acctest.UseEmulatorByEnvironment(t)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "ddbglobal")
	name := acctest.RandomName("tf-acc-xa-mod")
	src := acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	b := acctest.DynamoDBAs(t, dstAccount, "us-west-2")
	t.Cleanup(func() {
		_, _ = b.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	// The module as published, but for the source address of the in-process aws
	// provider (the harness serves every in-process provider in one namespace).
	published, err := os.ReadFile("../../examples/modules/multi_account_replica/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	module := t.TempDir()
	if err := os.WriteFile(filepath.Join(module, "main.tf"), []byte(strings.Replace(string(published), `source = "hashicorp/aws"`, `source = "ddbglobal/aws"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	replica := acctest.ProviderConfigAs("replica", dstAccount, "us-west-2")
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(fmt.Sprintf(`
terraform {
  required_providers {
    aws       = { source = "ddbglobal/aws" }
    ddbglobal = { source = "ddbglobal/ddbglobal" }
  }
}

provider "aws" {
  alias  = "source"
  region = "us-east-1"
}

%s
module "orders_in_b" {
  source             = %q
  providers          = { aws.source = aws.source, ddbglobal.replica = ddbglobal.replica }
  source_table_arn   = %q
  replica_region     = "us-west-2"
  replica_account_id = %q
}

output "replica_arn" {
  value = module.orders_in_b.replica_arn
}
`, replica, localModulePath(module), aws.ToString(src.TableArn), dstAccount)), 0o600); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{{
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory(root),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("replica_arn", knownvalue.StringExact("arn:aws:dynamodb:us-west-2:"+dstAccount+":table/"+name)),
			},
		}, {
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			ConfigDirectory:          config.StaticDirectory(root),
			Destroy:                  true,
		}},
	})
	if _, err := b.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("the replica in account %s is left after destroy: %v", dstAccount, err)
	}
}
