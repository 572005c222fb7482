package provider_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// A table encrypted with a customer managed key gets a replica encrypted with the key
// named for the replica's Region: the key reaches the replica's table (read back in
// that Region), the source keeps its own key, and the next plan is empty.
//
// Catches: kms_key_arn not sent with the replica create (in Create,
// KMSMasterKeyId left out), or read back from the source Region's table.
func TestAccReplica_kmsKey(t *testing.T) {
	acctest.PreCheck(t)
	acctest.Emulator(t) // a customer managed key ARN that the emulator accepts as it is
	table := acctest.RandomName("tf-acc-replica-kms")
	const sourceKey = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	const replicaKey = "arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000"
	ctx := context.Background()
	src := acctest.DynamoDB(t, acctest.Region)
	if _, err := src.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []awstypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: awstypes.ScalarAttributeTypeS}},
		KeySchema:            []awstypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: awstypes.KeyTypeHash}},
		BillingMode:          awstypes.BillingModePayPerRequest,
		SSESpecification:     &awstypes.SSESpecification{Enabled: aws.Bool(true), SSEType: awstypes.SSETypeKms, KMSMasterKeyId: aws.String(sourceKey)},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = src.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	keyOf := func(region string) (string, error) {
		out, err := acctest.DynamoDB(t, region).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return "", err
		}
		if out.Table.SSEDescription == nil {
			return "", nil
		}
		return aws.ToString(out.Table.SSEDescription.KMSMasterKeyArn), nil
	}
	config := replicaConfig(table, "eu-west-1", fmt.Sprintf("  kms_key_arn = %q", replicaKey))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("ddbglobal_replica.test", tfjsonpath.New("kms_key_arn"), knownvalue.StringExact(replicaKey)),
				statecheck.ExpectKnownValue("ddbglobal_replica.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
			},
			Check: func(*terraform.State) error {
				for region, want := range map[string]string{"eu-west-1": replicaKey, acctest.Region: sourceKey} {
					got, err := keyOf(region)
					if err != nil {
						return err
					}
					if got != want {
						return fmt.Errorf("the table in %s is encrypted with %q, want %q", region, got, want)
					}
				}
				return nil
			},
		}},
	})
}
