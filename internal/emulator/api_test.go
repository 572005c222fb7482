package emulator_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

func TestOneAccountAndRegionalARNs(t *testing.T) {
	ctx := fresh(t)
	a, b := ddbIn("eu-central-1"), ddbIn("eu-central-1") // different access keys
	td := createTable(t, ctx, a, "shared", false, withStream(types.StreamViewTypeNewAndOldImages))
	if got := aws.ToString(td.TableArn); got != "arn:aws:dynamodb:eu-central-1:123456789012:table/shared" {
		t.Fatalf("TableArn = %s", got)
	}
	if !strings.HasPrefix(aws.ToString(td.LatestStreamArn), "arn:aws:dynamodb:eu-central-1:123456789012:table/shared/stream/") {
		t.Fatalf("LatestStreamArn = %s", aws.ToString(td.LatestStreamArn))
	}
	putItem(t, ctx, a, "shared", map[string]types.AttributeValue{"pk": s("x")})
	if getItem(t, ctx, b, "shared", "x") == nil {
		t.Fatal("a second access key must see the same account")
	}
	if _, err := ddbIn("us-west-2").DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("shared")}); errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("tables are regional: %v", err)
	}
	// Stream ARNs given back to Streams calls work, and records name the Region.
	sc := streamsIn("eu-central-1")
	ls, err := sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	found := false // streams of deleted tables stay listed for a while, as in AWS
	for _, st := range ls.Streams {
		found = found || aws.ToString(st.StreamArn) == aws.ToString(td.LatestStreamArn)
	}
	if !found {
		t.Fatalf("ListStreams does not list %s: %+v", aws.ToString(td.LatestStreamArn), ls.Streams)
	}
	recs := streamRecords(t, ctx, "eu-central-1", "shared")
	if len(recs) != 1 || aws.ToString(recs[0].AwsRegion) != "eu-central-1" {
		t.Fatalf("records: %+v", recs)
	}
}

// ARNs are rewritten in the control plane only: an ARN that an application stores in
// an item (a checkpoint, say) reads back as written, from any Region, and so does its
// stream record.
func TestItemDataKeepsARNs(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("eu-west-1")
	createTable(t, ctx, c, "notes", false, withStream(types.StreamViewTypeNewAndOldImages))
	stored := "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"
	putItem(t, ctx, c, "notes", map[string]types.AttributeValue{"pk": s("x"), "arn": s(stored)})
	got := getItem(t, ctx, ddbIn("eu-west-1"), "notes", "x")
	if v, ok := got["arn"].(*types.AttributeValueMemberS); !ok || v.Value != stored {
		t.Fatalf("stored ARN read back as %#v, want %s", got["arn"], stored)
	}
	recs := streamRecords(t, ctx, "eu-west-1", "notes")
	if len(recs) != 1 {
		t.Fatalf("records: %+v", recs)
	}
	if v := recs[0].Dynamodb.NewImage["arn"]; v == nil || !strings.Contains(fmt.Sprint(v), stored) {
		t.Fatalf("stream record image arn = %#v, want %s", v, stored)
	}
}

