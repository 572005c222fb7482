package emulator_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	benchRounds        = 10 // alternating rounds per iteration: single rounds vary by ±15% on a 2-core machine
	benchItemsPerRound = 4000
	benchWorkers       = 8
)

// BenchmarkBatchWriteItem writes the same load through the emulator and straight to
// its DynamoDB Local, alternating rounds, and reports both rates and the front's
// cost: 1 - emulator/local. Run with:
//
//	go test ./internal/emulator -run '^$' -bench BatchWriteItem -benchtime 1x
func BenchmarkBatchWriteItem(b *testing.B) {
	ctx := context.Background()
	if err := srv.Reset(ctx); err != nil {
		b.Fatal(err)
	}
	emu := dynamodb.NewFromConfig(awsConfig(srv.Endpoint, "us-east-1", "AKIDBENCH"))
	local := dynamodb.NewFromConfig(awsConfig(srv.LocalEndpoint(), "us-east-1", "AKIDBENCHLOCAL"))
	for _, c := range []*dynamodb.Client{emu, local} {
		_, _ = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("bench")})
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("bench"), BillingMode: types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}}}); err != nil {
			b.Fatal(err)
		}
	}
	payload := strings.Repeat("x", 200)
	// Warm both paths up (the JVM's JIT, connection pools) before measuring.
	for i := range 2 {
		writeRound(b, ctx, local, fmt.Sprint("warm", i, "-"), payload)
		writeRound(b, ctx, emu, fmt.Sprint("warm", i, "-"), payload)
	}
	var emuTime, localTime time.Duration
	items := 0
	b.ResetTimer()
	for i := 0; i < b.N*benchRounds; i++ {
		prefix := fmt.Sprintf("r%d-", i)
		if i%2 == 0 {
			localTime += writeRound(b, ctx, local, prefix, payload)
			emuTime += writeRound(b, ctx, emu, prefix, payload)
		} else {
			emuTime += writeRound(b, ctx, emu, prefix, payload)
			localTime += writeRound(b, ctx, local, prefix, payload)
		}
		items += benchItemsPerRound
	}
	b.StopTimer()
	emuRate := float64(items) / emuTime.Seconds()
	localRate := float64(items) / localTime.Seconds()
	b.ReportMetric(emuRate, "emulator-items/s")
	b.ReportMetric(localRate, "local-items/s")
	b.ReportMetric(100*(1-emuRate/localRate), "front-cost-%")
	b.Logf("BatchWriteItem: emulator %.0f items/s, DynamoDB Local %.0f items/s, ratio %.3f, front cost %.1f%% (goal <= 15%%)",
		emuRate, localRate, emuRate/localRate, 100*(1-emuRate/localRate))
}

// writeRound writes benchItemsPerRound items in batches of 25 from benchWorkers goroutines.
func writeRound(b *testing.B, ctx context.Context, c *dynamodb.Client, prefix, payload string) time.Duration {
	batches := make(chan []types.WriteRequest, benchItemsPerRound/25)
	for i := 0; i < benchItemsPerRound; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < i+25; j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: fmt.Sprint(prefix, j)}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(j)},
				"payload": &types.AttributeValueMemberS{Value: payload}}}})
		}
		batches <- reqs
	}
	close(batches)
	start := time.Now()
	var wg sync.WaitGroup
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reqs := range batches {
				pending := map[string][]types.WriteRequest{"bench": reqs}
				for len(pending) > 0 {
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
					if err != nil {
						b.Error(err)
						return
					}
					pending = out.UnprocessedItems
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
