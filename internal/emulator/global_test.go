package emulator_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

func TestReplicaAddWithExistingData(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "orders", false, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("cust"), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{IndexName: aws.String("by-cust"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("cust"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}
	})
	for i := range 30 {
		putItem(t, ctx, east, "orders", map[string]types.AttributeValue{"pk": s("k" + string(rune('a'+i))), "cust": s("c"), "big": n("12345678901234567890123456789012345678")})
	}
	out, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("orders"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
	if err != nil {
		t.Fatal(err)
	}
	td := out.TableDescription
	if got := replicaStatus(td, "eu-west-1"); got != "CREATING" {
		t.Fatalf("replica status right after the call = %q, want CREATING", got)
	}
	if td.TableStatus != types.TableStatusUpdating {
		t.Fatalf("table status during replica creation = %s, want UPDATING", td.TableStatus)
	}
	if aws.ToString(td.GlobalTableVersion) != "2019.11.21" {
		t.Fatalf("GlobalTableVersion = %q", aws.ToString(td.GlobalTableVersion))
	}
	if td.StreamSpecification == nil || td.StreamSpecification.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Fatalf("first replica must enable a NEW_AND_OLD_IMAGES stream, got %+v", td.StreamSpecification)
	}
	if !strings.HasPrefix(aws.ToString(td.TableArn), "arn:aws:dynamodb:us-east-1:123456789012:table/orders") {
		t.Fatalf("TableArn = %s", aws.ToString(td.TableArn))
	}
	waitReplicaActive(t, ctx, east, "orders", "eu-west-1")

	wd := describe(t, ctx, west, "orders")
	if replicaStatus(wd, "us-east-1") != "ACTIVE" || aws.ToString(wd.GlobalTableVersion) != "2019.11.21" {
		t.Fatalf("the new member must list the source as a replica: %+v", wd.Replicas)
	}
	if len(wd.GlobalSecondaryIndexes) != 1 || aws.ToString(wd.GlobalSecondaryIndexes[0].IndexName) != "by-cust" {
		t.Fatalf("replica GSIs = %+v", wd.GlobalSecondaryIndexes)
	}
	if wd.BillingModeSummary == nil || wd.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("replica billing = %+v", wd.BillingModeSummary)
	}
	scan, err := west.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("orders"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if scan.Count != 30 {
		t.Fatalf("replica holds %d items, want the 30 existing ones", scan.Count)
	}
	if v := scan.Items[0]["big"].(*types.AttributeValueMemberN).Value; v != "12345678901234567890123456789012345678" {
		t.Fatalf("38-digit number changed in the copy: %s", v)
	}
}

func TestBidirectionalReplication(t *testing.T) {
	ctx := fresh(t)
	east, west, tokyo := ddbIn("us-east-1"), ddbIn("eu-west-1"), ddbIn("ap-northeast-1")
	createTable(t, ctx, east, "music", false)
	addReplica(t, ctx, east, "music", "eu-west-1")
	addReplica(t, ctx, west, "music", "ap-northeast-1")

	putItem(t, ctx, east, "music", map[string]types.AttributeValue{"pk": s("from-east"), "v": s("1")})
	putItem(t, ctx, west, "music", map[string]types.AttributeValue{"pk": s("from-west"), "v": s("1")})
	if _, err := tokyo.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("music"), Key: map[string]types.AttributeValue{"pk": s("from-tokyo")},
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("1")}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*dynamodb.Client{east, west, tokyo} {
		for _, pk := range []string{"from-east", "from-west", "from-tokyo"} {
			eventually(t, 15*time.Second, pk+" everywhere", func() (bool, string) { return getItem(t, ctx, c, "music", pk) != nil, "" })
		}
	}
	if _, err := west.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("music"), Key: map[string]types.AttributeValue{"pk": s("from-east")}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "delete replicated", func() (bool, string) {
		return getItem(t, ctx, east, "music", "from-east") == nil && getItem(t, ctx, tokyo, "music", "from-east") == nil, ""
	})
	// Any (wrong) echo shows up before the replicator goes idle.
	if err := srv.WaitReplicated(ctx, "music"); err != nil {
		t.Fatal(err)
	}

	// Current version: one record per write in every Region, no aws:rep:* attributes.
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-northeast-1"} {
		recs := streamRecords(t, ctx, region, "music")
		for _, pk := range []string{"from-west", "from-tokyo"} {
			if got := len(recordsFor(recs, pk)); got != 1 {
				t.Errorf("%s: %d stream records for %s, want 1", region, got, pk)
			}
		}
		if got := len(recordsFor(recs, "from-east")); got != 2 {
			t.Errorf("%s: %d stream records for from-east (insert+remove), want 2", region, got)
		}
		for _, r := range recs {
			for k := range r.Dynamodb.NewImage {
				if strings.HasPrefix(k, "aws:rep:") {
					t.Errorf("%s: current-version item carries %s", region, k)
				}
			}
		}
	}
	if item := getItem(t, ctx, west, "music", "from-tokyo"); strAttr(item, "v") != "1" {
		t.Fatalf("item from tokyo in west = %v", item)
	}
}

