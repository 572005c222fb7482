package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestFaultErrorsAndLatency(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "faulty", false)
	createTable(t, ctx, west, "faulty", false)
	item := map[string]types.AttributeValue{"pk": s("a")}

	throttleID := srv.AddFault(emulator.Fault{Operation: "PutItem", Region: "us-east-1", ErrorCode: "ProvisionedThroughputExceededException", Count: 1})
	_, err := east.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("faulty"), Item: item})
	wantCode(t, err, "ProvisionedThroughputExceededException", "provisioned throughput")
	if httpStatus(err) != 400 {
		t.Fatalf("status = %d, want 400", httpStatus(err))
	}
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) || len(pte.ThrottlingReasons) != 1 || aws.ToString(pte.ThrottlingReasons[0].Reason) != "TableWriteProvisionedThroughputExceeded" ||
		aws.ToString(pte.ThrottlingReasons[0].Resource) != "arn:aws:dynamodb:us-east-1:123456789012:table/faulty" {
		t.Fatalf("throttling reasons: %+v", pte)
	}
	putItem(t, ctx, east, "faulty", item) // Count: 1 → the next call passes
	putItem(t, ctx, west, "faulty", item) // other Regions are not affected
	// The fire count is what fault tests assert on: one call affected, then none.
	if calls, _ := srv.FaultFired(throttleID); calls != 1 {
		t.Fatalf("FaultFired = %d, want 1", calls)
	}
	if fs := srv.Faults(); len(fs) != 1 || fs[0].Fired != 1 || fs[0].Count != 0 {
		t.Fatalf("Faults() = %+v, want the rule with fired 1 and no count left", fs)
	}

	srv.AddFault(emulator.Fault{Operation: "GetItem", Region: "eu-west-1", Table: "faulty", ErrorCode: "InternalServerError", Count: 1})
	_, err = west.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("faulty"), Key: item})
	wantCode(t, err, "InternalServerError", "")
	if httpStatus(err) != 500 {
		t.Fatalf("status = %d, want 500", httpStatus(err))
	}
	// The SDK's own retryer sees injected 5xx/throttles as retryable.
	retrying := dynamodb.NewFromConfig(awsConfig(srv.Endpoint, "eu-west-1", "AKIDRETRY"), func(o *dynamodb.Options) { o.RetryMaxAttempts = 3 })
	srv.AddFault(emulator.Fault{Operation: "GetItem", Region: "eu-west-1", ErrorCode: "ThrottlingException", Count: 2})
	if _, err := retrying.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("faulty"), Key: item}); err != nil {
		t.Fatalf("two throttles then success with 3 attempts: %v", err)
	}

	id := srv.AddFault(emulator.Fault{Operation: "Query", Latency: 300 * time.Millisecond})
	start := time.Now()
	if _, err := east.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("faulty"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("a")}}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("latency fault: call took %s", d)
	}
	srv.RemoveFault(id)
	if calls, _ := srv.FaultFired(id); calls != 1 {
		t.Fatalf("a removed rule keeps its count: FaultFired = %d, want 1", calls)
	}

	// Rate with a seed is reproducible.
	pattern := func() string {
		srv.ClearFaults()
		srv.AddFault(emulator.Fault{Operation: "GetItem", Region: "us-east-1", ErrorCode: "ProvisionedThroughputExceededException", Rate: 0.5, Seed: 42})
		var b strings.Builder
		for range 20 {
			_, err := east.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("faulty"), Key: item})
			b.WriteString(map[bool]string{true: "x", false: "."}[err != nil])
		}
		return b.String()
	}
	p1, p2 := pattern(), pattern()
	if p1 != p2 || !strings.Contains(p1, "x") || !strings.Contains(p1, ".") {
		t.Fatalf("seeded rate not reproducible or not mixed: %s vs %s", p1, p2)
	}
	srv.ClearFaults()
}

func TestFaultUnprocessedItems(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "batch", false)
	id := srv.AddFault(emulator.Fault{Operation: "BatchWriteItem", UnprocessedFraction: 0.4, Seed: 7})
	var reqs []types.WriteRequest
	for i := range 25 {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s(fmt.Sprint(i))}}})
	}
	pending := map[string][]types.WriteRequest{"batch": reqs}
	rounds, returned := 0, 0
	for len(pending) > 0 && rounds < 50 {
		out, err := east.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			t.Fatal(err)
		}
		if rounds == 0 {
			if n := len(out.UnprocessedItems["batch"]); n == 0 || n == 25 {
				t.Fatalf("first round held back %d of 25 items, want some", n)
			}
		}
		returned += len(out.UnprocessedItems["batch"])
		pending = out.UnprocessedItems
		rounds++
	}
	// Every held-back request is counted, and every one came back as UnprocessedItems.
	if calls, held := srv.FaultFired(id); calls != rounds || held != returned {
		t.Fatalf("FaultFired = %d calls, %d held; want %d calls, %d held", calls, held, rounds, returned)
	}
	srv.ClearFaults()
	if calls, _ := srv.FaultFired(id); calls != 0 {
		t.Fatalf("ClearFaults forgets the counts: FaultFired = %d", calls)
	}
	scan, err := east.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("batch")})
	if err != nil || scan.Count != 25 {
		t.Fatalf("after retrying UnprocessedItems the table holds %d items (%v), want 25", scan.Count, err)
	}
}

