package acctest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
)

// RandomName is a table name unique to one test run, with a readable prefix.
func RandomName(prefix string) string {
	return fmt.Sprintf("%s-%s", prefix, strings.ToLower(acctest.RandString(8)))
}

// TableSpec describes a fixture table.
type TableSpec struct {
	Name       string
	Region     string // default Region when empty
	HashKey    string // type S
	RangeKey   string // optional, type S
	StreamView types.StreamViewType
	// Provisioned selects PROVISIONED billing with 5/5 units; default is PAY_PER_REQUEST.
	Provisioned bool
	// KMSKeyID encrypts the table with that KMS key; empty means the AWS owned key.
	KMSKeyID string
	// WarmWrite pre-warms the table to that many write units per second.
	WarmWrite int64
	// GSI adds a global secondary index of that name on a string attribute "gsi_pk"
	// (5/5 units on a provisioned table).
	GSI string
}

// CreateTable makes a table, waits until it is ACTIVE and deletes it when the test ends.
func CreateTable(t testing.TB, spec TableSpec) *types.TableDescription {
	t.Helper()
	ctx := context.Background()
	client := DynamoDB(t, spec.Region)
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(spec.Name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(spec.HashKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(spec.HashKey), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if spec.RangeKey != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(spec.RangeKey), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(spec.RangeKey), KeyType: types.KeyTypeRange})
	}
	if spec.StreamView != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: spec.StreamView}
	}
	if spec.Provisioned {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	}
	if spec.GSI != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("gsi_pk"), AttributeType: types.ScalarAttributeTypeS})
		gsi := types.GlobalSecondaryIndex{IndexName: aws.String(spec.GSI), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("gsi_pk"), KeyType: types.KeyTypeHash}}}
		if spec.Provisioned {
			gsi.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
		}
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi}
	}
	if spec.KMSKeyID != "" {
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(spec.KMSKeyID)}
	}
	if spec.WarmWrite > 0 {
		in.WarmThroughput = &types.WarmThroughput{WriteUnitsPerSecond: aws.Int64(spec.WarmWrite)}
	}
	if _, err := client.CreateTable(ctx, in); err != nil {
		t.Fatalf("creating fixture table %s: %v", spec.Name, err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(spec.Name)})
	})
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(spec.Name)}, 2*time.Minute)
	if err != nil {
		t.Fatalf("waiting for fixture table %s: %v", spec.Name, err)
	}
	return out.Table
}
