package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// The conformance suite runs one set of data-plane expectations against every
// backend: the emulator, bare DynamoDB Local, and moto when it is installed. Each
// case reports an observation string; every backend must report the expected one,
// so they agree with each other and with DynamoDB's documented behaviour.

type backend struct {
	name    string
	ddb     *dynamodb.Client
	streams *dynamodbstreams.Client
}

type conformanceCase struct {
	name string
	want string
	run  func(t *testing.T, ctx context.Context, b *backend, table string) string
	// known lists documented divergences of a backend from DynamoDB: they are
	// reported, not failed.
	known map[string]string
}

func TestConformance(t *testing.T) {
	ctx := fresh(t)
	// Bare DynamoDB Local keeps data per access key: a key of its own keeps this
	// backend apart from the emulator's data in the same process.
	bare := awsConfig(srv.LocalEndpoint(), "us-east-1", fmt.Sprintf("bare%d", time.Now().UnixNano()))
	backends := []*backend{
		{name: "emulator", ddb: ddbIn("us-east-1"), streams: streamsIn("us-east-1")},
		{name: "dynamodb-local", ddb: dynamodb.NewFromConfig(bare), streams: dynamodbstreams.NewFromConfig(bare)},
	}
	if endpoint, stop, reason := startMoto(t); endpoint != "" {
		defer stop()
		// moto's development server may close a kept-alive connection between
		// requests; a client that reused it would read from a closed socket
		// (seen in CI). Each request to moto gets a connection of its own.
		motoCfg := awsConfig(endpoint, "us-east-1", "testing")
		motoCfg.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		backends = append(backends, &backend{name: "moto",
			ddb:     dynamodb.NewFromConfig(motoCfg),
			streams: dynamodbstreams.NewFromConfig(motoCfg)})
	} else {
		t.Logf("moto backend skipped: %s", reason)
	}

	results := map[string]map[string]string{}
	for _, tc := range conformanceCases {
		results[tc.name] = map[string]string{}
		for _, b := range backends {
			t.Run(tc.name+"/"+b.name, func(t *testing.T) {
				table := "conf-" + tc.name
				defer func() {
					_, _ = b.ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
				}()
				got := tc.run(t, ctx, b, table)
				results[tc.name][b.name] = got
				if reason, ok := tc.known[b.name]; ok && got != tc.want {
					t.Logf("known divergence of %s (%s): got %s, DynamoDB gives %s", b.name, reason, got, tc.want)
					return
				}
				if got != tc.want {
					t.Errorf("%s on %s:\n got  %s\n want %s", tc.name, b.name, got, tc.want)
				}
			})
		}
	}
	for _, tc := range conformanceCases {
		var lines []string
		for _, b := range backends {
			lines = append(lines, fmt.Sprintf("%-15s %s", b.name, results[tc.name][b.name]))
		}
		t.Logf("%s:\n  %s", tc.name, strings.Join(lines, "\n  "))
	}
}

// startMoto runs `python3 -m moto.server` on a free port when moto is importable.
func startMoto(t *testing.T) (endpoint string, stop func(), reason string) {
	if os.Getenv("DDBGLOBAL_SKIP_MOTO") != "" {
		return "", nil, "DDBGLOBAL_SKIP_MOTO is set"
	}
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		return "", nil, "python3 -m moto.server is not importable: " + err.Error()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err.Error()
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, err.Error()
	}
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return "http://127.0.0.1:" + port, stop, ""
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return "", nil, "moto did not start within 30s"
}

func confTable(t *testing.T, ctx context.Context, b *backend, table string, withRange bool, opts ...func(*dynamodb.CreateTableInput)) {
	t.Helper()
	createTable(t, ctx, b.ddb, table, withRange, opts...)
	w := dynamodb.NewTableExistsWaiter(b.ddb)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	}); err != nil {
		t.Fatal(err)
	}
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return errCode(err)
}

