package awsclient

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestValidateEndpoint(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8765", "https://dynamodb.us-east-1.amazonaws.com", "http://localhost:8000/"} {
		if err := ValidateEndpoint(ok); err != nil {
			t.Errorf("ValidateEndpoint(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"127.0.0.1:8765", "localhost", "ftp://host", "http://", "://x", ""} {
		if err := ValidateEndpoint(bad); err == nil {
			t.Errorf("ValidateEndpoint(%q) accepted", bad)
		}
	}
}

func testConfig() Config {
	return Config{Region: "us-east-1", AccessKey: "k", SecretKey: "s", SkipCredentialsValidation: true}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	c := testConfig()
	c.MaxRetries = -1
	if _, err := New(context.Background(), c); err == nil || !strings.Contains(err.Error(), "max_retries") {
		t.Errorf("negative max_retries: %v", err)
	}
	c = testConfig()
	c.Endpoints.DynamoDBStreams = "not a url"
	if _, err := New(context.Background(), c); err == nil || !strings.Contains(err.Error(), "endpoints.dynamodbstreams") {
		t.Errorf("malformed endpoint: %v", err)
	}
}

// One client per Region and service, made on first use; endpoints apply to every Region.
func TestClientsPerRegion(t *testing.T) {
	c := testConfig()
	c.Endpoints = Endpoints{DynamoDB: "http://127.0.0.1:1", DynamoDBStreams: "http://127.0.0.1:2"}
	client, err := New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if client.DynamoDB("") != client.DynamoDB("us-east-1") {
		t.Error(`DynamoDB("") is not the default Region's client`)
	}
	eu := client.DynamoDB("eu-west-1")
	if eu == client.DynamoDB("us-east-1") || eu != client.DynamoDB("eu-west-1") {
		t.Error("clients are not kept one per Region")
	}
	if got := eu.Options().Region; got != "eu-west-1" {
		t.Errorf("eu-west-1 client Region = %s", got)
	}
	if got := *eu.Options().BaseEndpoint; got != "http://127.0.0.1:1" {
		t.Errorf("DynamoDB endpoint = %s", got)
	}
	if got := *client.Streams("ap-south-1").Options().BaseEndpoint; got != "http://127.0.0.1:2" {
		t.Errorf("Streams endpoint = %s", got)
	}
	if client.AutoScaling("eu-west-1").Options().BaseEndpoint != nil {
		t.Error("Application Auto Scaling got an endpoint it was not given")
	}
	if other := client.AssumingRole("arn:aws:iam::123456789012:role/x", ""); other == client || other.DynamoDB("eu-west-1") == eu {
		t.Error("an assumed role must get clients of its own")
	}
	if client.AssumingRole("", "") != client {
		t.Error("no role must mean the same client set")
	}
}

// Many calls retrying at once must not drain a client-side retry quota: the SDK's
// default would fail them with "retry quota exceeded" long before max_retries.
func TestRetriesDoNotRunOutOfQuota(t *testing.T) {
	var failures atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if failures.Add(1) <= 600 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"try again"}`))
			return
		}
		_, _ = w.Write([]byte(`{"TableNames":[]}`))
	}))
	defer srv.Close()
	c := testConfig()
	c.Endpoints.DynamoDB = srv.URL
	c.MaxRetries = 50
	client, err := New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.DynamoDB("").ListTables(context.Background(), &dynamodb.ListTablesInput{},
				func(o *dynamodb.Options) { o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, 50*time.Millisecond) })
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a call failed after %d server errors in all: %v", failures.Load(), err)
		}
	}
}

// A migration keeps hundreds of requests in flight to one endpoint. Each wave of
// them must reuse the connections of the last one: with the SDK's default of 10
// idle connections per host, every wave after the first opened (on AWS: TLS
// handshook) about 54 of its 64 connections again.
func TestClientsReuseConnectionsUnderConcurrency(t *testing.T) {
	const inFlight, waves = 64, 3
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // long enough for the whole wave to be in flight at once
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"TableNames":[]}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := testConfig()
	c.Endpoints.DynamoDB = srv.URL
	client, err := New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for wave := 0; wave < waves; wave++ {
		var wg sync.WaitGroup
		errs := make(chan error, inFlight)
		for i := 0; i < inFlight; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := client.DynamoDB("").ListTables(context.Background(), &dynamodb.ListTablesInput{})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := opened.Load(); n > inFlight {
		t.Fatalf("%d waves of %d concurrent requests opened %d connections, want at most %d (one per request in flight)", waves, inFlight, n, inFlight)
	}
	// The runner's clients start from the SDK's default (nil) client.
	if bc, ok := KeepConnections(nil).(*awshttp.BuildableClient); !ok || bc.GetTransport().MaxIdleConnsPerHost != MaxIdleConnsPerHost {
		t.Fatalf("KeepConnections(nil) = %T, want a client keeping %d idle connections per host", KeepConnections(nil), MaxIdleConnsPerHost)
	}
}
