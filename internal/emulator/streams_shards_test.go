package emulator_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// A stream has several shards, each key in one; a split closes them and each
// child continues the keys of its parent. Catches: one shard per stream (as
// DynamoDB Local has), children that mix keys of different parents, and a
// DescribeStream that ignores the page size.
func TestStreamShardsAndLineage(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "shards", false, withStream(types.StreamViewTypeNewAndOldImages))
	arn := describe(t, ctx, east, "shards").LatestStreamArn
	sc := streamsIn("us-east-1")
	roots := listShardIDs(t, ctx, sc, arn, 100)
	if len(roots) != emulator.DefaultStreamShards {
		t.Fatalf("a new stream has %d shards, want %d", len(roots), emulator.DefaultStreamShards)
	}
	for i := range 40 {
		putItem(t, ctx, east, "shards", map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i))})
	}
	home := map[string]string{} // key -> root shard
	for _, id := range roots {
		for _, r := range readShardToEnd(t, ctx, sc, arn, id) {
			k := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value
			if home[k] != "" {
				t.Fatalf("key %s in shards %s and %s", k, home[k], id)
			}
			home[k] = id
		}
	}
	if len(home) != 40 {
		t.Fatalf("the shards hold %d keys, want 40", len(home))
	}
	used := map[string]int{}
	busiest := ""
	for _, id := range home {
		used[id]++
		if used[id] > used[busiest] {
			busiest = id
		}
	}
	if len(used) < 2 {
		t.Fatalf("40 keys all in one shard: %v", used)
	}
	// A page is filled up to Limit from the shard's own records, as on AWS, so a
	// short page means the tip. Catches a page cut from DynamoDB Local's shared
	// page, which readers take for the tip while records wait behind it.
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: aws.String(busiest), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if page, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(5)}); err != nil || used[busiest] < 5 || len(page.Records) != 5 {
		t.Fatalf("GetRecords Limit 5 on a shard of %d records: %d records, %v", used[busiest], len(page.Records), err)
	}

	children, err := srv.SplitShard(ctx, "us-east-1", "shards", 2)
	if err != nil || len(children) != 2*len(roots) {
		t.Fatalf("SplitShard: %v %v", children, err)
	}
	for i := range 40 {
		putItem(t, ctx, east, "shards", map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i)), "v": s("after")})
	}
	out, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	parent := map[string]string{}
	for _, sh := range out.StreamDescription.Shards {
		parent[aws.ToString(sh.ShardId)] = aws.ToString(sh.ParentShardId)
		if parent[aws.ToString(sh.ShardId)] == "" && sh.SequenceNumberRange.EndingSequenceNumber == nil {
			t.Fatalf("root shard %s still open after the split", aws.ToString(sh.ShardId))
		}
	}
	after := 0
	for _, id := range children {
		for _, r := range readShardToEnd(t, ctx, sc, arn, id) {
			k := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value
			if parent[id] != home[k] {
				t.Fatalf("key %s went to child %s of %s, but its records were in %s", k, id, parent[id], home[k])
			}
			after++
		}
	}
	if after != 40 {
		t.Fatalf("the children hold %d records, want the 40 written after the split", after)
	}
	for _, id := range roots {
		if recs := readShardToEnd(t, ctx, sc, arn, id); len(recs) == 0 || len(recs) > 40 {
			t.Fatalf("closed root %s gives %d records", id, len(recs))
		}
	}
	kids, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn,
		ShardFilter: &streamtypes.ShardFilter{Type: streamtypes.ShardFilterTypeChildShards, ShardId: aws.String(roots[0])}})
	if err != nil || len(kids.StreamDescription.Shards) != 2 {
		t.Fatalf("CHILD_SHARDS of %s: %+v %v", roots[0], kids, err)
	}

	// A smaller page size (for tests) pages even without a Limit.
	srv.SetStreamShards(0, 5)
	page, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil || len(page.StreamDescription.Shards) != 5 || page.StreamDescription.LastEvaluatedShardId == nil {
		t.Fatalf("page of 5 out of 12: %+v %v", page, err)
	}
	if all := listShardIDs(t, ctx, sc, arn, 100); len(all) != 3*len(roots) {
		t.Fatalf("paging lists %d shards, want %d", len(all), 3*len(roots))
	}
}

