package emulator_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Stream rules every backend must follow, whatever its number of shards.
func init() {
	conformanceCases = append(conformanceCases,
		conformanceCase{
			// DescribeStream pages (Limit 1-100, ExclusiveStartShardId,
			// LastEvaluatedShardId) and each key's records are in one shard
			// (DynamoDB Streams API reference, DescribeStream; developer guide,
			// "Change data capture for DynamoDB Streams").
			name: "stream-shard-listing",
			want: "paged=unpaged keys=12 each-key-in-one-shard limit0=ValidationException limit101=ValidationException",
			run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
				confTable(t, ctx, b, table, false, withStream(types.StreamViewTypeNewAndOldImages))
				for i := range 12 {
					putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i))})
					putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i)), "v": s("2")})
				}
				arn := streamARN(t, ctx, b, table)
				whole, err := b.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
				if err != nil {
					t.Fatal(err)
				}
				paged := listShardIDs(t, ctx, b.streams, arn, 1)
				var unpaged []string
				for _, sh := range whole.StreamDescription.Shards {
					unpaged = append(unpaged, aws.ToString(sh.ShardId))
				}
				sort.Strings(unpaged)
				pagedObs := "paged=unpaged"
				if strings.Join(paged, ",") != strings.Join(unpaged, ",") {
					pagedObs = fmt.Sprintf("paged=%v unpaged=%v", paged, unpaged)
				}
				shardsOf := map[string]map[string]bool{}
				for _, id := range unpaged {
					for _, r := range readShardToEnd(t, ctx, b.streams, arn, id) {
						k := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value
						if shardsOf[k] == nil {
							shardsOf[k] = map[string]bool{}
						}
						shardsOf[k][id] = true
					}
				}
				oneShard := "each-key-in-one-shard"
				for k, ids := range shardsOf {
					if len(ids) != 1 {
						oneShard = fmt.Sprintf("key %s in %d shards", k, len(ids))
					}
				}
				limit := func(n int32) string {
					_, err := b.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn, Limit: aws.Int32(n)})
					if err == nil {
						return "accepted"
					}
					return errCode(err)
				}
				return fmt.Sprintf("%s keys=%d %s limit0=%s limit101=%s", pagedObs, len(shardsOf), oneShard, limit(0), limit(101))
			},
			known: map[string]string{"moto": "moto 5.2 does not check DescribeStream's Limit"},
		},
		conformanceCase{
			// SequenceNumber: "Length Constraints: Minimum length of 21. Maximum
			// length of 40." (API reference, GetShardIterator): AWS refuses a
			// malformed one with a ValidationException, never a 500.
			name: "stream-bad-sequence-number",
			want: "short=ValidationException letters=ValidationException",
			run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
				confTable(t, ctx, b, table, false, withStream(types.StreamViewTypeNewAndOldImages))
				putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s("a")})
				arn := streamARN(t, ctx, b, table)
				shard := listShardIDs(t, ctx, b.streams, arn, 100)[0]
				try := func(seq string) string {
					_, err := b.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: aws.String(shard),
						ShardIteratorType: streamtypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(seq)})
					if err == nil {
						return "accepted"
					}
					return errCode(err)
				}
				return fmt.Sprintf("short=%s letters=%s", try("123"), try("0000000000000000000000abc"))
			},
			known: map[string]string{
				"dynamodb-local": "DynamoDB Local answers a malformed sequence number with 500 InternalFailure",
				"moto":           "moto 5.2 accepts a short sequence number and answers letters with a 500 HTML page",
			},
		},
	)
}

func streamARN(t *testing.T, ctx context.Context, b *backend, table string) *string {
	t.Helper()
	d := describe(t, ctx, b.ddb, table)
	if d.LatestStreamArn == nil {
		t.Fatalf("table %s has no stream", table)
	}
	return d.LatestStreamArn
}

// listShardIDs pages through DescribeStream, limit shards a page, and returns the
// sorted shard ids (failing on a repeated one).
func listShardIDs(t *testing.T, ctx context.Context, sc *dynamodbstreams.Client, arn *string, limit int32) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	var start *string
	for range 1000 {
		out, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn, Limit: aws.Int32(limit), ExclusiveStartShardId: start})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.StreamDescription.Shards) > int(limit) {
			t.Fatalf("DescribeStream gave %d shards for Limit %d", len(out.StreamDescription.Shards), limit)
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if seen[id] {
				t.Fatalf("shard %s listed twice while paging", id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if start = out.StreamDescription.LastEvaluatedShardId; start == nil {
			sort.Strings(ids)
			return ids
		}
	}
	t.Fatal("DescribeStream paging does not end")
	return nil
}

// readShardToEnd reads a shard from TRIM_HORIZON until a page comes back empty or
// the shard ends.
func readShardToEnd(t *testing.T, ctx context.Context, sc *dynamodbstreams.Client, arn *string, shard string) []streamtypes.Record {
	t.Helper()
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: aws.String(shard), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var recs []streamtypes.Record
	iter := it.ShardIterator
	for range 100 {
		out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, out.Records...)
		if out.NextShardIterator == nil || len(out.Records) == 0 {
			break
		}
		iter = out.NextShardIterator
	}
	return recs
}
