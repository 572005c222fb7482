package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// A table whose stream is KEYS_ONLY takes a replica, and the stream stays KEYS_ONLY in
// both Regions, as on AWS (hashicorp/aws's TestAccDynamoDBTable_Replica_singleStreamSpecification).
// Catches the plan-time refusal of such a table (removed: DynamoDB accepts it) and a
// replica create that changes the view type.
func TestAccReplica_keysOnlyStream(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk", StreamView: awstypes.StreamViewTypeKeysOnly})
	const address = "ddbglobal_replica.test"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{{
			Config: replicaConfig(table, "eu-west-1", ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionCreate)},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(address, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue(address, tfjsonpath.New("stream_arn"), knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:dynamodb:eu-west-1:\d{12}:table/`+table+`/stream/`))),
			},
			Check: func(*terraform.State) error {
				for _, region := range []string{acctest.Region, "eu-west-1"} {
					out, err := acctest.DynamoDB(t, region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
					if err != nil {
						return err
					}
					if s := out.Table.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != awstypes.StreamViewTypeKeysOnly {
						return fmt.Errorf("stream of %s in %s = %+v, want KEYS_ONLY kept", table, region, s)
					}
				}
				return nil
			},
		}},
	})
}

// A table encrypted with a customer managed key gets two replicas in one apply, each
// with a key of its own Region (one named by key ARN, one by alias); DynamoDB reports
// each replica's key as the key's ARN. The keys exist in the emulator's KMS, which
// refuses made-up or disabled keys. Catches a replica sent another Region's key, and an
// alias stored in place of the configured value (an inconsistent result).
func TestAccReplica_customerManagedKeyPerRegion(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	eastKey := acctest.CreateKMSKey(t, acctest.Region)
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk", KMSKeyID: eastKey})
	westKey := acctest.CreateKMSKey(t, "eu-west-1")
	tokyoKey := acctest.CreateKMSKey(t, "ap-northeast-1")
	alias := "alias/" + table
	tokyoKMS := acctest.AWS(t).KMS("ap-northeast-1")
	if _, err := tokyoKMS.CreateAlias(context.Background(), &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(tokyoKey)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = tokyoKMS.DeleteAlias(context.Background(), &kms.DeleteAliasInput{AliasName: aws.String(alias)})
	})
	config := acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_replica" "west" {
  table_name  = %[1]q
  region      = "eu-west-1"
  kms_key_arn = %[2]q
}

resource "ddbglobal_replica" "tokyo" {
  table_name  = %[1]q
  region      = "ap-northeast-1"
  kms_key_arn = %[3]q
}
`, table, westKey, alias)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("ddbglobal_replica.west", tfjsonpath.New("kms_key_arn"), knownvalue.StringExact(westKey)),
				statecheck.ExpectKnownValue("ddbglobal_replica.tokyo", tfjsonpath.New("kms_key_arn"), knownvalue.StringExact(alias)),
				statecheck.ExpectKnownValue("ddbglobal_replica.tokyo", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
			},
			Check: func(*terraform.State) error {
				want := map[string]string{acctest.Region: eastKey, "eu-west-1": westKey, "ap-northeast-1": tokyoKey}
				for region, key := range want {
					out, err := acctest.DynamoDB(t, region).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
					if err != nil {
						return err
					}
					if sse := out.Table.SSEDescription; sse == nil || aws.ToString(sse.KMSMasterKeyArn) != key {
						return fmt.Errorf("key of %s in %s = %+v, want %s", table, region, sse, key)
					}
				}
				return nil
			},
		}},
	})
}
