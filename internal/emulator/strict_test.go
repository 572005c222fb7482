package emulator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

func replicaUpdate(ctx context.Context, c *dynamodb.Client, table string, u types.ReplicationGroupUpdate) error {
	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table), ReplicaUpdates: []types.ReplicationGroupUpdate{u}})
	return err
}

func createIn(region string, key string) types.ReplicationGroupUpdate {
	return types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(region), KMSMasterKeyId: optional(key)}}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// Every table description carries WarmThroughput, ACTIVE: hashicorp/aws waits for it
// after CreateTable and never finishes without it.
// Catches: dropping decorateWarmLocked from decorateLocked.
func TestWarmThroughputReported(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	created := createTable(t, ctx, c, "warm", false, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{IndexName: aws.String("by-g"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}
	})
	for what, td := range map[string]*types.TableDescription{"CreateTable": created, "DescribeTable": describe(t, ctx, c, "warm")} {
		w := td.WarmThroughput
		if w == nil || w.Status != types.TableStatusActive || aws.ToInt64(w.ReadUnitsPerSecond) != 12000 || aws.ToInt64(w.WriteUnitsPerSecond) != 4000 {
			t.Fatalf("%s WarmThroughput = %+v, want ACTIVE 12000/4000", what, w)
		}
		if len(td.GlobalSecondaryIndexes) != 1 || td.GlobalSecondaryIndexes[0].WarmThroughput == nil || td.GlobalSecondaryIndexes[0].WarmThroughput.Status != types.IndexStatusActive {
			t.Fatalf("%s GSI WarmThroughput = %+v", what, td.GlobalSecondaryIndexes)
		}
	}
	// Pre-warming is kept and reported; above the Region's table maximum it is refused.
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("warm"),
		WarmThroughput: &types.WarmThroughput{ReadUnitsPerSecond: aws.Int64(20000), WriteUnitsPerSecond: aws.Int64(9000)}}); err != nil {
		t.Fatal(err)
	}
	if w := describe(t, ctx, c, "warm").WarmThroughput; aws.ToInt64(w.ReadUnitsPerSecond) != 20000 || aws.ToInt64(w.WriteUnitsPerSecond) != 9000 {
		t.Fatalf("pre-warmed WarmThroughput = %+v", w)
	}
	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("warm"),
		WarmThroughput: &types.WarmThroughput{WriteUnitsPerSecond: aws.Int64(50000)}})
	wantCode(t, err, "LimitExceededException", "")
	limits, err := c.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
	if err != nil || aws.ToInt64(limits.TableMaxWriteCapacityUnits) != 40000 {
		t.Fatalf("DescribeLimits = %+v, %v", limits, err)
	}
}

// A replica create whose source warm throughput exceeds the destination's table
// maximum fails with LimitExceededException.
func TestReplicaWarmThroughputAboveDestinationMaximum(t *testing.T) {
	ctx := fresh(t)
	defer srv.SetTableQuota("us-east-1", emulator.TableQuota{})
	srv.SetTableQuota("us-east-1", emulator.TableQuota{Read: 100000, Write: 100000})
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "hot", false, func(in *dynamodb.CreateTableInput) {
		in.WarmThroughput = &types.WarmThroughput{ReadUnitsPerSecond: aws.Int64(12000), WriteUnitsPerSecond: aws.Int64(60000)}
	})
	wantCode(t, replicaUpdate(ctx, east, "hot", createIn("eu-west-1", "")), "LimitExceededException", "eu-west-1")
	if td := describe(t, ctx, east, "hot"); len(td.Replicas) != 0 {
		t.Fatalf("a refused create left replicas: %+v", td.Replicas)
	}
	srv.SetTableQuota("eu-west-1", emulator.TableQuota{Read: 100000, Write: 100000})
	defer srv.SetTableQuota("eu-west-1", emulator.TableQuota{})
	if err := replicaUpdate(ctx, east, "hot", createIn("eu-west-1", "")); err != nil {
		t.Fatalf("with the destination's quota raised: %v", err)
	}
}

// Customer managed keys: each replica names a key in its own Region; keys read back
// as ARNs; a replica's key does not change alone; an AWS owned key table takes no key.
func TestReplicaCustomerManagedKeyRules(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	eastKey := createKey(t, ctx, "us-east-1")
	createTable(t, ctx, east, "cmk", false, func(in *dynamodb.CreateTableInput) {
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: eastKey.KeyId}
	})
	if got := aws.ToString(describe(t, ctx, east, "cmk").SSEDescription.KMSMasterKeyArn); got != aws.ToString(eastKey.Arn) {
		t.Fatalf("source key read back as %q, want its ARN", got)
	}
	wantCode(t, replicaUpdate(ctx, east, "cmk", createIn("eu-west-1", "")), "ValidationException", "KMSMasterKeyId must be specified for each replica")
	wantCode(t, replicaUpdate(ctx, east, "cmk", createIn("eu-west-1", aws.ToString(eastKey.Arn))), "ValidationException", "must be in that Region")
	westKey := createKey(t, ctx, "eu-west-1")
	if err := replicaUpdate(ctx, east, "cmk", createIn("eu-west-1", aws.ToString(westKey.KeyId))); err != nil {
		t.Fatal(err)
	}
	waitReplicaActive(t, ctx, east, "cmk", "eu-west-1")
	want := aws.ToString(westKey.Arn)
	if rep := describe(t, ctx, east, "cmk").Replicas[0]; aws.ToString(rep.KMSMasterKeyId) != want {
		t.Fatalf("replica key in Replicas[] = %q, want %q", aws.ToString(rep.KMSMasterKeyId), want)
	}
	if got := aws.ToString(describe(t, ctx, ddbIn("eu-west-1"), "cmk").SSEDescription.KMSMasterKeyArn); got != want {
		t.Fatalf("replica key in its Region = %q, want %q", got, want)
	}
	// One replica's key alone cannot change: a key change names every Region's key.
	west2 := createKey(t, ctx, "eu-west-1")
	err := replicaUpdate(ctx, east, "cmk", types.ReplicationGroupUpdate{Update: &types.UpdateReplicationGroupMemberAction{
		RegionName: aws.String("eu-west-1"), KMSMasterKeyId: west2.Arn}})
	wantCode(t, err, "ValidationException", "KMSMasterKeyId must be specified for each replica")

	createTable(t, ctx, east, "owned", false)
	wantCode(t, replicaUpdate(ctx, east, "owned", createIn("eu-west-1", "2222-west")), "ValidationException", "KMSMasterKeyId")
}