func TestLastWriterWins(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "lww", false)
	addReplica(t, ctx, east, "lww", "eu-west-1")
	// Conflicting writes inside the replication delay: both Regions must end equal.
	for i := range 5 {
		v := string(rune('0' + i))
		putItem(t, ctx, east, "lww", map[string]types.AttributeValue{"pk": s("k"), "v": s("east" + v)})
		putItem(t, ctx, west, "lww", map[string]types.AttributeValue{"pk": s("k"), "v": s("west" + v)})
	}
	eventually(t, 15*time.Second, "convergence", func() (bool, string) {
		a, b := strAttr(getItem(t, ctx, east, "lww", "k"), "v"), strAttr(getItem(t, ctx, west, "lww", "k"), "v")
		return a == b && a != "", a + " vs " + b
	})
	// Converged for good, not only for now: nothing is left in flight.
	if err := srv.WaitReplicated(ctx, "lww"); err != nil {
		t.Fatal(err)
	}
	a, b := strAttr(getItem(t, ctx, east, "lww", "k"), "v"), strAttr(getItem(t, ctx, west, "lww", "k"), "v")
	if a != b || a != "west4" {
		t.Fatalf("after convergence east=%s west=%s, want both west4 (the last write)", a, b)
	}
}

func TestConcurrentUpdateTableRejected(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "busy", false)
	create := func(region string) error {
		_, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"),
			ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(region)}}}})
		return err
	}
	_, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"), ReplicaUpdates: []types.ReplicationGroupUpdate{
		{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}},
		{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-2")}}}})
	wantCode(t, err, "ValidationException", "more than one create or delete replica actions not allowed")
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"), BillingMode: types.BillingModePayPerRequest,
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
	wantCode(t, err, "ValidationException", "ReplicaUpdates")
	wantCode(t, create("us-east-1"), "ValidationException", "Cannot add, delete, or update the local region through ReplicaUpdates")
	_, err = ddbIn("us-east-1").UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("nope"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
	wantCode(t, err, "ResourceNotFoundException", "")

	if err := create("eu-west-1"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, create("eu-west-2"), "ResourceInUseException", "in the process of being updated")
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"), DeletionProtectionEnabled: aws.Bool(true)})
	wantCode(t, err, "ResourceInUseException", "")
	waitReplicaActive(t, ctx, east, "busy", "eu-west-1")
	wantCode(t, create("eu-west-1"), "ValidationException", "already existed")
	if err := create("eu-west-2"); err != nil {
		t.Fatalf("a second replica after the first is ACTIVE: %v", err)
	}
	waitReplicaActive(t, ctx, east, "busy", "eu-west-2")

	// A replica protected against deletion is not removed.
	west2 := ddbIn("eu-west-2")
	if _, err := west2.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-2")}}}})
	wantCode(t, err, "ValidationException", "protected against deletion")
	// Deletion protection keeps the table UPDATING a while: no other change meanwhile.
	if d := describe(t, ctx, west2, "busy"); d.TableStatus != types.TableStatusUpdating {
		t.Fatalf("table status right after a deletion protection change = %s, want UPDATING", d.TableStatus)
	}
	_, err = west2.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"), DeletionProtectionEnabled: aws.Bool(false)})
	wantCode(t, err, "ResourceInUseException", "")
	waitTableActive(t, west2, "busy")
	if _, err := west2.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	// Delete: DELETING, then gone, and the table in that Region is removed.
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-2")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if st := replicaStatus(describe(t, ctx, east, "busy"), "eu-west-2"); st != "DELETING" {
		t.Fatalf("status after delete = %q, want DELETING", st)
	}
	eventually(t, 15*time.Second, "replica gone", func() (bool, string) {
		return replicaStatus(describe(t, ctx, east, "busy"), "eu-west-2") == "", ""
	})
	eventually(t, 15*time.Second, "replica table deleted", func() (bool, string) {
		_, err := ddbIn("eu-west-2").DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("busy")})
		return errCode(err) == "ResourceNotFoundException", errCode(err)
	})
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-2")}}}})
	wantCode(t, err, "ValidationException", "not found")

	// Removing the last replica leaves a plain table without GlobalTableVersion.
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("busy"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "global table dissolved", func() (bool, string) {
		td := describe(t, ctx, east, "busy")
		return td.GlobalTableVersion == nil && len(td.Replicas) == 0, aws.ToString(td.GlobalTableVersion)
	})
}

