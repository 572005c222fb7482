package migration

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/smithy-go/middleware"
)

// callRecorder notes, per resource, the IAM actions of the requests an SDK client
// sends (the Initialize step sees every call once, before retries).
type callRecorder struct {
	mu     sync.Mutex
	tables map[string]string // table name → resource
	calls  map[string]map[string]bool
	errs   []string
}

func newCallRecorder(e *env) *callRecorder {
	return &callRecorder{
		tables: map[string]string{e.srcTable: "source table", e.dstTable: "target table", e.ckTable: "checkpoint table"},
		calls:  map[string]map[string]bool{},
	}
}

func (r *callRecorder) note(table, action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.tables[table]
	if !ok {
		r.errs = append(r.errs, fmt.Sprintf("%s on an unknown table %q", action, table))
		return
	}
	r.noteLocked(res, action)
}

func (r *callRecorder) noteLocked(res, action string) {
	if r.calls[res] == nil {
		r.calls[res] = map[string]bool{}
	}
	r.calls[res][action] = true
}

// tableOfARN is the table name in a table, stream or backup ARN
// (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME[/backup/...]).
func tableOfARN(arn string) string {
	_, after, ok := strings.Cut(arn, ":table/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(after, "/")
	return name
}

// noteBackup notes action on a backup of the source table ("source backup",
// arn:aws:dynamodb:REGION:ACCOUNT:table/SOURCE/backup/*).
func (r *callRecorder) noteBackup(arn, action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !strings.Contains(arn, "/backup/") || r.tables[tableOfARN(arn)] != "source table" {
		r.errs = append(r.errs, fmt.Sprintf("%s on %q, not a backup of the source table", action, arn))
		return
	}
	r.noteLocked("source backup", action)
}

// restoreTargetActions are the item actions DynamoDB's restore needs on its
// target table, with the caller's permissions: "RestoreTableFromBackup
// permissions are necessary on the source backup, and DynamoDB read and write
// permissions on the target table are necessary for restore functionality.
// RestoreTableToPointInTime permissions are necessary on the source table, and
// DynamoDB read and write permissions on the target table are necessary"
// (AWS: "Using IAM with DynamoDB backup and restore",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html;
// these are the actions of its example policy). The emulator does not check
// them, so a restore call is recorded as calling them on its target.
var restoreTargetActions = []string{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
	"dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"}

func (r *callRecorder) noteRestoreTarget(table string) {
	for _, a := range restoreTargetActions {
		r.note(table, a)
	}
}

func (r *callRecorder) record(params any) {
	op := "dynamodb:" + strings.TrimSuffix(reflect.TypeOf(params).Elem().Name(), "Input")
	switch in := params.(type) {
	case *dynamodb.BatchWriteItemInput:
		for t := range in.RequestItems {
			r.note(t, op)
		}
	case *dynamodb.BatchGetItemInput:
		for t := range in.RequestItems {
			r.note(t, op)
		}
	case *dynamodb.TransactWriteItemsInput:
		// Authorized per item: there is no dynamodb:TransactWriteItems action.
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				r.note(aws.ToString(it.Put.TableName), "dynamodb:PutItem")
			case it.Update != nil:
				r.note(aws.ToString(it.Update.TableName), "dynamodb:UpdateItem")
			case it.Delete != nil:
				r.note(aws.ToString(it.Delete.TableName), "dynamodb:DeleteItem")
			case it.ConditionCheck != nil:
				r.note(aws.ToString(it.ConditionCheck.TableName), "dynamodb:ConditionCheckItem")
			}
		}
	case *dynamodb.RestoreTableToPointInTimeInput:
		// Authorized on the source table; the restore writes the target.
		src := aws.ToString(in.SourceTableName)
		if src == "" {
			src = tableOfARN(aws.ToString(in.SourceTableArn))
		}
		r.note(src, op)
		r.noteRestoreTarget(aws.ToString(in.TargetTableName))
	case *dynamodb.RestoreTableFromBackupInput:
		// Authorized on the backup; the restore writes the target.
		r.noteBackup(aws.ToString(in.BackupArn), op)
		r.noteRestoreTarget(aws.ToString(in.TargetTableName))
	case *dynamodb.DescribeBackupInput:
		r.noteBackup(aws.ToString(in.BackupArn), op)
	default:
		if strings.Contains(reflect.TypeOf(params).Elem().PkgPath(), "dynamodbstreams") {
			r.mu.Lock()
			if r.calls["source stream"] == nil {
				r.calls["source stream"] = map[string]bool{}
			}
			r.calls["source stream"][op] = true
			r.mu.Unlock()
			return
		}
		f := reflect.ValueOf(params).Elem().FieldByName("TableName")
		if !f.IsValid() {
			r.mu.Lock()
			r.errs = append(r.errs, op+" names no table")
			r.mu.Unlock()
			return
		}
		r.note(aws.ToString(f.Interface().(*string)), op)
	}
}