// While a replica is CREATING its Region answers DescribeTable only.
func TestCreatingReplicaAnswersDescribeTableOnly(t *testing.T) {
	ctx := fresh(t)
	srv.SetDelays(emulator.Delays{ReplicaCreate: 3 * time.Second})
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "young", false)
	if err := replicaUpdate(ctx, east, "young", createIn("eu-west-1", "")); err != nil {
		t.Fatal(err)
	}
	td := describe(t, ctx, west, "young")
	if td.TableStatus != types.TableStatusCreating {
		t.Fatalf("replica table status = %s, want CREATING", td.TableStatus)
	}
	_, err := west.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("young")})
	wantCode(t, err, "TableNotFoundException", "")
	_, err = west.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: td.TableArn})
	wantCode(t, err, "ResourceNotFoundException", "")
	waitReplicaActive(t, ctx, east, "young", "eu-west-1")
	// Just ACTIVE: PITR is not available yet.
	_, err = west.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("young"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	wantCode(t, err, "ContinuousBackupsUnavailableException", "")
	if _, err := west.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: td.TableArn}); err != nil {
		t.Fatalf("tags of an ACTIVE replica: %v", err)
	}
}

// A ReplicaUpdates Update leaves the replica UPDATING; an Update that changes
// nothing, and unknown Regions, are refused.
func TestReplicaUpdateTakesTime(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "slow", false)
	addReplica(t, ctx, east, "slow", "eu-west-1")
	waitReplicaActive(t, ctx, east, "slow", "eu-west-1")
	empty := types.ReplicationGroupUpdate{Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}
	wantCode(t, replicaUpdate(ctx, east, "slow", empty), "ValidationException", "")
	wantCode(t, replicaUpdate(ctx, east, "slow", createIn("mars-north-1a", "")), "ValidationException", "not a valid Region")
	_, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("slow")})
	wantCode(t, err, "ValidationException", "Nothing to update")

	class := types.ReplicationGroupUpdate{Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1"),
		TableClassOverride: types.TableClassStandardInfrequentAccess}}
	if err := replicaUpdate(ctx, east, "slow", class); err != nil {
		t.Fatal(err)
	}
	td := describe(t, ctx, east, "slow")
	if replicaStatus(td, "eu-west-1") != "UPDATING" || td.TableStatus != types.TableStatusUpdating {
		t.Fatalf("right after an Update: replica %s, table %s; want UPDATING, UPDATING", replicaStatus(td, "eu-west-1"), td.TableStatus)
	}
	waitReplicaActive(t, ctx, east, "slow", "eu-west-1")
}

// A Region that sourced a replica create refuses deletion for 24 hours.
func TestSourceRegionHold(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "hold", false)
	addReplica(t, ctx, east, "hold", "eu-west-1")
	waitReplicaActive(t, ctx, east, "hold", "eu-west-1")
	if err := replicaUpdate(ctx, west, "hold", createIn("ap-northeast-1", "")); err != nil {
		t.Fatal(err)
	}
	waitReplicaActive(t, ctx, east, "hold", "ap-northeast-1")
	del := types.ReplicationGroupUpdate{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}
	wantCode(t, replicaUpdate(ctx, east, "hold", del), "ValidationException", "acted as a source region")
	_, err := west.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("hold")})
	wantCode(t, err, "ValidationException", "acted as a source region")
	// ap-northeast-1 sourced nothing: it goes.
	if err := replicaUpdate(ctx, east, "hold", types.ReplicationGroupUpdate{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("ap-northeast-1")}}); err != nil {
		t.Fatal(err)
	}
}

// The admin API puts a replica into each failure status AWS reports.
func TestReplicaFailureStatuses(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "sick", false)
	addReplica(t, ctx, east, "sick", "eu-west-1")
	waitReplicaActive(t, ctx, east, "sick", "eu-west-1")
	for _, st := range emulator.FailureStatuses {
		if err := srv.SetReplicaStatus("eu-west-1", "sick", st); err != nil {
			t.Fatal(err)
		}
		if got := replicaStatus(describe(t, ctx, east, "sick"), "eu-west-1"); got != st {
			t.Fatalf("status = %s, want %s", got, st)
		}
	}
	if err := srv.SetReplicaStatus("eu-west-1", "sick", "BROKEN"); err == nil || !strings.Contains(err.Error(), "not one of") {
		t.Fatalf("an unknown status: %v", err)
	}
}
