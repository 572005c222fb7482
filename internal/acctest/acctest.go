// Package acctest is the acceptance-test harness: it starts the local DynamoDB backend
// the tests run against, writes the provider block that points at it, and hands out SDK
// clients for setting up and checking fixtures.
//
// Tests run against the local backend unless DDBGLOBAL_ACC_AWS=1, in which case they run
// against real AWS with the credentials of the environment.
package acctest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/provider"
)

// Region is the default Region of the tests' provider block.
const Region = "us-east-1"

// Credentials the local backend accepts; any would do.
const (
	localAccessKey = "ddbglobaltest"
	localSecretKey = "ddbglobaltestsecret"
)

// ProtoV6ProviderFactories serves the provider in-process to terraform, next to a
// test-only "aws" provider with the part of aws_dynamodb_table the tests need, so
// configurations compose a base table and ddbglobal resources as users write them.
var ProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"ddbglobal": providerserver.NewProtocol6WithError(provider.New("test", "test")()),
	"aws":       providerserver.NewProtocol6WithError(newAWSProvider()),
}

// Backend is the DynamoDB endpoint the tests talk to.
type Backend struct {
	// Endpoint is empty when the tests run against real AWS.
	Endpoint string
	// Emulator is the local emulator; nil against real AWS.
	Emulator *emulator.Server
	stop     func()
}

// TestDelays keep the emulated control plane quick but still asynchronous, so tests
// see CREATING, DELETING and UPDATING as they would in AWS.
var TestDelays = emulator.Delays{
	ReplicaCreate: 1500 * time.Millisecond,
	ReplicaDelete: 500 * time.Millisecond,
	Replication:   100 * time.Millisecond,
	Upgrade:       time.Second,
	// AWS's slow settings changes, shortened but still there.
	Settle:          time.Second,
	ToggleThrottle:  time.Second,
	PITRUnavailable: 500 * time.Millisecond,
	PITREnabling:    500 * time.Millisecond,
	// Backups and restores that take time, and a point-in-time window that trails
	// the clock, shortened.
	Backup:  300 * time.Millisecond,
	Restore: 2 * time.Second,
	PITRLag: 300 * time.Millisecond,
}

var (
	backend    *Backend
	backendErr error
)

// RealAWS reports whether the tests run against real AWS.
func RealAWS() bool { return os.Getenv("DDBGLOBAL_ACC_AWS") == "1" }

// startBackend starts the local backend. This is the one place that decides what the
// acceptance tests run against.
func startBackend(ctx context.Context) (*Backend, error) {
	if RealAWS() {
		return &Backend{stop: func() {}}, nil
	}
	// Pages of 1 shard: every stream's 2 shards take two DescribeStream pages.
	srv, err := emulator.Start(ctx, emulator.Options{Delays: TestDelays, StreamPageSize: 1})
	if err != nil {
		return nil, err
	}
	return &Backend{Endpoint: srv.Endpoint, Emulator: srv, stop: srv.Stop}, nil
}

// Main is TestMain for packages with acceptance tests: it prepares Terraform's
// environment, starts the backend when TF_ACC is set, runs the tests and stops it.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if ok, code := runTableCommand(); ok {
		return code
	}
	tmp, err := os.MkdirTemp("", "ddbglobal-acc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// Terraform must not read the user's CLI config nor call home.
	cliConfig := filepath.Join(tmp, "terraformrc")
	if err := os.WriteFile(cliConfig, nil, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("TF_CLI_CONFIG_FILE", cliConfig)
	os.Setenv("CHECKPOINT_DISABLE", "1")

	if os.Getenv("TF_ACC") != "" {
		backend, backendErr = startBackend(context.Background())
		if backendErr == nil {
			defer backend.stop()
		}
	}
	return m.Run()
}

// PreCheck fails the test when the backend could not start, and skips it when real-AWS
// mode lacks credentials.
func PreCheck(t testing.TB) {
	t.Helper()
	if backendErr != nil {
		t.Fatalf("starting the local DynamoDB backend: %v", backendErr)
	}
	if backend == nil {
		t.Fatal("acceptance tests need acctest.Main as TestMain and TF_ACC=1")
	}
	if RealAWS() && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		t.Skip("DDBGLOBAL_ACC_AWS=1 but neither AWS_ACCESS_KEY_ID nor AWS_PROFILE is set")
	}
}

