package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// One emulator (one DynamoDB Local) serves the whole package; tests reset it.
var srv *emulator.Server

var testDelays = emulator.Delays{
	ReplicaCreate: 300 * time.Millisecond,
	ReplicaDelete: 200 * time.Millisecond,
	Replication:   100 * time.Millisecond,
	Upgrade:       300 * time.Millisecond,
	// Slow states stay, shortened.
	Settle:          300 * time.Millisecond,
	ToggleThrottle:  200 * time.Millisecond,
	PITRUnavailable: 200 * time.Millisecond,
	PITREnabling:    200 * time.Millisecond,
	SourceHold:      24 * time.Hour,
	Backup:          200 * time.Millisecond,
	Restore:         300 * time.Millisecond,
	PITRLag:         50 * time.Millisecond,
}

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var err error
	srv, err = emulator.Start(ctx, emulator.Options{Delays: testDelays})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the emulator:", err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// fresh resets the emulator for a test.
func fresh(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if err := srv.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
	return ctx
}

var keyCounter atomic.Int64

func awsConfig(endpoint, region, accessKey string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
	}
}

// ddbIn is a DynamoDB client for region with its own access key (all keys see one account).
func ddbIn(region string) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsConfig(srv.Endpoint, region, fmt.Sprintf("AKIDTEST%d", keyCounter.Add(1))))
}

func streamsIn(region string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(awsConfig(srv.Endpoint, region, "AKIDSTREAMS"))
}

func scalingIn(region string) *applicationautoscaling.Client {
	return applicationautoscaling.NewFromConfig(awsConfig(srv.Endpoint, region, "AKIDSCALING"))
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// createTable makes an on-demand table with a string hash key "pk" (and a
// string range key "sk" when withRange).
func createTable(t *testing.T, ctx context.Context, c *dynamodb.Client, name string, withRange bool, opts ...func(*dynamodb.CreateTableInput)) *types.TableDescription {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
	}
	if withRange {
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS})
	}
	for _, o := range opts {
		o(in)
	}
	out, err := c.CreateTable(ctx, in)
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	return out.TableDescription
}

func withStream(view types.StreamViewType) func(*dynamodb.CreateTableInput) {
	return func(in *dynamodb.CreateTableInput) {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view}
	}
}

// errCode returns the AWS error code of err ("" when err is nil).
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "non-API error: " + err.Error()
}

func wantCode(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	if msgPart != "" && !strings.Contains(err.Error(), msgPart) {
		t.Fatalf("want message containing %q, got %v", msgPart, err)
	}
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last: %s)", timeout, what, last)
}

// waitTableActive polls until the table's own status is ACTIVE (settings changes
// leave it UPDATING for Delays.Settle).
func waitTableActive(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	eventually(t, 10*time.Second, name+" ACTIVE", func() (bool, string) {
		d := describe(t, context.Background(), c, name)
		return d.TableStatus == types.TableStatusActive, string(d.TableStatus)
	})
}

func describe(t *testing.T, ctx context.Context, c *dynamodb.Client, name string) *types.TableDescription {
	t.Helper()
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTable %s: %v", name, err)
	}
	return out.Table
}

func replicaStatus(td *types.TableDescription, region string) string {
	for _, r := range td.Replicas {
		if aws.ToString(r.RegionName) == region {
			return string(r.ReplicaStatus)
		}
	}
	return ""
}

// waitReplicaActive waits until DescribeTable in from shows region ACTIVE.
func waitReplicaActive(t *testing.T, ctx context.Context, from *dynamodb.Client, name, region string) {
	t.Helper()
	eventually(t, 20*time.Second, "replica "+region+" ACTIVE", func() (bool, string) {
		td := describe(t, ctx, from, name)
		st := replicaStatus(td, region)
		return st == "ACTIVE" && td.TableStatus == types.TableStatusActive, st + "/" + string(td.TableStatus)
	})
}

func addReplica(t *testing.T, ctx context.Context, c *dynamodb.Client, name, region string) {
	t.Helper()
	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(region)}}}})
	if err != nil {
		t.Fatalf("adding replica %s: %v", region, err)
	}
	waitReplicaActive(t, ctx, c, name, region)
}

func getItem(t *testing.T, ctx context.Context, c *dynamodb.Client, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

func putItem(t *testing.T, ctx context.Context, c *dynamodb.Client, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func strAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// streamRecords reads every record of a table's stream from TRIM_HORIZON.
func streamRecords(t *testing.T, ctx context.Context, region, table string) []streamtypes.Record {
	t.Helper()
	td := describe(t, ctx, ddbIn(region), table)
	if td.LatestStreamArn == nil {
		t.Fatalf("%s in %s has no stream", table, region)
	}
	sc := streamsIn(region)
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: td.LatestStreamArn})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	var recs []streamtypes.Record
	for _, sh := range ds.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: td.LatestStreamArn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("GetShardIterator: %v", err)
		}
		iter := it.ShardIterator
		for i := 0; iter != nil && i < 50; i++ {
			out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("GetRecords: %v", err)
			}
			recs = append(recs, out.Records...)
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return recs
}

func recordsFor(recs []streamtypes.Record, pk string) []streamtypes.Record {
	var out []streamtypes.Record
	for _, r := range recs {
		if v, ok := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS); ok && v.Value == pk {
			out = append(out, r)
		}
	}
	return out
}
