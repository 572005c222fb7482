package ddb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// A replica create that DynamoDB abandons without a CREATION_FAILED entry never
// appears in Replicas[]: the wait gives up after AppearWithin with that diagnosis,
// long before its deadline, instead of polling a replica that will never come. The
// fake answers DescribeTable with an ACTIVE table that lists no replica (the logic
// needs no server).
//
// Catches: the AppearWithin check dropped from WaitReplicaActive (the wait then runs
// to its deadline and ends in a plain timeout).
func TestWaitReplicaActiveGivesUpWhenTheReplicaNeverAppears(t *testing.T) {
	var describes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeTable") {
			http.Error(w, "unexpected call "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
			return
		}
		describes.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"Table":{"TableName":"orders","TableStatus":"ACTIVE","GlobalTableVersion":"2019.11.21",` +
			`"TableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/orders","Replicas":[]}}`))
	}))
	defer srv.Close()
	client := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	start := time.Now()
	_, err := WaitReplicaActive(context.Background(), client, "orders", "eu-west-1", start.Add(20*time.Second),
		Poll{First: 20 * time.Millisecond, Max: 50 * time.Millisecond, AppearWithin: 300 * time.Millisecond})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "did not appear in the table's replicas within 300ms") {
		t.Fatalf("WaitReplicaActive = %v, want the replica reported as never appearing", err)
	}
	if took < 300*time.Millisecond || took > 5*time.Second {
		t.Fatalf("the wait gave up after %s, want just after 300ms", took)
	}
	if describes.Load() < 2 {
		t.Fatalf("%d DescribeTable calls: the wait must look again before giving up", describes.Load())
	}
}