// Endpoint is the local backend's URL ("" against real AWS).
func Endpoint() string { return backend.Endpoint }

// Emulator returns the local emulator for tests that steer it (delays, faults, the
// console's upgrade), and skips the test against real AWS.
func Emulator(t testing.TB) *emulator.Server {
	t.Helper()
	if backend.Emulator == nil {
		t.Skip("this test steers the local emulator; it does not run against real AWS")
	}
	return backend.Emulator
}

// ProviderConfig is the provider block for the tests, pointing at the backend.
func ProviderConfig() string {
	if RealAWS() {
		return fmt.Sprintf("provider \"ddbglobal\" {\n  region = %q\n}\n", Region)
	}
	return ProviderConfigWithEndpoint(backend.Endpoint)
}

// ProviderConfigWithEndpoint is a provider block whose every endpoint is url.
func ProviderConfigWithEndpoint(url string) string {
	return fmt.Sprintf(`provider "ddbglobal" {
  region                      = %[1]q
  access_key                  = %[2]q
  secret_key                  = %[3]q
  skip_credentials_validation = true
  max_retries                 = 2

  endpoints {
    dynamodb               = %[4]q
    dynamodbstreams        = %[4]q
    applicationautoscaling = %[4]q
    kms                    = %[4]q
    sts                    = %[4]q
  }
}
`, Region, localAccessKey, localSecretKey, url)
}

var (
	clientOnce sync.Once
	client     *awsclient.Client
	clientErr  error
)

// AWS returns SDK clients for fixtures, with the same credentials and endpoints as the
// provider block.
func AWS(t testing.TB) *awsclient.Client {
	t.Helper()
	clientOnce.Do(func() {
		cfg := awsclient.Config{Region: Region, SkipCredentialsValidation: true}
		if !RealAWS() {
			cfg.AccessKey, cfg.SecretKey = localAccessKey, localSecretKey
			cfg.Endpoints = awsclient.Endpoints{DynamoDB: backend.Endpoint, DynamoDBStreams: backend.Endpoint,
				ApplicationAutoScaling: backend.Endpoint, KMS: backend.Endpoint, STS: backend.Endpoint}
		}
		client, clientErr = awsclient.New(context.Background(), cfg)
	})
	if clientErr != nil {
		t.Fatal(clientErr)
	}
	return client
}

// DynamoDB is a fixture client for a Region.
func DynamoDB(t testing.TB, region string) *dynamodb.Client {
	return AWS(t).DynamoDB(region)
}

// ErrorRegexp matches an error output that contains each of parts in order, wherever
// Terraform wrapped the lines.
func ErrorRegexp(parts ...string) *regexp.Regexp {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = strings.Join(strings.Fields(regexp.QuoteMeta(p)), `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*"))
}

// UseEmulatorByEnvironment points the provider at the backend through the environment
// alone (Region, credentials, AWS_ENDPOINT_URL_*), as a user's shell would, so that
// configurations without a provider block, such as the published examples, run as
// written. It does nothing against real AWS.
func UseEmulatorByEnvironment(t *testing.T) {
	t.Helper()
	if RealAWS() {
		return
	}
	for k, v := range map[string]string{
		"AWS_REGION":                                Region,
		"AWS_ACCESS_KEY_ID":                         localAccessKey,
		"AWS_SECRET_ACCESS_KEY":                     localSecretKey,
		"AWS_ENDPOINT_URL_DYNAMODB":                 backend.Endpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS":         backend.Endpoint,
		"AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": backend.Endpoint,
		"AWS_ENDPOINT_URL_STS":                      backend.Endpoint,
		"AWS_ENDPOINT_URL_KMS":                      backend.Endpoint,
	} {
		t.Setenv(k, v)
	}
}