// streamAt opens a table's single shard.
func streamAt(t *testing.T, ctx context.Context, region, table string) (sc *dynamodbstreams.Client, arn, shard *string) {
	t.Helper()
	td := describe(t, ctx, ddbIn(region), table)
	sc = streamsIn(region)
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: td.LatestStreamArn})
	if err != nil {
		t.Fatal(err)
	}
	return sc, td.LatestStreamArn, ds.StreamDescription.Shards[0].ShardId
}

func TestFaultTrimmedStream(t *testing.T) {
	ctx := fresh(t)
	srv.SetStreamShards(1, 0) // one DynamoDB Local shard, as the test reads it (Reset restores the default)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "trim", false, withStream(types.StreamViewTypeNewAndOldImages))
	for i := range 3 {
		putItem(t, ctx, east, "trim", map[string]types.AttributeValue{"pk": s(fmt.Sprint("old", i))})
	}
	sc, arn, shard := streamAt(t, ctx, "us-east-1", "trim")
	old, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	first, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: old.ShardIterator})
	if err != nil || len(first.Records) != 3 {
		t.Fatalf("before trimming: %d records, %v", len(first.Records), err)
	}
	if err := srv.TrimStream(ctx, "us-east-1", "trim"); err != nil {
		t.Fatal(err)
	}
	putItem(t, ctx, east, "trim", map[string]types.AttributeValue{"pk": s("new")})

	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: old.ShardIterator})
	wantCode(t, err, "TrimmedDataAccessException", "")
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard,
		ShardIteratorType: streamtypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: first.Records[1].Dynamodb.SequenceNumber})
	wantCode(t, err, "TrimmedDataAccessException", "")
	th, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	after, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: th.ShardIterator})
	if err != nil || len(after.Records) != 1 || after.Records[0].Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value != "new" {
		t.Fatalf("TRIM_HORIZON after trimming must start after the trimmed records: %+v %v", after, err)
	}
}

func TestFaultExpiredIterator(t *testing.T) {
	ctx := fresh(t)
	srv.SetStreamShards(1, 0) // one DynamoDB Local shard, as the test reads it (Reset restores the default)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "expire", false, withStream(types.StreamViewTypeNewAndOldImages))
	putItem(t, ctx, east, "expire", map[string]types.AttributeValue{"pk": s("a")})
	sc, arn, shard := streamAt(t, ctx, "us-east-1", "expire")
	srv.SetIteratorLifetime(300 * time.Millisecond)
	defer srv.SetIteratorLifetime(0)
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator}); err != nil {
		t.Fatalf("a fresh iterator works: %v", err)
	}
	time.Sleep(400 * time.Millisecond) // past the iterator's lifetime
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	wantCode(t, err, "ExpiredIteratorException", "expired")

	// The same error as a rule, matched by the table behind the iterator.
	srv.SetIteratorLifetime(0)
	srv.AddFault(emulator.Fault{Operation: "GetRecords", Table: "expire", ErrorCode: "ExpiredIteratorException", Count: 1})
	it, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	wantCode(t, err, "ExpiredIteratorException", "")
	if _, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator}); err != nil {
		t.Fatalf("the rule fires once: %v", err)
	}
	srv.ClearFaults()
}

