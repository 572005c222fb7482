package emulator_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Behaviours hashicorp/aws's own acceptance tests (make conformance-aws) rely on.

// A plain table keeps the class it was created or updated with
// (TestAccDynamoDBTable_tableClassInfrequentAccess), and a class outside the enum is refused.
func TestTableClassOfPlainTable(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	td := createTable(t, ctx, c, "infrequent", false, func(in *dynamodb.CreateTableInput) { in.TableClass = types.TableClassStandardInfrequentAccess })
	if td.TableClassSummary == nil || td.TableClassSummary.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("CreateTable answered TableClassSummary %+v", td.TableClassSummary)
	}
	if got := describe(t, ctx, c, "infrequent").TableClassSummary; got == nil || got.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("DescribeTable: TableClassSummary %+v, want STANDARD_INFREQUENT_ACCESS", got)
	}
	out, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("infrequent"), TableClass: types.TableClassStandard})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.TableDescription.TableClassSummary; got == nil || got.TableClass != types.TableClassStandard {
		t.Fatalf("UpdateTable answered TableClassSummary %+v, want STANDARD", got)
	}
	if got := describe(t, ctx, c, "infrequent").TableClassSummary; got == nil || got.TableClass != types.TableClassStandard {
		t.Fatalf("after UpdateTable: TableClassSummary %+v, want STANDARD", got)
	}
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("infrequent"), TableClass: types.TableClassStandardInfrequentAccess}); err != nil {
		t.Fatal(err)
	}
	if got := describe(t, ctx, c, "infrequent").TableClassSummary; got == nil || got.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("after the second UpdateTable: TableClassSummary %+v", got)
	}
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("infrequent"), TableClass: "COLD"})
	wantCode(t, err, "ValidationException", "tableClass")
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("cold"), BillingMode: types.BillingModePayPerRequest, TableClass: "COLD",
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}}})
	wantCode(t, err, "ValidationException", "tableClass")

	// A replica of an infrequent-access table is created with that class.
	addReplica(t, ctx, c, "infrequent", "eu-west-1")
	waitReplicaActive(t, ctx, c, "infrequent", "eu-west-1")
	if got := describe(t, ctx, ddbIn("eu-west-1"), "infrequent").TableClassSummary; got == nil || got.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("replica's TableClassSummary %+v, want STANDARD_INFREQUENT_ACCESS", got)
	}
}

// A missing table's DeleteTable and DescribeTable fail with AWS's message, which
// hashicorp/aws's delete matches to treat the table as gone (TestAccDynamoDBTable_disappears).
func TestMissingTableMessage(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("gone")})
	wantCode(t, err, "ResourceNotFoundException", "Requested resource not found: Table: gone not found")
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("gone")})
	wantCode(t, err, "ResourceNotFoundException", "Requested resource not found: Table: gone not found")
}

// An index added by UpdateTable to an on-demand table without a ceiling is described
// without OnDemandThroughput (TestAccDynamoDBTable_BillingMode_payPerRequestBasic);
// a ceiling that was set reads back.
func TestIndexWithoutOnDemandCeiling(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	createTable(t, ctx, c, "ondemand", false)
	addIndex := func(name string, od *types.OnDemandThroughput) {
		t.Helper()
		_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ondemand"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String(name),
				KeySchema:          []types.KeySchemaElement{{AttributeName: aws.String(name), KeyType: types.KeyTypeHash}},
				Projection:         &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
				OnDemandThroughput: od}}}})
		if err != nil {
			t.Fatalf("adding index %s: %v", name, err)
		}
		eventually(t, 30*time.Second, "index "+name+" ACTIVE", func() (bool, string) {
			for _, g := range describe(t, ctx, c, "ondemand").GlobalSecondaryIndexes {
				if aws.ToString(g.IndexName) == name {
					return g.IndexStatus == types.IndexStatusActive, string(g.IndexStatus)
				}
			}
			return false, "no index"
		})
	}
	addIndex("plain", nil)
	addIndex("capped", &types.OnDemandThroughput{MaxReadRequestUnits: aws.Int64(200)})
	got := map[string]*types.OnDemandThroughput{}
	for _, g := range describe(t, ctx, c, "ondemand").GlobalSecondaryIndexes {
		got[aws.ToString(g.IndexName)] = g.OnDemandThroughput
	}
	if od := got["plain"]; od != nil {
		t.Fatalf("index without a ceiling: OnDemandThroughput %+v, want none", *od)
	}
	if od := got["capped"]; od == nil || aws.ToInt64(od.MaxReadRequestUnits) != 200 || od.MaxWriteRequestUnits != nil {
		t.Fatalf("index with a read ceiling of 200: OnDemandThroughput %+v", od)
	}
}

