package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

var legacyRegions = []string{"us-east-1", "eu-west-1"}

// legacyTable creates the same empty table with a NEW_AND_OLD_IMAGES stream in
// every Region and joins them in a 2017.11.29 global table.
func legacyTable(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, r := range legacyRegions {
		createTable(t, ctx, ddbIn(r), name, false, withStream(types.StreamViewTypeNewAndOldImages))
	}
	if err := adminLegacy(t, name); err != nil {
		t.Fatalf("legacy-global-table: %v", err)
	}
	d, err := ddbIn("eu-west-1").DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String(name)})
	if err != nil || len(d.GlobalTableDescription.ReplicationGroup) != 2 {
		t.Fatalf("DescribeGlobalTable: %+v %v", d, err)
	}
}

// adminLegacy joins the tables named name in legacyRegions into a legacy global
// table through the admin API; its error carries the refusal's code and message.
func adminLegacy(t *testing.T, name string) error {
	t.Helper()
	code, out := adminCall(t, http.MethodPost, "legacy-global-table", map[string]any{"globalTableName": name, "regions": legacyRegions})
	if code == http.StatusOK {
		return nil
	}
	var e struct{ Error string }
	_ = json.Unmarshal(out, &e)
	apiCode, msg, _ := strings.Cut(e.Error, ": ")
	return &smithy.GenericAPIError{Code: apiCode, Message: msg}
}

