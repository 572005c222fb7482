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

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// A ddbglobal_version_upgrade whose region comes from a resource created in the same
// apply (unknown at plan time) plans cleanly. Catches: ModifyPlan replacing the
// unknown configured region with the provider's ("planned value does not match config
// value").
func TestAccVersionUpgrade_regionUnknownAtPlan(t *testing.T) {
	acctest.PreCheck(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
resource "aws_dynamodb_table" "music" {
  name         = %q
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }
}

resource "ddbglobal_version_upgrade" "music" {
  global_table_name = aws_dynamodb_table.music.name
  region            = aws_dynamodb_table.music.region # unknown until the table exists

  acknowledge_replication_attributes_removal = true
}
`, acctest.RandomName("tf-acc-upg")),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

// Bad replica settings are refused at plan, on the attribute that is wrong (Terraform
// then quotes that attribute's line), before anything changes. Catches: the read-back
// value of a malformed kms_key_arn replacing the configured one (a created, tainted
// replica), a GSI override naming a missing index ("planned set element does not
// correlate") and overrides on an on-demand table refused only by DynamoDB at apply.
func TestAccReplica_planRefusalsOnAttribute(t *testing.T) {
	acctest.PreCheck(t)
	onDemand := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: onDemand, HashKey: "pk"})

	cases := map[string]struct {
		config string
		want   []string
	}{
		"kms key not an ARN": {replicaConfig(onDemand, "eu-west-1", `  kms_key_arn = "not-an-arn"`),
			[]string{"invalid KMS key", `kms_key_arn = "not-an-arn"`, "must be a KMS key ARN, key id, alias name"}},
		"kms key in another Region": {replicaConfig(onDemand, "eu-west-1", `  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"`),
			[]string{"KMS key in another Region", "kms_key_arn", "is a key in us-east-1, but the replica is in eu-west-1"}},
		"read capacity on an on-demand table": {replicaConfig(onDemand, "eu-west-1", `  read_capacity_override = 5`),
			[]string{"read capacity override on an on-demand table", "read_capacity_override = 5", "uses on-demand (PAY_PER_REQUEST) billing"}},
		"override of a missing index": {replicaConfig(onDemand, "eu-west-1", `  global_secondary_index {
    name                   = "no-such-index"
    read_capacity_override = 5
  }`), []string{"unknown global secondary index", `has no global secondary index "no-such-index" (it has: none)`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: acctest.ErrorRegexp(tc.want...)}},
			})
		})
	}
	if got := replicaRegions(t, onDemand); len(got) > 0 {
		t.Errorf("refused plans added replicas %v", got)
	}
}

// addReplicaOutsideTerraform adds a replica with the SDK and waits until it is ACTIVE;
// the test's cleanup removes it.
func addReplicaOutsideTerraform(t *testing.T, table, region string) {
	t.Helper()
	ctx := context.Background()
	client := acctest.DynamoDB(t, acctest.Region)
	_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		ReplicaUpdates: []awstypes.ReplicationGroupUpdate{{Create: &awstypes.CreateReplicationGroupMemberAction{RegionName: aws.String(region)}}}})
	if err != nil {
		t.Fatalf("adding replica: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String(table),
			ReplicaUpdates: []awstypes.ReplicationGroupUpdate{{Delete: &awstypes.DeleteReplicationGroupMemberAction{RegionName: aws.String(region)}}}})
		_ = waitFor(time.Minute, func() error {
			if regions := replicaRegions(t, table); len(regions) > 0 {
				return fmt.Errorf("replicas left: %v", regions)
			}
			return nil
		})
	})
	if err := waitFor(time.Minute, func() error {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return err
		}
		for _, r := range out.Table.Replicas {
			if aws.ToString(r.RegionName) == region && r.ReplicaStatus == awstypes.ReplicaStatusActive {
				return nil
			}
		}
		return fmt.Errorf("replica in %s not ACTIVE yet", region)
	}); err != nil {
		t.Fatal(err)
	}
}

// A replica that already exists outside the state is only warned about at plan (a
// tainted resource being replaced is planned the same way) and refused at create, with
// the import command and nothing changed.
func TestAccReplica_existingReplicaRefusedAtCreate(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	addReplicaOutsideTerraform(t, table, "eu-west-1")
	before := describe(t, "eu-west-1", table)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: replicaConfig(table, "eu-west-1", `  tags = { team = "core" }`),
			ExpectError: acctest.ErrorRegexp("creating DynamoDB replica", "already has a replica in eu-west-1 (status ACTIVE)",
				"terraform import <address> "+table+":eu-west-1"),
		}},
	})
	after := describe(t, "eu-west-1", table)
	if aws.ToString(after.TableArn) != aws.ToString(before.TableArn) || !after.CreationDateTime.Equal(*before.CreationDateTime) {
		t.Errorf("the refused create replaced the replica")
	}
	tags, err := acctest.DynamoDB(t, "eu-west-1").ListTagsOfResource(context.Background(), &dynamodb.ListTagsOfResourceInput{ResourceArn: after.TableArn})
	if err != nil || len(tags.Tags) > 0 {
		t.Errorf("the refused create tagged the replica: %v %v", tags, err)
	}
}