func (r *callRecorder) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("recordCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.record(in.Parameters)
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// recordingEnv is e with clients that record their calls in r.
func recordingEnv(e *env, r *callRecorder) *env {
	c := *e
	creds := credentials.NewStaticCredentialsProvider("migrationtest", "secret", "")
	c.src = dynamodb.New(dynamodb.Options{Region: e.srcRegion, BaseEndpoint: aws.String(e.ep), Credentials: creds, APIOptions: []func(*middleware.Stack) error{r.middleware}})
	c.dst = dynamodb.New(dynamodb.Options{Region: e.dstRegion, BaseEndpoint: aws.String(e.ep), Credentials: creds, APIOptions: []func(*middleware.Stack) error{r.middleware}})
	c.streams = dynamodbstreams.New(dynamodbstreams.Options{Region: e.srcRegion, BaseEndpoint: aws.String(e.ep), Credentials: creds, APIOptions: []func(*middleware.Stack) error{r.middleware}})
	return &c
}

// iamPath is one way through a migration, each calling actions the others do not.
type iamPath struct {
	name    string
	prepare func(t *testing.T, e *env)
	mod     func(*Config)
}

// env is the path's source (us-east-1, 300 items) and target (eu-west-1), prepared.
func (p iamPath) env(t *testing.T) *env {
	e := newEnv(t, "us-east-1", "eu-west-1")
	if p.prepare != nil {
		p.prepare(t, e)
	}
	seed(t, e.src, e.srcTable, 0, 300, 100)
	return e
}

// iamPaths are both hand-offs, a stream the migration enables, a KEYS_ONLY
// stream, a non-empty target with OverwriteTarget and the version attribute.
func iamPaths() []iamPath {
	return []iamPath{
		{"replay into an empty target, stream enabled by the migration", nil, func(c *Config) { c.HandOff = HandOffReplay }},
		{"insert-if-absent, KEYS_ONLY stream, non-empty target overwritten", func(t *testing.T, e *env) {
			_, err := e.src.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: &e.srcTable,
				StreamSpecification: &types.StreamSpecification{StreamEnabled: ptr(true), StreamViewType: types.StreamViewTypeKeysOnly}})
			must(t, err)
			seed(t, e.dst, e.dstTable, 1000, 30, 10)
		}, func(c *Config) { c.HandOff = HandOffInsertIfAbsent; c.OverwriteTarget = true }},
		// Version mode deletes conditionally, one DeleteItem per key (the writer
		// deletes keys). The write limit makes the backfill last ~3 s while the
		// writer writes, so the stream writes (and marks) items during the
		// backfill, and the marks are removed after it.
		{"version attribute", nil, func(c *Config) { c.VersionAttribute = "n"; c.MaxWriteUnits = 100 }},
	}
}

