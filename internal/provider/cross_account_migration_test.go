package provider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

const (
	srcAccount = "111111111111"
	dstAccount = "222222222222"
)

// createTableAs makes a table in another emulated account and drops it when the test ends.
func createTableAs(t *testing.T, c *dynamodb.Client, name, hashKey string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []awstypes.AttributeDefinition{{AttributeName: aws.String(hashKey), AttributeType: awstypes.ScalarAttributeTypeS}},
		KeySchema:            []awstypes.KeySchemaElement{{AttributeName: aws.String(hashKey), KeyType: awstypes.KeyTypeHash}},
		BillingMode:          awstypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
}

// A migration from a table of one account into a table of another, each side
// through a role of its own account, across the emulator's account boundary:
// with the roles swapped the emulator itself refuses (each role sees only its own
// account's tables, and the other account's table by ARN is denied without a
// resource-based policy); with the right roles every item arrives. Catches: an
// emulator that lets any credentials see every table (the swapped apply would
// succeed), and an engine that reads the source with the target's role.
func TestAccLiveMigration_crossAccountRoles(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	ctx := context.Background()
	source, target, checkpoint := acctest.RandomName("tf-acc-xa-src"), acctest.RandomName("tf-acc-xa-dst"), acctest.RandomName("tf-acc-xa-ckpt")
	srcRegion, dstRegion := acctest.Region, "eu-west-1"
	src, dst := acctest.DynamoDBAs(t, srcAccount, srcRegion), acctest.DynamoDBAs(t, dstAccount, dstRegion)
	createTableAs(t, src, source, "pk")
	createTableAs(t, dst, target, "pk")
	t.Cleanup(func() {
		_, _ = dst.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(checkpoint)})
	})
	var reqs []awstypes.WriteRequest
	for i := 0; i < 30; i++ {
		reqs = append(reqs, awstypes.WriteRequest{PutRequest: &awstypes.PutRequest{Item: fixtureItem(i, 0)}})
	}
	writeAll(t, src, source, reqs[:25])
	writeAll(t, src, source, reqs[25:])

	// The boundary itself: the target account's credentials neither see the source
	// by name nor read it by ARN.
	_, err := acctest.DynamoDBAs(t, dstAccount, srcRegion).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(source)})
	if code := apiCode(err); code != "ResourceNotFoundException" {
		t.Fatalf("the target account sees the source table by name: %v", err)
	}
	srcARN := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", srcRegion, srcAccount, source)
	_, err = acctest.DynamoDBAs(t, dstAccount, srcRegion).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(srcARN)})
	if code := apiCode(err); code != "AccessDeniedException" {
		t.Fatalf("the target account reads the source table by ARN: %v", err)
	}

	srcRole, dstRole := "arn:aws:iam::"+srcAccount+":role/reader", "arn:aws:iam::"+dstAccount+":role/writer"
	config := func(srcRole, dstRole string) string {
		return acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_live_migration" "test" {
  source {
    table_name = %q
    region     = %q
    role_arn   = %q
  }
  target {
    table_name = %q
    region     = %q
    role_arn   = %q
  }
  checkpoint_table = %q
  cutover          = true
}
`, source, srcRegion, srcRole, target, dstRegion, dstRole, checkpoint)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Swapped: the source read with the target account's role.
				Config:      config(dstRole, srcRole),
				ExpectError: acctest.ErrorRegexp(source),
			},
			{
				Config: config(srcRole, dstRole),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(migrationAddress, "phase", "completed"),
					resource.TestCheckResourceAttr(migrationAddress, "verification.source_items", "30"),
					func(*terraform.State) error {
						// The swapped attempt did reach the emulator as the wrong account.
						if emu.RoleCalls(emulator.Scope(srcRegion, dstAccount), source)[dstRole] == 0 {
							return fmt.Errorf("the swapped apply never asked the emulator for the source as the target's role: %v",
								emu.RoleCalls(emulator.Scope(srcRegion, dstAccount), source))
						}
						a, b := scanAll(t, src, source), scanAll(t, dst, target)
						if len(a) != 30 || len(b) != 30 {
							return fmt.Errorf("source has %d items, target %d", len(a), len(b))
						}
						for k, it := range a {
							if !migration.ItemsEqual(it, b[k]) {
								return fmt.Errorf("item %s differs in the target account", k)
							}
						}
						return nil
					},
				),
			},
		},
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}