func TestLegacyCreateRules(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	// AWS refuses every new 2017.11.29 global table (crossplane-contrib/provider-aws
	// issue #2308): the public call changes nothing, whatever the input.
	createTable(t, ctx, east, "public", false, withStream(types.StreamViewTypeNewAndOldImages))
	createTable(t, ctx, west, "public", false, withStream(types.StreamViewTypeNewAndOldImages))
	_, err := east.CreateGlobalTable(ctx, &dynamodb.CreateGlobalTableInput{GlobalTableName: aws.String("public"),
		ReplicationGroup: []types.Replica{{RegionName: aws.String("us-east-1")}, {RegionName: aws.String("eu-west-1")}}})
	wantCode(t, err, "ValidationException", "DynamoDB global tables version 2017.11.29 is not supported")
	_, err = east.DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String("public")})
	wantCode(t, err, "GlobalTableNotFoundException", "")
	if list, err := east.ListGlobalTables(ctx, &dynamodb.ListGlobalTablesInput{}); err != nil || len(list.GlobalTables) != 0 {
		t.Fatalf("ListGlobalTables after a refused create: %+v %v", list, err)
	}

	create := func(name string) error { return adminLegacy(t, name) }
	createTable(t, ctx, east, "missing", false, withStream(types.StreamViewTypeNewAndOldImages))
	wantCode(t, create("missing"), "TableNotFoundException", "eu-west-1")

	createTable(t, ctx, east, "nostream", false, withStream(types.StreamViewTypeNewAndOldImages))
	createTable(t, ctx, west, "nostream", false)
	wantCode(t, create("nostream"), "ValidationException", "NEW_AND_OLD_IMAGES")

	createTable(t, ctx, east, "full", false, withStream(types.StreamViewTypeNewAndOldImages))
	createTable(t, ctx, west, "full", false, withStream(types.StreamViewTypeNewAndOldImages))
	putItem(t, ctx, west, "full", map[string]types.AttributeValue{"pk": s("x")})
	wantCode(t, create("full"), "ValidationException", "empty")

	createTable(t, ctx, east, "keys", false, withStream(types.StreamViewTypeNewAndOldImages))
	createTable(t, ctx, west, "keys", true, withStream(types.StreamViewTypeNewAndOldImages))
	wantCode(t, create("keys"), "ValidationException", "key schema")

	legacyTable(t, ctx, "okay")
	wantCode(t, create("okay"), "GlobalTableAlreadyExistsException", "")

	_, err = east.DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String("full")})
	wantCode(t, err, "GlobalTableNotFoundException", "")
	d, err := west.DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String("okay")})
	if err != nil || len(d.GlobalTableDescription.ReplicationGroup) != 2 || !strings.Contains(aws.ToString(d.GlobalTableDescription.GlobalTableArn), ":global-table/ok") {
		t.Fatalf("DescribeGlobalTable: %+v %v", d, err)
	}
	list, err := east.ListGlobalTables(ctx, &dynamodb.ListGlobalTablesInput{})
	if err != nil || len(list.GlobalTables) != 1 || aws.ToString(list.GlobalTables[0].GlobalTableName) != "okay" {
		t.Fatalf("ListGlobalTables: %+v %v", list, err)
	}
	// DescribeTable shows a legacy member as AWS documents it: no GlobalTableVersion and
	// no Replicas[] (those belong to 2019.11.21 replicas).
	if d := describe(t, ctx, east, "okay"); d.GlobalTableVersion != nil || len(d.Replicas) != 0 {
		t.Fatalf("legacy member GlobalTableVersion = %q, Replicas = %+v", aws.ToString(d.GlobalTableVersion), d.Replicas)
	}
	// A legacy table is refused by ReplicaUpdates.
	_, err = east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("okay"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("ap-south-1")}}}})
	wantCode(t, err, "ValidationException", "2017.11.29")

	// UpdateGlobalTable adds and removes members.
	tokyo := ddbIn("ap-northeast-1")
	createTable(t, ctx, tokyo, "okay", false, withStream(types.StreamViewTypeNewAndOldImages))
	if _, err := east.UpdateGlobalTable(ctx, &dynamodb.UpdateGlobalTableInput{GlobalTableName: aws.String("okay"),
		ReplicaUpdates: []types.ReplicaUpdate{{Create: &types.CreateReplicaAction{RegionName: aws.String("ap-northeast-1")}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = east.UpdateGlobalTable(ctx, &dynamodb.UpdateGlobalTableInput{GlobalTableName: aws.String("okay"),
		ReplicaUpdates: []types.ReplicaUpdate{{Create: &types.CreateReplicaAction{RegionName: aws.String("ap-northeast-1")}}}})
	wantCode(t, err, "ReplicaAlreadyExistsException", "")
	putItem(t, ctx, east, "okay", map[string]types.AttributeValue{"pk": s("to-tokyo")})
	eventually(t, 15*time.Second, "legacy replication to the new member", func() (bool, string) {
		return getItem(t, ctx, tokyo, "okay", "to-tokyo") != nil, ""
	})
	_, err = east.UpdateGlobalTable(ctx, &dynamodb.UpdateGlobalTableInput{GlobalTableName: aws.String("okay"),
		ReplicaUpdates: []types.ReplicaUpdate{{Delete: &types.DeleteReplicaAction{RegionName: aws.String("sa-east-1")}}}})
	wantCode(t, err, "ReplicaNotFoundException", "")
}

func TestLegacyItemAndStreamBehaviour(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	legacyTable(t, ctx, "legacy")
	putItem(t, ctx, east, "legacy", map[string]types.AttributeValue{"pk": s("a"), "v": s("1")})
	eventually(t, 15*time.Second, "legacy item in west", func() (bool, string) {
		it := getItem(t, ctx, west, "legacy", "a")
		return strAttr(it, "aws:rep:updateregion") == "us-east-1", ""
	})
	src := getItem(t, ctx, east, "legacy", "a")
	if strAttr(src, "aws:rep:updateregion") != "us-east-1" || src["aws:rep:updatetime"] == nil {
		t.Fatalf("source item must be stamped: %v", src)
	}
	if _, err := east.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("legacy"), Key: map[string]types.AttributeValue{"pk": s("a")}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "legacy delete in west", func() (bool, string) { return getItem(t, ctx, west, "legacy", "a") == nil, "" })
	if err := srv.WaitReplicated(ctx, "legacy"); err != nil {
		t.Fatal(err)
	}

	srcRecs := recordsFor(streamRecords(t, ctx, "us-east-1", "legacy"), "a")
	if names := eventNames(srcRecs); names != "INSERT,MODIFY,REMOVE" {
		t.Fatalf("source stream = %s, want INSERT,MODIFY,REMOVE (write, stamp, delete)", names)
	}
	if _, ok := srcRecs[0].Dynamodb.NewImage["aws:rep:updatetime"]; ok {
		t.Fatal("the first source record is the customer's write, without aws:rep:*")
	}
	if _, ok := srcRecs[1].Dynamodb.NewImage["aws:rep:updatetime"]; !ok {
		t.Fatal("the second source record is the stamp, with aws:rep:*")
	}
	dstRecs := recordsFor(streamRecords(t, ctx, "eu-west-1", "legacy"), "a")
	if names := eventNames(dstRecs); names != "INSERT,MODIFY,REMOVE" {
		for _, r := range dstRecs {
			t.Logf("%s old=%v new=%v", r.EventName, r.Dynamodb.OldImage, r.Dynamodb.NewImage)
		}
		t.Fatalf("destination stream = %s, want INSERT (replicated put), MODIFY (aws:rep:deleting), REMOVE", names)
	}
	if _, ok := dstRecs[0].Dynamodb.NewImage["aws:rep:updateregion"]; !ok {
		t.Fatal("the replicated put carries aws:rep:*")
	}
	if _, ok := dstRecs[1].Dynamodb.NewImage["aws:rep:deleting"]; !ok {
		t.Fatal("the first delete phase sets aws:rep:deleting")
	}
}

func eventNames(recs []streamtypes.Record) string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.EventName))
	}
	return strings.Join(out, ",")
}