var conformanceCases = []conformanceCase{
	{
		name: "conditional-writes",
		want: "ok,ConditionalCheckFailedException,v=2,ConditionalCheckFailedException,ok,gone",
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, false)
			item := map[string]types.AttributeValue{"pk": s("a"), "v": n("1")}
			put := func() error {
				_, err := b.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
				return err
			}
			r := []string{outcome(put()), outcome(put())}
			up, err := b.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s("a")},
				UpdateExpression: aws.String("SET v = v + :one"), ConditionExpression: aws.String("v = :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}, ReturnValues: types.ReturnValueAllNew})
			if err != nil {
				r = append(r, outcome(err))
			} else {
				r = append(r, "v="+up.Attributes["v"].(*types.AttributeValueMemberN).Value)
			}
			del := func(v string) error {
				_, err := b.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s("a")},
					ConditionExpression: aws.String("v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(v)}})
				return err
			}
			r = append(r, outcome(del("5")), outcome(del("2")))
			got, _ := b.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s("a")}, ConsistentRead: aws.Bool(true)})
			if got != nil && got.Item == nil {
				r = append(r, "gone")
			}
			return strings.Join(r, ",")
		},
	},
	{
		name:  "batch-write-limits",
		want:  "26:ValidationException,dup:ValidationException,25:ok unprocessed=0,get=25",
		known: map[string]string{"moto": "moto 5.2 does not enforce the 25-request limit of BatchWriteItem"},
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, false)
			reqs := func(k int, dup bool) []types.WriteRequest {
				var out []types.WriteRequest
				for i := range k {
					key := fmt.Sprint("k", i)
					if dup && i == 1 {
						key = "k0"
					}
					out = append(out, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s(key)}}})
				}
				return out
			}
			_, err26 := b.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs(26, false)}})
			_, errDup := b.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs(3, true)}})
			out, err := b.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs(25, false)}})
			unprocessed := -1
			if err == nil {
				unprocessed = len(out.UnprocessedItems)
			}
			var keys []map[string]types.AttributeValue
			for i := range 25 {
				keys = append(keys, map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i))})
			}
			got, gerr := b.ddb.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true)}}})
			count := -1
			if gerr == nil {
				count = len(got.Responses[table])
			}
			return fmt.Sprintf("26:%s,dup:%s,25:%s unprocessed=%d,get=%d", outcome(err26), outcome(errDup), outcome(err), unprocessed, count)
		},
	},
	{
		name: "scan-segments-pagination",
		want: "segments=60 unique=60 pages=9 items=60",
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, false)
			for i := 0; i < 60; i += 20 {
				var reqs []types.WriteRequest
				for j := i; j < i+20; j++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s(fmt.Sprintf("item%02d", j))}}})
				}
				if _, err := b.ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}}); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]int{}
			total := 0
			for seg := range 3 {
				var start map[string]types.AttributeValue
				for {
					out, err := b.ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(3), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
					if err != nil {
						t.Fatal(err)
					}
					for _, it := range out.Items {
						seen[strAttr(it, "pk")]++
						total++
					}
					if start = out.LastEvaluatedKey; start == nil {
						break
					}
				}
			}
			pages, items := 0, 0
			var start map[string]types.AttributeValue
			for {
				out, err := b.ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(7), ExclusiveStartKey: start})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				items += len(out.Items)
				if start = out.LastEvaluatedKey; start == nil || pages > 100 {
					break
				}
			}
			return fmt.Sprintf("segments=%d unique=%d pages=%d items=%d", total, len(seen), pages, items)
		},
	},
	{
		name: "query",
		want: "first=s09,s08,s07,s06 more=true total=10 between=3 count=10",
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, true)
			for i := range 10 {
				putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s("p"), "sk": s(fmt.Sprintf("s%02d", i))})
			}
			putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s("other"), "sk": s("s00")})
			q := func(start map[string]types.AttributeValue) *dynamodb.QueryOutput {
				out, err := b.ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :s)"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p"), ":s": s("s0")}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(4), ExclusiveStartKey: start})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			first := q(nil)
			var keys []string
			for _, it := range first.Items {
				keys = append(keys, strAttr(it, "sk"))
			}
			total := len(first.Items)
			for page := first; page.LastEvaluatedKey != nil; {
				page = q(page.LastEvaluatedKey)
				total += len(page.Items)
			}
			between, err := b.ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :a AND :b"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p"), ":a": s("s02"), ":b": s("s04")}})
			if err != nil {
				t.Fatal(err)
			}
			count, err := b.ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p")}, Select: types.SelectCount})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("first=%s more=%t total=%d between=%d count=%d", strings.Join(keys, ","), first.LastEvaluatedKey != nil, total, between.Count, count.Count)
		},
	},
	{
		name: "transactions",
		want: "ok,TransactionCanceledException[ConditionalCheckFailed None],c-absent,get=2",
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, false)
			put := func(pk string) types.TransactWriteItem {
				return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{"pk": s(pk)}, ConditionExpression: aws.String("attribute_not_exists(pk)")}}
			}
			_, err1 := b.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("a"), put("b")}})
			_, err2 := b.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("a"), put("c")}})
			reasons := ""
			var tce *types.TransactionCanceledException
			if errors.As(err2, &tce) {
				var codes []string
				for _, r := range tce.CancellationReasons {
					codes = append(codes, aws.ToString(r.Code))
				}
				reasons = "[" + strings.Join(codes, " ") + "]"
			}
			absent := "c-present"
			if getItem(t, ctx, b.ddb, table, "c") == nil {
				absent = "c-absent"
			}
			got, err := b.ddb.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
				{Get: &types.Get{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s("a")}}},
				{Get: &types.Get{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s("b")}}}}})
			n := -1
			if err == nil {
				n = 0
				for _, r := range got.Responses {
					if r.Item != nil {
						n++
					}
				}
			}
			return fmt.Sprintf("%s,%s%s,%s,get=%d", outcome(err1), outcome(err2), reasons, absent, n)
		},
	},
	{
		name: "stream-records-and-iterators",
		want: "INSERT,MODIFY,REMOVE images=new|old+new|old at=MODIFY after=REMOVE latest=INSERT:b",
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, false, withStream(types.StreamViewTypeNewAndOldImages))
			putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s("a"), "v": s("1")})
			putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s("a"), "v": s("2")})
			if _, err := b.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s("a")}}); err != nil {
				t.Fatal(err)
			}
			td, err := b.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			if err != nil {
				t.Fatal(err)
			}
			arn := td.Table.LatestStreamArn
			ds, err := b.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
			if err != nil {
				t.Fatal(err)
			}
			// The records of key "a" are all in one shard, whichever it is.
			var shard *string
			for _, sh := range ds.StreamDescription.Shards {
				it, err := b.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
				if err != nil {
					t.Fatal(err)
				}
				if out, err := b.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator}); err == nil && len(out.Records) > 0 {
					shard = sh.ShardId
				}
			}
			read := func(typ streamtypes.ShardIteratorType, seq *string) []streamtypes.Record {
				it, err := b.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: typ, SequenceNumber: seq})
				if err != nil {
					t.Fatalf("GetShardIterator %s: %v", typ, err)
				}
				out, err := b.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
				if err != nil {
					t.Fatalf("GetRecords: %v", err)
				}
				return out.Records
			}
			all := read(streamtypes.ShardIteratorTypeTrimHorizon, nil)
			var images []string
			for _, r := range all {
				var parts []string
				if r.Dynamodb.OldImage != nil {
					parts = append(parts, "old")
				}
				if r.Dynamodb.NewImage != nil {
					parts = append(parts, "new")
				}
				images = append(images, strings.Join(parts, "+"))
			}
			first := func(recs []streamtypes.Record) string {
				if len(recs) == 0 {
					return "none"
				}
				return string(recs[0].EventName)
			}
			at, after := "none", "none"
			if len(all) >= 2 {
				at = first(read(streamtypes.ShardIteratorTypeAtSequenceNumber, all[1].Dynamodb.SequenceNumber))
				after = first(read(streamtypes.ShardIteratorTypeAfterSequenceNumber, all[1].Dynamodb.SequenceNumber))
			}
			var latestIts []*string
			for _, sh := range ds.StreamDescription.Shards {
				it, err := b.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeLatest})
				if err != nil {
					t.Fatal(err)
				}
				latestIts = append(latestIts, it.ShardIterator)
			}
			putItem(t, ctx, b.ddb, table, map[string]types.AttributeValue{"pk": s("b")})
			latest := "none"
			for _, it := range latestIts {
				if out, err := b.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it}); err == nil && len(out.Records) > 0 {
					latest = string(out.Records[0].EventName) + ":" + out.Records[0].Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS).Value
				}
			}
			var names []string
			for _, r := range all {
				names = append(names, string(r.EventName))
			}
			return fmt.Sprintf("%s images=%s at=%s after=%s latest=%s", strings.Join(names, ","), strings.Join(images, "|"), at, after, latest)
		},
	},
	{
		name: "attribute-fidelity",
		want: "equal",
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, false)
			item := map[string]types.AttributeValue{
				"pk":     s("a"),
				"big":    n("12345678901234567890123456789012345678"),
				"small":  n("-0.000000000000000000000000000000000001"),
				"bin":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
				"set":    &types.AttributeValueMemberSS{Value: []string{"x", "y"}},
				"nums":   &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
				"nested": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s(""), &types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberNULL{Value: true}}}}},
				"empty":  s(""),
			}
			putItem(t, ctx, b.ddb, table, item)
			got := getItem(t, ctx, b.ddb, table, "a")
			for _, k := range []string{"set", "nums"} { // set order is not defined
				if v, ok := got[k].(*types.AttributeValueMemberSS); ok {
					sort.Strings(v.Value)
				}
				if v, ok := got[k].(*types.AttributeValueMemberNS); ok {
					sort.Strings(v.Value)
				}
			}
			if reflect.DeepEqual(item, got) {
				return "equal"
			}
			return fmt.Sprintf("differs: %#v", got)
		},
	},
	{
		name: "error-answers",
		want: "missing-table:ResourceNotFoundException missing-key:ValidationException wrong-key-type:ValidationException",
		run: func(t *testing.T, ctx context.Context, b *backend, table string) string {
			confTable(t, ctx, b, table, false)
			_, e1 := b.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("conf-no-such-table"), Key: map[string]types.AttributeValue{"pk": s("a")}})
			_, e2 := b.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"other": s("a")}})
			_, e3 := b.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"pk": n("1")}})
			return fmt.Sprintf("missing-table:%s missing-key:%s wrong-key-type:%s", outcome(e1), outcome(e2), outcome(e3))
		},
	},
}
