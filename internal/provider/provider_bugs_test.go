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