func TestLegacySettingsAndUpgrade(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	legacyTable(t, ctx, "music")
	// Legacy does not sync TTL: enabling it in one Region makes the settings differ.
	if _, err := east.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("music"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("ttl")}}); err != nil {
		t.Fatal(err)
	}
	err := srv.UpdateVersion(ctx, "music", 0)
	var refused *emulator.UpgradeRefusedError
	if !errors.As(err, &refused) || len(refused.Failed) != 1 || refused.Failed[0].Name != "ttl" {
		t.Fatalf("want a refusal for TTL only, got %v", err)
	}
	if !strings.Contains(err.Error(), "TTL settings differ") {
		t.Fatalf("refusal should say why: %v", err)
	}
	settings, err := west.DescribeGlobalTableSettings(ctx, &dynamodb.DescribeGlobalTableSettingsInput{GlobalTableName: aws.String("music")})
	if err != nil || len(settings.ReplicaSettings) != 2 || settings.ReplicaSettings[0].ReplicaBillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("DescribeGlobalTableSettings: %+v %v", settings, err)
	}
	// Fix the prerequisite; an "operator" upgrades 200ms later.
	if _, err := west.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("music"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("ttl")}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.UpdateVersion(ctx, "music", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "UPDATING", func() (bool, string) {
		td := describe(t, ctx, west, "music")
		return td.TableStatus == types.TableStatusUpdating, string(td.TableStatus)
	})
	eventually(t, 15*time.Second, "2019.11.21 everywhere", func() (bool, string) {
		a, b := describe(t, ctx, east, "music"), describe(t, ctx, west, "music")
		return aws.ToString(a.GlobalTableVersion) == "2019.11.21" && aws.ToString(b.GlobalTableVersion) == "2019.11.21" &&
			a.TableStatus == types.TableStatusActive && b.TableStatus == types.TableStatusActive, aws.ToString(a.GlobalTableVersion)
	})
	if st, ok := srv.UpgradeState("music"); !ok || st.State != "done" {
		t.Fatalf("upgrade state = %+v", st)
	}
	_, err = east.DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String("music")})
	wantCode(t, err, "GlobalTableNotFoundException", "")
	// Writes now behave as current: no aws:rep:*, one record per write.
	putItem(t, ctx, west, "music", map[string]types.AttributeValue{"pk": s("after"), "v": s("1")})
	eventually(t, 15*time.Second, "replicated after the upgrade", func() (bool, string) {
		return getItem(t, ctx, east, "music", "after") != nil, ""
	})
	if err := srv.WaitReplicated(ctx, "music"); err != nil {
		t.Fatal(err)
	}
	for _, r := range legacyRegions {
		recs := recordsFor(streamRecords(t, ctx, r, "music"), "after")
		if len(recs) != 1 {
			t.Fatalf("%s: %d records for one write after the upgrade, want 1", r, len(recs))
		}
		for k := range recs[0].Dynamodb.NewImage {
			if strings.HasPrefix(k, "aws:rep:") {
				t.Fatalf("%s: %s on an item written after the upgrade", r, k)
			}
		}
	}
}