// Trimming reaches every shard of a stream: catches a trim applied to DynamoDB
// Local's shard but not to the shards clients see.
func TestStreamShardsTrimmed(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "trimshards", false, withStream(types.StreamViewTypeNewAndOldImages))
	arn := describe(t, ctx, east, "trimshards").LatestStreamArn
	sc := streamsIn("us-east-1")
	for i := range 8 {
		putItem(t, ctx, east, "trimshards", map[string]types.AttributeValue{"pk": s(fmt.Sprint("old", i))})
	}
	var shard string
	var old []streamtypes.Record
	for _, id := range listShardIDs(t, ctx, sc, arn, 100) {
		if recs := readShardToEnd(t, ctx, sc, arn, id); len(recs) > 0 {
			shard, old = id, recs
			break
		}
	}
	if shard == "" {
		t.Fatal("no shard holds the records")
	}
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: aws.String(shard), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.TrimStream(ctx, "us-east-1", "trimshards"); err != nil {
		t.Fatal(err)
	}
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	wantCode(t, err, "TrimmedDataAccessException", "")
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: aws.String(shard),
		ShardIteratorType: streamtypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: old[0].Dynamodb.SequenceNumber})
	wantCode(t, err, "TrimmedDataAccessException", "")
	if recs := readShardToEnd(t, ctx, sc, arn, shard); len(recs) != 0 {
		t.Fatalf("TRIM_HORIZON after trimming gives %d trimmed records", len(recs))
	}
}

// A page of one shard is filled from however many of DynamoDB Local's shared
// pages it takes: with a small Limit and a long run of another shard's records
// before this shard's next ones, the page still holds Limit records. Catches a cap
// on the shared pages read per call, which answered a short (here empty) page
// before the tip, so that a reader draining the stream took it for the tip and
// stopped while records waited behind it.
func TestStreamShardPageFilledPastOtherShardsRecords(t *testing.T) {
	ctx := fresh(t)
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "fill", false, withStream(types.StreamViewTypeNewAndOldImages))
	arn := describe(t, ctx, east, "fill").LatestStreamArn
	sc := streamsIn("us-east-1")
	roots := listShardIDs(t, ctx, sc, arn, 100)
	for i := range 20 {
		putItem(t, ctx, east, "fill", map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i))})
	}
	home := map[string][]string{} // shard -> its keys
	var quiet, busy string
	for _, id := range roots {
		for _, r := range readShardToEnd(t, ctx, sc, arn, id) {
			home[id] = append(home[id], r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value)
		}
	}
	for _, id := range roots {
		if len(home[id]) > 0 && quiet == "" {
			quiet = id
		} else if len(home[id]) > 0 {
			busy = id
		}
	}
	if quiet == "" || busy == "" {
		t.Fatalf("20 keys did not spread over two shards: %v", home)
	}
	// The quiet shard's position after its first records.
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: aws.String(quiet), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != len(home[quiet]) || out.NextShardIterator == nil {
		t.Fatalf("first page of %s: %d records, want %d", quiet, len(out.Records), len(home[quiet]))
	}
	// 150 records of the busy shard, then 3 of the quiet one.
	for round := range 150/len(home[busy]) + 1 {
		for _, k := range home[busy] {
			putItem(t, ctx, east, "fill", map[string]types.AttributeValue{"pk": s(k), "round": n(fmt.Sprint(round))})
		}
	}
	for i := range 3 {
		putItem(t, ctx, east, "fill", map[string]types.AttributeValue{"pk": s(home[quiet][i%len(home[quiet])]), "late": n(fmt.Sprint(i))})
	}
	page, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: out.NextShardIterator, Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 {
		t.Fatalf("a page of Limit 2 behind 150 records of another shard holds %d records, want 2 (a short page reads as the tip)", len(page.Records))
	}
}