func TestTagsContinuousBackupsSSE(t *testing.T) {
	ctx := fresh(t)
	// The first UpdateContinuousBackups below must come within PITRUnavailable of
	// the table turning ACTIVE, after several other calls, and the DescribeContinuousBackups
	// after the enable within PITREnabling: the suite's 200 ms is too short for that on a
	// loaded machine, so this test waits longer (the next reset restores the suite's
	// delays). Longer windows are never kinder than AWS.
	srv.SetDelays(emulator.Delays{PITRUnavailable: 2 * time.Second, PITREnabling: 2 * time.Second})
	c := ddbIn("us-east-1")
	key := aws.ToString(createKey(t, ctx, "us-east-1").Arn)
	td := createTable(t, ctx, c, "tagged", false, func(in *dynamodb.CreateTableInput) {
		in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(key)}
		in.DeletionProtectionEnabled = aws.Bool(true)
	})
	if td.SSEDescription == nil || td.SSEDescription.Status != types.SSEStatusEnabled || aws.ToString(td.SSEDescription.KMSMasterKeyArn) != key {
		t.Fatalf("SSEDescription = %+v", td.SSEDescription)
	}
	arn := td.TableArn
	if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	_, err = c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/none")})
	wantCode(t, err, "ResourceNotFoundException", "")

	cb, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("tagged")})
	if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled {
		t.Fatalf("PITR before: %+v %v", cb, err)
	}
	// Right after the table turned ACTIVE, PITR cannot be enabled yet; then it is
	// ENABLING for a while before ENABLED (the AWS provider retries and waits for both).
	enable := func() error {
		_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("tagged"),
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
		return err
	}
	wantCode(t, enable(), "ContinuousBackupsUnavailableException", "")
	eventually(t, 10*time.Second, "PITR can be enabled", func() (bool, string) { err := enable(); return err == nil, errCode(err) })
	pitrStatus := func() types.PointInTimeRecoveryStatus {
		cb, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("tagged")})
		if err != nil {
			t.Fatal(err)
		}
		return cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
	}
	if st := pitrStatus(); st != "ENABLING" {
		t.Fatalf("PITR right after enabling = %s, want ENABLING", st)
	}
	eventually(t, 10*time.Second, "PITR ENABLED", func() (bool, string) {
		st := pitrStatus()
		return st == types.PointInTimeRecoveryStatusEnabled, string(st)
	})
	_, err = c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("none")})
	wantCode(t, err, "TableNotFoundException", "")

	// DynamoDB Local implements deletion protection itself.
	_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("tagged")})
	wantCode(t, err, "ValidationException", "")
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("tagged"), SSESpecification: &types.SSESpecification{Enabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	if d := describe(t, ctx, c, "tagged"); d.SSEDescription != nil {
		t.Fatalf("SSE after disabling: %+v", d.SSEDescription)
	}
}

func TestApplicationAutoScaling(t *testing.T) {
	ctx := fresh(t)
	createTable(t, ctx, ddbIn("us-east-1"), "scaled", false, func(in *dynamodb.CreateTableInput) {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	})
	as := scalingIn("us-east-1")
	_, err := as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/none"), ScalableDimension: astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(10)})
	wantCode(t, err, "ValidationException", "")
	_, err = as.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb, PolicyName: aws.String("p"),
		ResourceId: aws.String("table/scaled"), ScalableDimension: astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, PolicyType: astypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &astypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70)}})
	wantCode(t, err, "ObjectNotFoundException", "No scalable target registered")
	for _, dim := range []astypes.ScalableDimension{astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, astypes.ScalableDimensionDynamoDBTableReadCapacityUnits} {
		if _, err := as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb,
			ResourceId: aws.String("table/scaled"), ScalableDimension: dim, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(100)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := as.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb, PolicyName: aws.String("p"),
		ResourceId: aws.String("table/scaled"), ScalableDimension: astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, PolicyType: astypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &astypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(70),
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeDynamoDBWriteCapacityUtilization}}}); err != nil {
		t.Fatal(err)
	}
	targets, err := as.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb, ResourceIds: []string{"table/scaled"}})
	if err != nil || len(targets.ScalableTargets) != 2 || aws.ToInt32(targets.ScalableTargets[0].MaxCapacity) != 100 {
		t.Fatalf("DescribeScalableTargets: %+v %v", targets, err)
	}
	other, _ := scalingIn("eu-west-1").DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb})
	if len(other.ScalableTargets) != 0 {
		t.Fatal("scalable targets are regional")
	}
	pols, err := as.DescribeScalingPolicies(ctx, &applicationautoscaling.DescribeScalingPoliciesInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/scaled")})
	if err != nil || len(pols.ScalingPolicies) != 1 || aws.ToFloat64(pols.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.TargetValue) != 70 {
		t.Fatalf("DescribeScalingPolicies: %+v %v", pols, err)
	}
	if _, err := as.DeleteScalingPolicy(ctx, &applicationautoscaling.DeleteScalingPolicyInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb, PolicyName: aws.String("p"),
		ResourceId: aws.String("table/scaled"), ScalableDimension: astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.DeregisterScalableTarget(ctx, &applicationautoscaling.DeregisterScalableTargetInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/scaled"), ScalableDimension: astypes.ScalableDimensionDynamoDBTableReadCapacityUnits}); err != nil {
		t.Fatal(err)
	}
	targets, _ = as.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: astypes.ServiceNamespaceDynamodb})
	if len(targets.ScalableTargets) != 1 {
		t.Fatalf("after deregistering: %+v", targets.ScalableTargets)
	}
}