func TestReplicaPrerequisites(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "prov", false, func(in *dynamodb.CreateTableInput) {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	})
	addProv := func() error {
		_, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"),
			ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
		return err
	}
	wantCode(t, addProv(), "ValidationException", "Table write capacity should either be Pay-Per-Request or AutoScaled.")
	as := scalingIn("us-east-1")
	if _, err := as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/prov"), ScalableDimension: astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(100)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, addProv(), "ValidationException", "AutoScaled")
	if _, err := as.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb, PolicyName: aws.String("wcu"),
		ResourceId: aws.String("table/prov"), ScalableDimension: astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, PolicyType: astypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &astypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeDynamoDBWriteCapacityUtilization}}}); err != nil {
		t.Fatal(err)
	}
	if err := addProv(); err != nil {
		t.Fatalf("with WCU auto scaling the replica add must pass: %v", err)
	}
	waitReplicaActive(t, ctx, east, "prov", "eu-west-1")
	ras, err := east.DescribeTableReplicaAutoScaling(ctx, &dynamodb.DescribeTableReplicaAutoScalingInput{TableName: aws.String("prov")})
	if err != nil || len(ras.TableAutoScalingDescription.Replicas) != 2 ||
		aws.ToBool(ras.TableAutoScalingDescription.Replicas[0].ReplicaProvisionedWriteCapacityAutoScalingSettings.AutoScalingDisabled) ||
		aws.ToBool(ras.TableAutoScalingDescription.Replicas[1].ReplicaProvisionedWriteCapacityAutoScalingSettings.AutoScalingDisabled) {
		t.Fatalf("DescribeTableReplicaAutoScaling: %+v %v", ras, err)
	}
	wd := describe(t, ctx, ddbIn("eu-west-1"), "prov")
	if wd.ProvisionedThroughput == nil || aws.ToInt64(wd.ProvisionedThroughput.WriteCapacityUnits) != 5 {
		t.Fatalf("replica throughput = %+v", wd.ProvisionedThroughput)
	}
	// Streams of a member cannot be turned off.
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("prov"), StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}})
	wantCode(t, err, "ValidationException", "Disabling Stream is not allowed")
}

func TestReplicaSettingsPropagateAndDeleteMember(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "settings", false)
	addReplica(t, ctx, east, "settings", "eu-west-1")
	if _, err := east.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("settings"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expires")}}); err != nil {
		t.Fatal(err)
	}
	ttl, err := west.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("settings")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expires" {
		t.Fatalf("TTL must reach the replica: %+v %v", ttl, err)
	}
	if _, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("settings"),
		SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms}}); err != nil {
		t.Fatal(err)
	}
	if sse := describe(t, ctx, west, "settings").SSEDescription; sse == nil || sse.SSEType != types.SSETypeKms {
		t.Fatalf("encryption must reach the replica: %+v", sse)
	}
	// DeleteTable in the replica's Region removes that member.
	if _, err := west.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("settings")}); err != nil {
		t.Fatal(err)
	}
	td := describe(t, ctx, east, "settings")
	if len(td.Replicas) != 0 || td.GlobalTableVersion != nil {
		t.Fatalf("after deleting the only replica the table is not global any more: %+v", td.Replicas)
	}
}

func TestReplicaCreationFailure(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "doomed", false)
	srv.FailReplicaCreation("eu-west-1", "doomed", "KMS key not accessible")
	if _, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("doomed"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "CREATION_FAILED", func() (bool, string) {
		st := replicaStatus(describe(t, ctx, east, "doomed"), "eu-west-1")
		return st == "CREATION_FAILED", st
	})
	td := describe(t, ctx, east, "doomed")
	if aws.ToString(td.Replicas[0].ReplicaStatusDescription) != "KMS key not accessible" || td.TableStatus != types.TableStatusActive {
		t.Fatalf("failed replica: %+v, table %s", td.Replicas[0], td.TableStatus)
	}
	// The failed entry can be removed and the create retried.
	if _, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("doomed"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}}); err != nil {
		t.Fatalf("retrying a failed create: %v", err)
	}
	waitReplicaActive(t, ctx, east, "doomed", "eu-west-1")
}

func TestReplicaLimitExceeded(t *testing.T) {
	ctx := fresh(t)
	srv.SetDelays(emulator.Delays{ReplicaCreate: 5 * time.Second})
	east := ddbIn("us-east-1")
	var last error
	for i := range 11 {
		name := fmt.Sprintf("limit-%02d", i)
		createTable(t, ctx, east, name, false)
		_, last = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name),
			ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
		if i < 10 && last != nil {
			t.Fatalf("replica %d: %v", i, last)
		}
	}
	wantCode(t, last, "LimitExceededException", "simultaneously")
	fresh(t) // stops the pending creates and restores the delays
}
