package acctest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
)

// The test binary doubles as a tiny table tool, so that configurations can create base
// tables with terraform_data and a local-exec provisioner (a stand-in for whatever
// else creates tables: a script, another tool) without any program outside the
// repository. TableCommandHCL writes the provisioners.

const tableCmdEnv = "DDBGLOBAL_ACC_TABLE_ACTION"

// runTableCommand runs the table tool when the environment asks for it; false otherwise.
func runTableCommand() (bool, int) {
	action := os.Getenv(tableCmdEnv)
	if action == "" {
		return false, 0
	}
	if err := tableCommand(action, os.Getenv("DDBGLOBAL_ACC_TABLE"), os.Getenv("DDBGLOBAL_ACC_REGION"),
		os.Getenv("DDBGLOBAL_ACC_HASH_KEY"), os.Getenv("DDBGLOBAL_ACC_ENDPOINT")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return true, 1
	}
	return true, 0
}

func tableCommand(action, table, region, hashKey, endpoint string) error {
	ctx := context.Background()
	cfg := awsclient.Config{Region: region, SkipCredentialsValidation: true}
	if endpoint != "" {
		cfg.AccessKey, cfg.SecretKey = localAccessKey, localSecretKey
		cfg.Endpoints.DynamoDB = endpoint
	}
	c, err := awsclient.New(ctx, cfg)
	if err != nil {
		return err
	}
	client := c.DynamoDB(region)
	switch action {
	case "create":
		_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(table),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(hashKey), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(hashKey), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil {
			return err
		}
		return dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute)
	case "delete":
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			return err
		}
		return dynamodb.NewTableNotExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 2*time.Minute)
	}
	return fmt.Errorf("unknown table action %q", action)
}

// TerraformDataTable is a terraform_data resource that creates an on-demand table
// (hash key of type S) when it is created and deletes it when it is destroyed.
func TerraformDataTable(t testing.TB, resourceName, table, region, hashKey string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := func(action string) string {
		return fmt.Sprintf(`{
      %s = %q
      DDBGLOBAL_ACC_TABLE       = %q
      DDBGLOBAL_ACC_REGION      = %q
      DDBGLOBAL_ACC_HASH_KEY    = %q
      DDBGLOBAL_ACC_ENDPOINT    = %q
    }`, tableCmdEnv, action, table, region, hashKey, backend.Endpoint)
	}
	return fmt.Sprintf(`
resource "terraform_data" %[1]q {
  input = %[2]q

  provisioner "local-exec" {
    command     = %[3]q
    environment = %[4]s
  }
  provisioner "local-exec" {
    when        = destroy
    command     = %[3]q
    environment = %[5]s
  }
}
`, resourceName, table, exe, env("create"), env("delete"))
}