func adminCall(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.Endpoint+"/_emulator/"+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestAdminHTTP(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "admin", false)
	if code, out := adminCall(t, http.MethodPost, "faults", map[string]any{"operation": "DescribeTable", "errorCode": "InternalServerError", "count": 1}); code != 200 {
		t.Fatalf("add fault: %d %s", code, out)
	}
	_, err := east.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("admin")})
	wantCode(t, err, "InternalServerError", "")
	if code, out := adminCall(t, http.MethodPost, "delays", map[string]any{"replication": "50ms"}); code != 200 || !strings.Contains(string(out), `"replication":"50ms"`) {
		t.Fatalf("delays: %d %s", code, out)
	}
	if code, out := adminCall(t, http.MethodPost, "upgrade", map[string]any{"table": "admin"}); code != 400 || !strings.Contains(string(out), "Global table not found") {
		t.Fatalf("upgrade of a non-legacy table: %d %s", code, out)
	}
	createTable(t, ctx, east, "admin-stream", false, withStream(types.StreamViewTypeNewAndOldImages))
	for _, call := range []struct {
		path string
		body any
	}{
		{"trim-stream", map[string]any{"region": "us-east-1", "table": "admin-stream"}},
		{"split-shard", map[string]any{"region": "us-east-1", "table": "admin-stream", "children": 1}},
		{"iterator-lifetime", map[string]any{"lifetime": "1m"}},
		{"fail-replica-creation", map[string]any{"region": "eu-west-1", "table": "admin"}},
	} {
		if code, out := adminCall(t, http.MethodPost, call.path, call.body); code != 200 {
			t.Fatalf("%s: %d %s", call.path, code, out)
		}
	}
	if code, out := adminCall(t, http.MethodGet, "upgrade-check?table=admin", nil); code != 400 || !strings.Contains(string(out), "GlobalTableNotFoundException") {
		t.Fatalf("upgrade-check of a non-legacy table: %d %s", code, out)
	}
	if code, _ := adminCall(t, http.MethodDelete, "faults", nil); code != 200 {
		t.Fatal("clear faults")
	}
	if code, _ := adminCall(t, http.MethodPost, "reset", nil); code != 200 {
		t.Fatal("reset")
	}
	_, err = east.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("admin")})
	wantCode(t, err, "ResourceNotFoundException", "")
	if d := srv.CurrentDelays(); d != testDelays {
		t.Fatalf("reset restores the delays of Options: %+v", d)
	}
}

func TestFaultShardSplit(t *testing.T) {
	ctx := fresh(t)
	srv.SetStreamShards(1, 0) // one DynamoDB Local shard, as the test reads it (Reset restores the default)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "split", false, withStream(types.StreamViewTypeNewAndOldImages))
	for i := range 5 {
		putItem(t, ctx, east, "split", map[string]types.AttributeValue{"pk": s(fmt.Sprint("a", i))})
	}
	children, err := srv.SplitShard(ctx, "us-east-1", "split", 2)
	if err != nil || len(children) != 2 {
		t.Fatalf("SplitShard: %v %v", children, err)
	}
	for i := range 20 {
		putItem(t, ctx, east, "split", map[string]types.AttributeValue{"pk": s(fmt.Sprint("b", i))})
	}
	sc, arn, parent := streamAt(t, ctx, "us-east-1", "split")
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil || len(ds.StreamDescription.Shards) != 3 {
		t.Fatalf("DescribeStream after the split: %+v %v", ds, err)
	}
	if ds.StreamDescription.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil {
		t.Fatal("the parent shard must be closed")
	}
	for _, sh := range ds.StreamDescription.Shards[1:] {
		if aws.ToString(sh.ParentShardId) != aws.ToString(parent) {
			t.Fatalf("child %s has parent %s", aws.ToString(sh.ShardId), aws.ToString(sh.ParentShardId))
		}
	}
	readShard := func(shard *string, typ streamtypes.ShardIteratorType) (keys []string, closed bool) {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: typ})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for range 20 {
			out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				keys = append(keys, r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value)
			}
			if out.NextShardIterator == nil {
				return keys, true
			}
			if len(out.Records) == 0 {
				return keys, false
			}
			iter = out.NextShardIterator
		}
		return keys, false
	}
	keys, closed := readShard(parent, streamtypes.ShardIteratorTypeTrimHorizon)
	if !closed || strings.Join(keys, ",") != "a0,a1,a2,a3,a4" {
		t.Fatalf("parent: %v closed=%t, want a0..a4 and the end of the shard", keys, closed)
	}
	if keys, closed := readShard(parent, streamtypes.ShardIteratorTypeLatest); len(keys) != 0 || !closed {
		t.Fatalf("LATEST on the closed parent: %v closed=%t", keys, closed)
	}
	seen := map[string]int{}
	for _, id := range children {
		keys, closed := readShard(aws.String(id), streamtypes.ShardIteratorTypeTrimHorizon)
		if closed || len(keys) == 0 {
			t.Fatalf("child %s: %v closed=%t, want some records and an open shard", id, keys, closed)
		}
		for _, k := range keys {
			seen[k]++
		}
	}
	if len(seen) != 20 {
		t.Fatalf("children hold %d distinct keys, want the 20 written after the split: %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 || !strings.HasPrefix(k, "b") {
			t.Fatalf("key %s seen %d times in the children", k, n)
		}
	}
	// Children split again, each into children of its own.
	again, err := srv.SplitShard(ctx, "us-east-1", "split", 2)
	if err != nil || len(again) != 4 {
		t.Fatalf("splitting the two children: %v %v", again, err)
	}
}