// iamRestorePath is a restore migration (backfill.method = restore), run by the
// resource in TestIAMPermissionsMatchCalls and by a sync runner (sync =
// external) in TestIAMRunnerPermissionsMatchCalls.
type iamRestorePath struct {
	name      string
	pitr      bool // the source has point-in-time recovery
	transform Transform
}

// iamRestorePaths restore to a point in time (with a transform, so that the
// in-place pass runs) and from an on-demand backup.
func iamRestorePaths() []iamRestorePath {
	return []iamRestorePath{
		{"restore to a point in time, with a transform", true, restoreTransform},
		{"restore from an on-demand backup", false, Transform{}},
	}
}

// env is the path's source (us-east-1, 300 items, PITR if pitr) and the name
// of a target (eu-west-1) that does not exist yet.
func (p iamRestorePath) env(t *testing.T) *env {
	e := restoreEnv(t, "us-east-1", "eu-west-1", p.pitr)
	seed(t, e.src, e.srcTable, 0, 300, 100)
	return e
}

// writeAndDelete runs a writer on e's source until it made 50 writes, then
// deletes five keys, so that the stream holds puts, updates and deletes. Its
// puts often lower n below the seeded item's (the writer counts from 0), as an
// application that deletes an item and creates it again does: version mode
// must replicate that too.
func writeAndDelete(t *testing.T, e *env, during func()) {
	t.Helper()
	w := startWriter(e.src, e.srcTable, 400, 100, nil)
	if during != nil {
		during()
	}
	waitWrites(t, w, 50)
	w.stop(t)
	for i := 0; i < 5; i++ { // deletes in the stream, whatever the writer drew
		_, err := e.src.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &e.srcTable, Key: Item{"pk": sAV(fmt.Sprintf("k%07d", i))}})
		must(t, err)
	}
}

// addCalls adds rec's calls to got, failing on calls to unknown tables.
func addCalls(t *testing.T, got map[string]map[string]bool, rec *callRecorder) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) > 0 {
		t.Fatalf("unexpected calls: %v", rec.errs)
	}
	for res, acts := range rec.calls {
		if got[res] == nil {
			got[res] = map[string]bool{}
		}
		for a := range acts {
			got[res][a] = true
		}
	}
}

// requireCalls compares the declared permissions with the calls both ways.
func requireCalls(t *testing.T, name string, ps []Permission, got map[string]map[string]bool) {
	t.Helper()
	declared := map[string][]string{}
	for _, p := range ps {
		for _, a := range p.Actions {
			declared[p.Resource] = append(declared[p.Resource], a.Name)
		}
		if !slices.IsSorted(declared[p.Resource]) {
			t.Errorf("%s: actions not sorted: %v", p.Resource, declared[p.Resource])
		}
	}
	called := map[string][]string{}
	for res, acts := range got {
		for a := range acts {
			called[res] = append(called[res], a)
		}
		sort.Strings(called[res])
	}
	if !reflect.DeepEqual(declared, called) {
		t.Errorf("%s differs from the calls made\n declared: %v\n called:   %v", name, declared, called)
	}
}

// forEachIAMPath calls run, as a subtest, with the prepared env, the Config
// change and the transform of every path of iamPaths and iamRestorePaths; a
// restore path's target must then have been created by the restore.
func forEachIAMPath(t *testing.T, run func(t *testing.T, e *env, mod func(*Config), tr Transform)) {
	for _, p := range iamPaths() {
		t.Run(p.name, func(t *testing.T) { run(t, p.env(t), p.mod, Transform{}) })
	}
	for _, p := range iamRestorePaths() {
		t.Run(p.name, func(t *testing.T) {
			e := p.env(t)
			run(t, e, restoreConfig(p.transform), p.transform)
			restoredTarget(t, e)
		})
	}
}