// rawCall posts a body with a target, the way an SDK would.
func rawCall(t *testing.T, target, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint, bytes.NewBufferString(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func TestBadInput(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	createTable(t, ctx, c, "bad", false)
	cases := []struct{ target, body, want string }{
		{"DynamoDB_20120810.PutItem", `{"TableName":"bad","Item":`, "SerializationException"},
		{"DynamoDB_20120810.PutItem", `[1,2]`, "SerializationException"},
		{"DynamoDB_20120810.Frobnicate", `{}`, "UnknownOperationException"},
		{"Nope_1.PutItem", `{}`, "UnknownOperationException"},
		{"DynamoDB_20120810.PutItem", `{"Item":{"pk":{"S":"a"}}}`, "ValidationException"},
		{"DynamoDB_20120810.PutItem", `{"TableName":"bad","Item":{"other":{"S":"a"}}}`, "ValidationException"},
		{"DynamoDB_20120810.GetItem", `{"TableName":"missing","Key":{"pk":{"S":"a"}}}`, "ResourceNotFoundException"},
		{"DynamoDB_20120810.UpdateTable", `{}`, "ValidationException"},
		{"DynamoDB_20120810.DescribeGlobalTable", `{"GlobalTableName":"bad"}`, "GlobalTableNotFoundException"},
	}
	for _, tc := range cases {
		code, body := rawCall(t, tc.target, tc.body)
		if code != 400 || !strings.Contains(body, "#"+tc.want) && !strings.Contains(body, `"`+tc.want) {
			t.Errorf("%s %s: %d %s, want %s", tc.target, tc.body, code, body, tc.want)
		}
	}
}

func TestSTSGetCallerIdentity(t *testing.T) {
	fresh(t)
	out, err := sts.NewFromConfig(awsConfig(srv.Endpoint, "us-east-1", "AKIDANY")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "123456789012" {
		t.Fatalf("GetCallerIdentity: %+v %v", out, err)
	}
}

// AssumeRole hands out temporary credentials that work like any others, and the role
// is recorded for tests to check.
func TestSTSAssumeRole(t *testing.T) {
	ctx := fresh(t)
	client := sts.NewFromConfig(awsConfig(srv.Endpoint, "us-east-1", "AKIDBASE"))
	role := "arn:aws:iam::210987654321:role/migrator"
	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("test")})
	if err != nil || out.Credentials == nil || aws.ToString(out.Credentials.SessionToken) == "" || out.Credentials.Expiration == nil {
		t.Fatalf("AssumeRole: %+v %v", out, err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:iam::210987654321:assumed-role/migrator/test" {
		t.Errorf("AssumedRoleUser.Arn = %s", got)
	}
	cfg := awsConfig(srv.Endpoint, "us-east-1", aws.ToString(out.Credentials.AccessKeyId))
	ddb := dynamodb.NewFromConfig(cfg)
	createTable(t, ctx, ddb, "assumed", false)
	if getItem(t, ctx, ddb, "assumed", "none") != nil {
		t.Fatal("unexpected item")
	}
	if got := srv.AssumedRoles(); len(got) != 1 || got[0] != role {
		t.Errorf("AssumedRoles = %v", got)
	}
	if _, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("not-an-arn"), RoleSessionName: aws.String("x")}); err == nil {
		t.Error("AssumeRole accepted a malformed role ARN")
	}
	if err := srv.Reset(ctx); err != nil || len(srv.AssumedRoles()) != 0 {
		t.Errorf("Reset kept the assumed roles: %v", srv.AssumedRoles())
	}
}