func TestUpgradeCapacityPrerequisite(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	for _, r := range legacyRegions {
		createTable(t, ctx, ddbIn(r), "prov", false, withStream(types.StreamViewTypeNewAndOldImages), func(in *dynamodb.CreateTableInput) {
			in.BillingMode = types.BillingModeProvisioned
			in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
		})
	}
	if err := adminLegacy(t, "prov"); err != nil {
		t.Fatal(err)
	}
	checks, err := srv.CheckUpgrade(ctx, "prov")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if (c.Name == "capacity") == c.Passed {
			t.Fatalf("only capacity should fail: %+v", checks)
		}
	}
	// Remediation through UpdateGlobalTableSettings: WCU auto scaling everywhere.
	if _, err := east.UpdateGlobalTableSettings(ctx, &dynamodb.UpdateGlobalTableSettingsInput{GlobalTableName: aws.String("prov"),
		GlobalTableProvisionedWriteCapacityAutoScalingSettingsUpdate: &types.AutoScalingSettingsUpdate{MinimumUnits: aws.Int64(5), MaximumUnits: aws.Int64(50),
			ScalingPolicyUpdate: &types.AutoScalingPolicyUpdate{TargetTrackingScalingPolicyConfiguration: &types.AutoScalingTargetTrackingScalingPolicyConfigurationUpdate{TargetValue: aws.Float64(70)}}}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.UpdateVersion(ctx, "prov", 0); err != nil {
		t.Fatalf("after remediation: %v", err)
	}
	eventually(t, 15*time.Second, "upgraded", func() (bool, string) {
		return aws.ToString(describe(t, ctx, east, "prov").GlobalTableVersion) == "2019.11.21", ""
	})
}

func TestLegacyOnDemandRemediation(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	for _, r := range legacyRegions {
		createTable(t, ctx, ddbIn(r), "bill", false, withStream(types.StreamViewTypeNewAndOldImages), func(in *dynamodb.CreateTableInput) {
			in.BillingMode = types.BillingModeProvisioned
			in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
		})
	}
	if err := adminLegacy(t, "bill"); err != nil {
		t.Fatal(err)
	}
	out, err := east.UpdateGlobalTableSettings(ctx, &dynamodb.UpdateGlobalTableSettingsInput{GlobalTableName: aws.String("bill"), GlobalTableBillingMode: types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range out.ReplicaSettings {
		if rs.ReplicaBillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Fatalf("%s still %s", aws.ToString(rs.RegionName), rs.ReplicaBillingModeSummary.BillingMode)
		}
	}
	checks, err := srv.CheckUpgrade(ctx, "bill")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.Passed {
			t.Fatalf("after switching to on-demand every check passes: %+v", checks)
		}
	}
	// Settings of a table that is not a legacy global table: GlobalTableNotFoundException.
	_, err = east.DescribeGlobalTableSettings(ctx, &dynamodb.DescribeGlobalTableSettingsInput{GlobalTableName: aws.String("none")})
	wantCode(t, err, "GlobalTableNotFoundException", "")
}

// The console's capacity prerequisite is one mode for the whole table: WCU auto
// scaling on every replica (table and GSIs) or on-demand on every replica. A table
// that is on-demand in one Region and auto scaled in the other is refused, although
// each Region would be fine on its own; so is a provisioned GSI without auto scaling.
func TestUpgradeCapacityOneModeForTheWholeTable(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	for _, r := range legacyRegions {
		createTable(t, ctx, ddbIn(r), "mix", false, withStream(types.StreamViewTypeNewAndOldImages), func(in *dynamodb.CreateTableInput) {
			in.BillingMode = types.BillingModeProvisioned
			in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
		})
	}
	if err := adminLegacy(t, "mix"); err != nil {
		t.Fatal(err)
	}
	registerWriteAutoScaling(t, ctx, "us-east-1", "table/mix", aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits)
	if _, err := west.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("mix"), BillingMode: types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	capacity := func() emulator.Prerequisite {
		checks, err := srv.CheckUpgrade(ctx, "mix")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			if c.Name == "capacity" {
				return c
			}
		}
		t.Fatalf("no capacity check in %+v", checks)
		return emulator.Prerequisite{}
	}
	if c := capacity(); c.Passed || !strings.Contains(c.Detail, "eu-west-1: on-demand") || !strings.Contains(c.Detail, "us-east-1: provisioned with WCU auto scaling") {
		t.Fatalf("on-demand in one Region and auto scaling in the other must be refused with both named: %+v", c)
	}
	err := srv.UpdateVersion(ctx, "mix", 0)
	var refused *emulator.UpgradeRefusedError
	if !errors.As(err, &refused) || len(refused.Failed) != 1 || refused.Failed[0].Name != "capacity" {
		t.Fatalf("want a refusal for capacity only, got %v", err)
	}
	// Both Regions on-demand: one mode, accepted.
	if _, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("mix"), BillingMode: types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "east ACTIVE", func() (bool, string) {
		td := describe(t, ctx, east, "mix")
		return td.TableStatus == types.TableStatusActive, string(td.TableStatus)
	})
	if c := capacity(); !c.Passed {
		t.Fatalf("on-demand everywhere must pass: %+v", c)
	}
}

func registerWriteAutoScaling(t *testing.T, ctx context.Context, region, id string, dim aastypes.ScalableDimension) {
	t.Helper()
	as := scalingIn(region)
	if _, err := as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String(id), ScalableDimension: dim, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(50)}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String(id), ScalableDimension: dim, PolicyName: aws.String("wcu"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeDynamoDBWriteCapacityUtilization}}}); err != nil {
		t.Fatal(err)
	}
}