// TestIAMPermissionsMatchCalls runs migrations through every path of iamPaths
// and iamRestorePaths (with writes during the backfill, Pending, Status, full verification at
// cutover, Forget, and a new checkpoint table) with SDK clients that record
// each request's IAM action per resource, and compares the union with
// Permissions both ways: an action the engine calls but the docs do not list
// (a user's policy would deny it), or one listed that no run calls, fails.
// (Removing an action from Permissions, or making the engine call a new API,
// fails it.)
func TestIAMPermissionsMatchCalls(t *testing.T) {
	got := map[string]map[string]bool{}
	run := func(t *testing.T, e *env, mod func(*Config), tr Transform) {
		rec := newCallRecorder(e)
		re := recordingEnv(e, rec)
		m := re.newMigration(t, mod)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		must(t, m.Start(ctx))
		writeAndDelete(t, e, func() { must(t, m.Backfill(ctx)) })
		_, err := m.Pending(ctx)
		must(t, err)
		must(t, m.CatchUp(ctx))
		_, err = m.Status(ctx)
		must(t, err)
		rep, err := m.Cutover(ctx, CutoverOptions{Quiet: 500 * time.Millisecond, Verify: VerifyFull})
		must(t, err)
		if rep.Mismatched != 0 {
			t.Fatalf("verification: %+v", rep)
		}
		must(t, m.Forget(ctx))
		requireSame(t, e, tr, "pk", nil)
		addCalls(t, got, rec)
	}
	forEachIAMPath(t, run)
	if !t.Failed() {
		requireCalls(t, "Permissions()", Permissions(), got)
	}
}

// TestIAMRunnerPermissionsMatchCalls is TestIAMPermissionsMatchCalls for a sync
// runner: the resource (unrecorded) starts each migration and later cuts it
// over; in between a runner, built as ddbglobal-sync builds it (its settings
// from the checkpoint table, its own clients, which record), does the backfill
// and the sync while a writer runs, and stops by itself at the cutover. For the
// restore paths (backfill.method = restore with sync = external, where the
// resource leaves the backfill to the runners) the resource only starts the
// migration and the runner does the restore, the in-place transform pass and
// the sync. Its calls must be RunnerPermissions exactly, the list the runner's
// IAM policies in the examples and the fleet guide are checked against.
func TestIAMRunnerPermissionsMatchCalls(t *testing.T) {
	got := map[string]map[string]bool{}
	run := func(t *testing.T, e *env, mod func(*Config), tr Transform) {
		m := e.newMigration(t, mod)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		must(t, m.Start(ctx))

		rec := newCallRecorder(e)
		re := recordingEnv(e, rec)
		cfg, err := LoadConfig(ctx, re.dst, e.ckTable, e.id)
		must(t, err)
		cfg.CheckpointClient = re.dst
		cfg.Source.DynamoDB, cfg.Source.Streams, cfg.Target.DynamoDB = re.src, re.streams, re.dst
		cfg.LeaseDuration, cfg.PollInterval, cfg.Logger = 3*time.Second, 100*time.Millisecond, testLogger()
		if cfg.Backfill == BackfillRestore {
			cfg.RestoreMargin = 300 * time.Millisecond // tuning, not stored: as restoreConfig
		}
		runner, err := New(cfg)
		must(t, err)
		done := make(chan error, 1)
		go func() { done <- runner.RunUntil(ctx, nil) }()

		writeAndDelete(t, e, func() {
			for {
				st, err := m.Status(ctx)
				must(t, err)
				if st.Phase != PhaseBackfilling {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		rep, err := m.Cutover(ctx, CutoverOptions{Quiet: 500 * time.Millisecond, Verify: VerifyFull})
		if err != nil || rep.Mismatched != 0 {
			requireSame(t, e, tr, "pk", nil) // names the differing items
			t.Fatalf("Cutover: %v (report %+v)", err, rep)
		}
		if err := <-done; err != nil {
			t.Fatalf("the runner: %v", err)
		}
		requireSame(t, e, tr, "pk", nil)
		addCalls(t, got, rec)
	}
	forEachIAMPath(t, run)
	if !t.Failed() {
		requireCalls(t, "RunnerPermissions()", RunnerPermissions(), got)
	}
}
