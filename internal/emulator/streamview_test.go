package emulator_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A table with a KEYS_ONLY stream takes a replica and keeps KEYS_ONLY in every
// Region, and writes still replicate both ways (hashicorp/aws's
// TestAccDynamoDBTable_Replica_singleStreamSpecification, run against AWS, expects
// the replica to be created and the view type kept). Catches a refusal of the
// replica, a replica table created with another view type, and a replicator that
// needs new images in the stream (nothing would arrive in the other Region).
func TestReplicaOnKeysOnlyStream(t *testing.T) {
	ctx := fresh(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "keys-only", false, withStream(types.StreamViewTypeKeysOnly))
	putItem(t, ctx, east, "keys-only", map[string]types.AttributeValue{"pk": s("before"), "v": s("1")})
	addReplica(t, ctx, east, "keys-only", "eu-west-1")
	for _, c := range []*dynamodb.Client{east, west} {
		td := describe(t, ctx, c, "keys-only")
		if td.StreamSpecification == nil || td.StreamSpecification.StreamViewType != types.StreamViewTypeKeysOnly {
			t.Fatalf("stream after the replica = %+v, want KEYS_ONLY kept", td.StreamSpecification)
		}
	}
	if got := strAttr(getItem(t, ctx, west, "keys-only", "before"), "v"); got != "1" {
		t.Fatalf("existing item in the replica: v = %q", got)
	}
	putItem(t, ctx, east, "keys-only", map[string]types.AttributeValue{"pk": s("a"), "v": s("east")})
	eventually(t, 15*time.Second, "east's write in eu-west-1", func() (bool, string) {
		v := strAttr(getItem(t, ctx, west, "keys-only", "a"), "v")
		return v == "east", v
	})
	if _, err := west.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("keys-only"),
		Key:              map[string]types.AttributeValue{"pk": s("a")},
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("west")}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "west's update in us-east-1", func() (bool, string) {
		v := strAttr(getItem(t, ctx, east, "keys-only", "a"), "v")
		return v == "west", v
	})
	if _, err := east.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("keys-only"), Key: map[string]types.AttributeValue{"pk": s("a")}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the delete in eu-west-1", func() (bool, string) {
		return getItem(t, ctx, west, "keys-only", "a") == nil, "still there"
	})
	// The replicated writes are not replicated back: one record per change in the
	// destination, and the stream records carry keys only.
	recs := recordsFor(streamRecords(t, ctx, "eu-west-1", "keys-only"), "a")
	if len(recs) != 3 {
		t.Fatalf("eu-west-1 stream holds %d records of a, want 3 (insert, local modify, replicated remove)", len(recs))
	}
	for _, r := range recs {
		if r.Dynamodb.NewImage != nil || r.Dynamodb.OldImage != nil {
			t.Fatalf("a KEYS_ONLY stream record carries images: %+v", r.Dynamodb)
		}
	}
}