// A global table's keys change through ReplicaUpdates, one Update per Region, the
// local one included (TestAccDynamoDBTable_Replica_doubleAddCMK); leaving a Region
// out, a key in another Region, or a local Update that changes something else is refused.
func TestGlobalTableKeyChange(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "keys", false, func(in *dynamodb.CreateTableInput) {
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms} // the AWS managed key
	})
	addReplica(t, ctx, east, "keys", "eu-west-1")
	waitReplicaActive(t, ctx, east, "keys", "eu-west-1")
	eastKey, westKey := createKey(t, ctx, "us-east-1"), createKey(t, ctx, "eu-west-1")
	update := func(us ...types.ReplicationGroupUpdate) error {
		_, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("keys"), ReplicaUpdates: us})
		return err
	}
	keyIn := func(region string, key *string) types.ReplicationGroupUpdate {
		return types.ReplicationGroupUpdate{Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String(region), KMSMasterKeyId: key}}
	}
	wantCode(t, update(keyIn("eu-west-1", westKey.Arn)), "ValidationException", "KMSMasterKeyId must be specified for each replica")
	wantCode(t, update(keyIn("us-east-1", eastKey.Arn)), "ValidationException", "KMSMasterKeyId must be specified for each replica")
	wantCode(t, update(keyIn("eu-west-1", eastKey.Arn), keyIn("us-east-1", eastKey.Arn)), "ValidationException", "must be in that Region")
	wantCode(t, update(types.ReplicationGroupUpdate{Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String("us-east-1"),
		TableClassOverride: types.TableClassStandardInfrequentAccess}}), "ValidationException", "the local region through ReplicaUpdates")

	if err := update(keyIn("eu-west-1", westKey.KeyId), keyIn("us-east-1", eastKey.KeyId)); err != nil {
		t.Fatalf("changing every Region's key: %v", err)
	}
	waitTableActive(t, east, "keys")
	if got := aws.ToString(describe(t, ctx, east, "keys").SSEDescription.KMSMasterKeyArn); got != aws.ToString(eastKey.Arn) {
		t.Fatalf("local key = %q, want %q", got, aws.ToString(eastKey.Arn))
	}
	if got := aws.ToString(describe(t, ctx, west, "keys").SSEDescription.KMSMasterKeyArn); got != aws.ToString(westKey.Arn) {
		t.Fatalf("replica's key in its Region = %q, want %q", got, aws.ToString(westKey.Arn))
	}
	if rep := describe(t, ctx, east, "keys").Replicas[0]; aws.ToString(rep.KMSMasterKeyId) != aws.ToString(westKey.Arn) {
		t.Fatalf("replica key in Replicas[] = %q, want %q", aws.ToString(rep.KMSMasterKeyId), aws.ToString(westKey.Arn))
	}

	// A table on the AWS owned key takes no key this way either.
	createTable(t, ctx, east, "owned", false)
	addReplica(t, ctx, east, "owned", "eu-west-1")
	waitReplicaActive(t, ctx, east, "owned", "eu-west-1")
	_, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("owned"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{keyIn("eu-west-1", westKey.Arn), keyIn("us-east-1", eastKey.Arn)}})
	wantCode(t, err, "ValidationException", "KMSMasterKeyId")
}
