package emulator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A replica added after TTL was enabled has TTL too (catches: the replica's table
// created without the source's TTL), and descriptions carry TableClassSummary and
// GlobalTableSettingsReplicationMode (catches: either field dropped).
func TestNewReplicaInheritsTTLAndReportsSettings(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "inherit", false)
	if td := describe(t, ctx, east, "inherit"); td.TableClassSummary == nil || td.TableClassSummary.TableClass != types.TableClassStandard || td.GlobalTableSettingsReplicationMode != "" {
		t.Fatalf("single-Region table: TableClassSummary %+v, mode %q", td.TableClassSummary, td.GlobalTableSettingsReplicationMode)
	}
	if _, err := east.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("inherit"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expires")}}); err != nil {
		t.Fatal(err)
	}
	addReplica(t, ctx, east, "inherit", "eu-west-1")
	ttl, err := west.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("inherit")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expires" {
		t.Fatalf("the new replica must inherit TTL: %+v %v", ttl.TimeToLiveDescription, err)
	}
	td := describe(t, ctx, east, "inherit")
	if td.GlobalTableSettingsReplicationMode != types.GlobalTableSettingsReplicationModeEnabledWithOverrides {
		t.Fatalf("table GlobalTableSettingsReplicationMode = %q", td.GlobalTableSettingsReplicationMode)
	}
	// No class asked for, none reported (else hashicorp/aws plans to replace every
	// aws_dynamodb_table_replica); the replica's own table says STANDARD.
	if len(td.Replicas) != 1 || td.Replicas[0].GlobalTableSettingsReplicationMode != types.GlobalTableSettingsReplicationModeEnabledWithOverrides ||
		td.Replicas[0].ReplicaTableClassSummary != nil {
		t.Fatalf("replica description: %+v", td.Replicas)
	}
	if c := describe(t, ctx, west, "inherit").TableClassSummary; c == nil || c.TableClass != types.TableClassStandard {
		t.Fatalf("replica table's TableClassSummary = %+v", c)
	}
	if _, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("inherit"), ReplicaUpdates: []types.ReplicationGroupUpdate{{
		Update: &types.UpdateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1"), TableClassOverride: types.TableClassStandardInfrequentAccess}}}}); err != nil {
		t.Fatal(err)
	}
	td = describe(t, ctx, east, "inherit")
	if r := td.Replicas[0].ReplicaTableClassSummary; r == nil || r.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("after a TableClassOverride: %+v", r)
	}
	if c := describe(t, ctx, west, "inherit").TableClassSummary; c == nil || c.TableClass != types.TableClassStandardInfrequentAccess {
		t.Fatalf("replica table's TableClassSummary after the override = %+v", c)
	}
}
