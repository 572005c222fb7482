package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Backups and restores: CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
// RestoreTableFromBackup and RestoreTableToPointInTime.
//
// What is modelled, and how:
//
//   - An on-demand backup is a snapshot of the table's items (a consistent Scan of
//     DynamoDB Local) taken when CreateBackup is called, kept in the front with the
//     table's settings of that moment. AWS guarantees a backup holds every write
//     committed up to a minute before the request and none made a minute after
//     (CreateBackup, aws-sdk-go-v2 service/dynamodb api_op_CreateBackup.go); the
//     emulator's exact snapshot lies inside that window. The backup is CREATING for
//     Delays.Backup ("become available for restore within minutes", ibid.), and a
//     restore or delete meanwhile fails with BackupInUseException.
//   - Point-in-time recovery: while PITR is enabled on a table, every client write
//     to it through the front (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
//     TransactWriteItems) is serialized per table and logged with the item's state
//     just before the write (an undo log). The state as of time T is the current
//     items with every change logged after T undone. The restorable window is
//     [the time PITR was last enabled, now - Delays.PITRLag] (DescribeContinuousBackups:
//     "LatestRestorableDateTime is typically 5 minutes before the current time",
//     api_op_RestoreTableToPointInTime.go; re-enabling PITR resets the start, "Restore a
//     table in DynamoDB", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/pointintimerecovery_restores.html).
//     Not logged: PartiQL writes and writes replicated into a global table member
//     by the emulator's replicator, so a point-in-time restore of a global table
//     member or of a PartiQL-written table is not exact.
//   - A restore creates the target table at once with the source's key schema,
//     attribute definitions, secondary indexes, billing mode, provisioned capacity
//     and encryption (or the request's overrides), and nothing else: no stream, TTL,
//     tags, PITR, auto scaling or policies ("You must manually set up the following
//     on the restored table", api_op_RestoreTableToPointInTime.go and
//     api_op_RestoreTableFromBackup.go). The table is CREATING, with
//     RestoreSummary.RestoreInProgress, for Delays.Restore (and at least until its
//     items are loaded); meanwhile its item operations answer ResourceNotFoundException
//     ("its status might not be ACTIVE", API reference, ResourceNotFoundException)
//     and control-plane changes ResourceInUseException. RestoreSummary stays in the
//     description afterwards.
//   - A point-in-time restore in another Region names the source by SourceTableArn
//     and is called in the target Region; a backup restores into the Region it is
//     called in ("You can restore the table to the same AWS Region or to a different
//     Region from where the backup resides", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Restore.Tutorial.html).
//
// Restores write straight into DynamoDB Local: they consume no capacity of the
// source or the target, as on AWS ("You restore a table without consuming any
// provisioned throughput on the table", pointintimerecovery_restores.html).

type backupState struct {
	mu        sync.Mutex
	backups   map[string]*backup        // by ARN
	restores  map[tableKey]*restoreInfo // tables restored (in progress or done)
	logs      map[tableKey]*pitrLog
	armed     atomic.Bool  // PITR was enabled or a restore started since the last reset
	restoring atomic.Int32 // restores in progress
}

func newBackupState() *backupState {
	return &backupState{backups: map[string]*backup{}, restores: map[tableKey]*restoreInfo{}, logs: map[tableKey]*pitrLog{}}
}

type backup struct {
	arn, name, region, table string
	created, availableAt     time.Time
	deleted                  bool
	restoresInFlight         int
	items                    []map[string]json.RawMessage
	size                     int64
	source                   map[string]json.RawMessage // the table description at backup time
	sse                      *sseSpec
}

func (b *backup) status(now time.Time) string {
	switch {
	case b.deleted:
		return "DELETED"
	case now.Before(b.availableAt):
		return "CREATING"
	}
	return "AVAILABLE"
}

type restoreInfo struct {
	created     float64 // the restored table's CreationDateTime, to tell it from a later table of that name; 0 while it is being created
	doneAt      time.Time
	loaded      bool
	summary     map[string]any
	failedLoads string
}

func (r *restoreInfo) inProgress(now time.Time) bool { return !r.loaded || now.Before(r.doneAt) }

// pitrLog is a table's undo log since PITR was enabled.
type pitrLog struct {
	mu       sync.Mutex
	since    time.Time
	keyAttrs []string
	entries  []pitrEntry
}

type pitrEntry struct {
	at   time.Time
	key  string
	old  map[string]json.RawMessage // nil: the key held no item
	keyV map[string]json.RawMessage
}

func (s *Server) backups(req *request) ([]byte, *apiError) {
	switch req.op {
	case "CreateBackup":
		return s.createBackup(req)
	case "DescribeBackup":
		return s.describeBackup(req)
	case "ListBackups":
		return s.listBackups(req)
	case "DeleteBackup":
		return s.deleteBackup(req)
	case "RestoreTableFromBackup":
		return s.restoreTableFromBackup(req)
	case "RestoreTableToPointInTime":
		return s.restoreTableToPointInTime(req)
	}
	return nil, errorf("UnknownOperationException", http.StatusBadRequest, "An unknown operation was requested.")
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func fromEpoch(v float64) time.Time {
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond))
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// describeRaw reads a table's description from DynamoDB Local as a map (in
// DynamoDB Local's ARN space).
func (s *Server) describeRaw(ctx context.Context, region, name string) (map[string]json.RawMessage, *apiError) {
	var out struct {
		Table map[string]json.RawMessage `json:"Table"`
	}
	if e := s.ddb(ctx, region, "DescribeTable", map[string]string{"TableName": name}, &out); e != nil {
		return nil, e
	}
	return out.Table, nil
}

// scanAll reads every item of a table from DynamoDB Local.
func (s *Server) scanAll(ctx context.Context, region, name string) ([]map[string]json.RawMessage, int64, *apiError) {
	var items []map[string]json.RawMessage
	var size int64
	var start map[string]json.RawMessage
	for {
		in := map[string]any{"TableName": name, "ConsistentRead": true}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		var out struct {
			Items            []map[string]json.RawMessage `json:"Items"`
			LastEvaluatedKey map[string]json.RawMessage   `json:"LastEvaluatedKey"`
		}
		if e := s.ddb(ctx, region, "Scan", in, &out); e != nil {
			return nil, 0, e
		}
		for _, it := range out.Items {
			for k, v := range it {
				size += int64(len(k) + len(v))
			}
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			return items, size, nil
		}
		start = out.LastEvaluatedKey
	}
}

// tableBusy is TableInUseException for a table being created, restored or deleted.
func (s *Server) restoreInProgress(region, name string) bool {
	if s.bk.restoring.Load() == 0 {
		return false
	}
	s.bk.mu.Lock()
	defer s.bk.mu.Unlock()
	r := s.bk.restores[tableKey{region, name}]
	return r != nil && r.inProgress(time.Now())
}

func (s *Server) createBackup(req *request) ([]byte, *apiError) {
	var in struct {
		TableName  string `json:"TableName"`
		BackupName string `json:"BackupName"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.TableName == "" || in.BackupName == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' or 'backupName' failed to satisfy constraint: Member must not be null")
	}
	// CreateBackup errors (aws-sdk-go-v2 api_op_CreateBackup.go / types/errors.go):
	// TableNotFoundException, TableInUseException while the table is being created.
	src, e := s.describeRaw(req.ctx, req.region, in.TableName)
	if e != nil || s.describeOnly(req.region, in.TableName) {
		return nil, errorf("TableNotFoundException", http.StatusBadRequest, "Table not found: %s", in.TableName)
	}
	if s.restoreInProgress(req.region, in.TableName) {
		return nil, errorf("TableInUseException", http.StatusBadRequest, "Table is being restored: %s", in.TableName)
	}
	now := time.Now()
	var items []map[string]json.RawMessage
	var size int64
	// A backup of a PITR table is taken under its log so that no write lands mid-scan.
	if lg := s.pitrLogFor(req.ctx, req.region, in.TableName); lg != nil {
		lg.mu.Lock()
		items, size, e = s.scanAll(req.ctx, req.region, in.TableName)
		lg.mu.Unlock()
	} else {
		items, size, e = s.scanAll(req.ctx, req.region, in.TableName)
	}
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	var sse *sseSpec
	if m := s.meta[tableKey{req.region, in.TableName}]; m != nil && m.SSE != nil {
		c := *m.SSE
		sse = &c
	}
	delay := s.delays.Backup
	s.mu.Unlock()
	b := &backup{
		arn:  fmt.Sprintf("%s/backup/%013d-%s", tableARN(req.region, in.TableName), now.UnixMilli(), randomSuffix()),
		name: in.BackupName, region: req.region, table: in.TableName,
		created: now, availableAt: now.Add(delay), items: items, size: size, source: src, sse: sse,
	}
	s.bk.mu.Lock()
	s.bk.backups[b.arn] = b
	s.bk.mu.Unlock()
	return marshal(map[string]any{"BackupDetails": b.details(now)})
}

func (b *backup) details(now time.Time) map[string]any {
	return map[string]any{
		"BackupArn": b.arn, "BackupName": b.name, "BackupSizeBytes": b.size, "BackupStatus": b.status(now),
		"BackupType": "USER", "BackupCreationDateTime": epoch(b.created),
	}
}

func (b *backup) description(now time.Time) map[string]any {
	src := map[string]any{
		"TableName": b.table, "TableArn": tableARN(b.region, b.table), "TableSizeBytes": b.size,
		"ItemCount": len(b.items), "KeySchema": b.source["KeySchema"], "BillingMode": billingOf(b.source),
	}
	for _, f := range []string{"TableId", "CreationDateTime", "ProvisionedThroughput"} {
		if v, ok := b.source[f]; ok {
			name := f
			if f == "CreationDateTime" {
				name = "TableCreationDateTime"
			}
			src[name] = v
		}
	}
	features := map[string]any{}
	for _, f := range []string{"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"} {
		if v, ok := b.source[f]; ok {
			name := f
			if f == "StreamSpecification" {
				name = "StreamDescription"
			}
			features[name] = v
		}
	}
	if b.sse != nil {
		features["SSEDescription"] = map[string]any{"Status": "ENABLED", "SSEType": b.sse.SSEType}
	}
	return map[string]any{"BackupDetails": b.details(now), "SourceTableDetails": src, "SourceTableFeatureDetails": features}
}

func billingOf(desc map[string]json.RawMessage) string {
	var bm struct{ BillingMode string }
	_ = json.Unmarshal(desc["BillingModeSummary"], &bm)
	if bm.BillingMode == "" {
		return "PROVISIONED"
	}
	return bm.BillingMode
}

func backupNotFound(arn string) *apiError {
	return errorf("BackupNotFoundException", http.StatusBadRequest, "Backup not found for the given BackupARN: %s", arn)
}

func (s *Server) backupByARN(arn string) *backup {
	s.bk.mu.Lock()
	defer s.bk.mu.Unlock()
	b := s.bk.backups[arn]
	if b == nil || b.deleted {
		return nil
	}
	return b
}

func (s *Server) describeBackup(req *request) ([]byte, *apiError) {
	var in struct {
		BackupArn string `json:"BackupArn"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	b := s.backupByARN(in.BackupArn)
	if b == nil {
		return nil, backupNotFound(in.BackupArn)
	}
	return marshal(map[string]any{"BackupDescription": b.description(time.Now())})
}

func (s *Server) deleteBackup(req *request) ([]byte, *apiError) {
	var in struct {
		BackupArn string `json:"BackupArn"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	now := time.Now()
	s.bk.mu.Lock()
	defer s.bk.mu.Unlock()
	b := s.bk.backups[in.BackupArn]
	if b == nil || b.deleted {
		return nil, backupNotFound(in.BackupArn)
	}
	// DeleteBackup: BackupInUseException "The backup is either being created,
	// deleted or restored to a table" (types/errors.go).
	if b.status(now) == "CREATING" || b.restoresInFlight > 0 {
		return nil, errorf("BackupInUseException", http.StatusBadRequest, "Backup is being created or restored: %s", b.arn)
	}
	b.deleted = true
	b.items = nil
	delete(s.bk.backups, b.arn)
	return marshal(map[string]any{"BackupDescription": b.description(now)})
}

func (s *Server) listBackups(req *request) ([]byte, *apiError) {
	var in struct {
		TableName               string   `json:"TableName"`
		Limit                   int      `json:"Limit"`
		TimeRangeLowerBound     *float64 `json:"TimeRangeLowerBound"`
		TimeRangeUpperBound     *float64 `json:"TimeRangeUpperBound"`
		ExclusiveStartBackupArn string   `json:"ExclusiveStartBackupArn"`
		BackupType              string   `json:"BackupType"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.Limit < 0 || in.Limit > 100 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", in.Limit)
	}
	now := time.Now()
	s.bk.mu.Lock()
	var list []*backup
	for _, b := range s.bk.backups {
		if b.region != req.region || (in.TableName != "" && b.table != in.TableName) {
			continue
		}
		// Only on-demand (USER) backups exist here.
		if in.BackupType != "" && in.BackupType != "USER" && in.BackupType != "ALL" {
			continue
		}
		if in.TimeRangeLowerBound != nil && b.created.Before(fromEpoch(*in.TimeRangeLowerBound)) {
			continue
		}
		if in.TimeRangeUpperBound != nil && !b.created.Before(fromEpoch(*in.TimeRangeUpperBound)) {
			continue
		}
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].arn < list[j].arn })
	out := []map[string]any{}
	last := ""
	for _, b := range list {
		if in.ExclusiveStartBackupArn != "" && b.arn <= in.ExclusiveStartBackupArn {
			continue
		}
		if in.Limit > 0 && len(out) == in.Limit {
			last = out[len(out)-1]["BackupArn"].(string)
			break
		}
		d := b.details(now)
		d["TableName"], d["TableArn"] = b.table, tableARN(b.region, b.table)
		if id, ok := b.source["TableId"]; ok {
			d["TableId"] = id
		}
		out = append(out, d)
	}
	s.bk.mu.Unlock()
	resp := map[string]any{"BackupSummaries": out}
	if last != "" {
		resp["LastEvaluatedBackupArn"] = last
	}
	return marshal(resp)
}

// restoreOverrides are the optional settings of both restore calls.
type restoreOverrides struct {
	TargetTableName               string            `json:"TargetTableName"`
	BillingModeOverride           string            `json:"BillingModeOverride"`
	ProvisionedThroughputOverride json.RawMessage   `json:"ProvisionedThroughputOverride"`
	GlobalSecondaryIndexOverride  []json.RawMessage `json:"GlobalSecondaryIndexOverride"`
	LocalSecondaryIndexOverride   []json.RawMessage `json:"LocalSecondaryIndexOverride"`
	SSESpecificationOverride      *sseSpec          `json:"SSESpecificationOverride"`
}

func tableAlreadyExists(name string) *apiError {
	return errorf("TableAlreadyExistsException", http.StatusBadRequest, "Table already exists: %s", name)
}

func (s *Server) restoreTableFromBackup(req *request) ([]byte, *apiError) {
	var in struct {
		restoreOverrides
		BackupArn string `json:"BackupArn"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.TargetTableName == "" || in.BackupArn == "" {
		return nil, validation("1 validation error detected: Value null at 'targetTableName' or 'backupArn' failed to satisfy constraint: Member must not be null")
	}
	now := time.Now()
	s.bk.mu.Lock()
	b := s.bk.backups[in.BackupArn]
	if b == nil || b.deleted {
		s.bk.mu.Unlock()
		return nil, backupNotFound(in.BackupArn)
	}
	if b.status(now) == "CREATING" {
		s.bk.mu.Unlock()
		return nil, errorf("BackupInUseException", http.StatusBadRequest, "Backup is being created: %s", b.arn)
	}
	b.restoresInFlight++
	items, source, sse := b.items, b.source, b.sse
	s.bk.mu.Unlock()
	defer func() {
		s.bk.mu.Lock()
		b.restoresInFlight--
		s.bk.mu.Unlock()
	}()
	summary := map[string]any{"SourceBackupArn": b.arn, "SourceTableArn": tableARN(b.region, b.table),
		"RestoreDateTime": epoch(b.created), "RestoreInProgress": true}
	return s.startRestore(req, in.restoreOverrides, source, sse, items, summary)
}

func (s *Server) restoreTableToPointInTime(req *request) ([]byte, *apiError) {
	var in struct {
		restoreOverrides
		SourceTableArn          string   `json:"SourceTableArn"`
		SourceTableName         string   `json:"SourceTableName"`
		RestoreDateTime         *float64 `json:"RestoreDateTime"`
		UseLatestRestorableTime *bool    `json:"UseLatestRestorableTime"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.TargetTableName == "" {
		return nil, validation("1 validation error detected: Value null at 'targetTableName' failed to satisfy constraint: Member must not be null")
	}
	srcRegion, srcName := req.region, in.SourceTableName
	switch {
	case in.SourceTableArn != "" && in.SourceTableName != "":
		return nil, validation("Only one of SourceTableArn or SourceTableName can be specified")
	case in.SourceTableArn != "":
		r, n, ok := tableFromARN(in.SourceTableArn)
		if !ok {
			return nil, validation("Invalid SourceTableArn: %s", in.SourceTableArn)
		}
		srcRegion, srcName = r, n
	case in.SourceTableName == "":
		return nil, validation("Either SourceTableArn or SourceTableName must be specified")
	}
	latest := in.UseLatestRestorableTime != nil && *in.UseLatestRestorableTime
	if latest == (in.RestoreDateTime != nil) {
		return nil, validation("Exactly one of RestoreDateTime or UseLatestRestorableTime=true must be specified")
	}
	src, e := s.describeRaw(req.ctx, srcRegion, srcName)
	if e != nil || s.describeOnly(srcRegion, srcName) {
		return nil, errorf("TableNotFoundException", http.StatusBadRequest, "Table not found: %s", srcName)
	}
	// PointInTimeRecoveryUnavailableException: "Point in time recovery has not yet
	// been enabled for this source table" (types/errors.go).
	earliest, latestTime, ok := s.restorableWindow(srcRegion, srcName)
	if !ok {
		return nil, errorf("PointInTimeRecoveryUnavailableException", http.StatusBadRequest,
			"Point in time recovery is not enabled for table '%s'", srcName)
	}
	at := latestTime
	if !latest {
		at = fromEpoch(*in.RestoreDateTime)
		// InvalidRestoreTimeException: "An invalid restore time was specified.
		// RestoreDateTime must be between EarliestRestorableDateTime and
		// LatestRestorableDateTime" (types/errors.go).
		if at.Before(earliest) || at.After(latestTime) {
			return nil, errorf("InvalidRestoreTimeException", http.StatusBadRequest,
				"Invalid restore time: RestoreDateTime %s must be between EarliestRestorableDateTime %s and LatestRestorableDateTime %s",
				at.UTC().Format(time.RFC3339Nano), earliest.UTC().Format(time.RFC3339Nano), latestTime.UTC().Format(time.RFC3339Nano))
		}
	}
	if _, e := s.describeRaw(req.ctx, req.region, in.TargetTableName); e == nil {
		return nil, tableAlreadyExists(in.TargetTableName)
	}
	items, e := s.itemsAsOf(req.ctx, srcRegion, srcName, at)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	var sse *sseSpec
	if m := s.meta[tableKey{srcRegion, srcName}]; m != nil && m.SSE != nil {
		c := *m.SSE
		sse = &c
	}
	s.mu.Unlock()
	summary := map[string]any{"SourceTableArn": tableARN(srcRegion, srcName), "RestoreDateTime": epoch(at), "RestoreInProgress": true}
	return s.startRestore(req, in.restoreOverrides, src, sse, items, summary)
}

// restorableWindow is the table's PITR window, or ok false when PITR is not
// ENABLED.
func (s *Server) restorableWindow(region, name string) (earliest, latest time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meta[tableKey{region, name}]
	now := time.Now()
	if m == nil || !m.PITR || now.Before(m.pitrSince.Add(s.delays.PITREnabling)) {
		return time.Time{}, time.Time{}, false
	}
	earliest = m.pitrSince.Truncate(time.Millisecond)
	latest = now.Add(-s.delays.PITRLag).Truncate(time.Millisecond)
	if latest.Before(earliest) {
		latest = earliest
	}
	return earliest, latest, true
}

// pitrWindowLocked is the description of an ENABLED PITR for DescribeContinuousBackups.
func (s *Server) pitrWindowLocked(m *tableMeta, now time.Time) map[string]any {
	latest := now.Add(-s.delays.PITRLag)
	if latest.Before(m.pitrSince) {
		latest = m.pitrSince
	}
	return map[string]any{"PointInTimeRecoveryStatus": "ENABLED", "EarliestRestorableDateTime": epoch(m.pitrSince),
		"LatestRestorableDateTime": epoch(latest), "RecoveryPeriodInDays": 35}
}

// itemsAsOf is the table's items as of at: the current items with the logged
// changes after at undone.
func (s *Server) itemsAsOf(ctx context.Context, region, name string, at time.Time) ([]map[string]json.RawMessage, *apiError) {
	lg := s.pitrLogFor(ctx, region, name)
	if lg == nil {
		return nil, errorf("PointInTimeRecoveryUnavailableException", http.StatusBadRequest, "Point in time recovery is not enabled for table '%s'", name)
	}
	lg.mu.Lock()
	defer lg.mu.Unlock()
	items, _, e := s.scanAll(ctx, region, name)
	if e != nil {
		return nil, e
	}
	byKey := make(map[string]map[string]json.RawMessage, len(items))
	order := make([]string, 0, len(items))
	for _, it := range items {
		k := canonical(pick(it, lg.keyAttrs))
		byKey[k] = it
		order = append(order, k)
	}
	undone := map[string]bool{}
	for _, e := range lg.entries {
		if !e.at.After(at) || undone[e.key] {
			continue
		}
		undone[e.key] = true
		if _, ok := byKey[e.key]; !ok {
			order = append(order, e.key)
		}
		byKey[e.key] = e.old
	}
	out := make([]map[string]json.RawMessage, 0, len(order))
	for _, k := range order {
		if it := byKey[k]; it != nil {
			out = append(out, it)
			byKey[k] = nil
		}
	}
	return out, nil
}

func pick(item map[string]json.RawMessage, attrs []string) map[string]json.RawMessage {
	k := make(map[string]json.RawMessage, len(attrs))
	for _, a := range attrs {
		if v, ok := item[a]; ok {
			k[a] = v
		}
	}
	return k
}

// startRestore creates the target table from a source description and loads
// items into it in the background.
func (s *Server) startRestore(req *request, o restoreOverrides, source map[string]json.RawMessage, sse *sseSpec,
	items []map[string]json.RawMessage, summary map[string]any) ([]byte, *apiError) {
	create, e := restoredTableInput(o, source)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	e = s.tableKeyUsableLocked(o.SSESpecificationOverride, req.region, o.TargetTableName) // kms.go
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	if _, e := s.describeRaw(req.ctx, req.region, o.TargetTableName); e == nil {
		return nil, tableAlreadyExists(o.TargetTableName)
	}
	// The restore is registered before DynamoDB Local creates the table, which
	// it shows ACTIVE at once: a describe in between must see it CREATING, as
	// DynamoDB shows a table until its restore completes (API reference,
	// RestoreTableFromBackup and RestoreTableToPointInTime: TableStatus CREATING,
	// RestoreSummary.RestoreInProgress).
	key := tableKey{req.region, o.TargetTableName}
	bk := s.bk
	s.mu.Lock()
	info := &restoreInfo{doneAt: time.Now().Add(s.delays.Restore), summary: summary}
	s.mu.Unlock()
	bk.mu.Lock()
	bk.restores[key] = info
	bk.mu.Unlock()
	bk.armed.Store(true)
	bk.restoring.Add(1)
	var created struct {
		TableDescription map[string]json.RawMessage `json:"TableDescription"`
	}
	if e := s.ddb(req.ctx, req.region, "CreateTable", create, &created); e != nil {
		bk.mu.Lock()
		if bk.restores[key] == info {
			delete(bk.restores, key)
		}
		bk.mu.Unlock()
		bk.restoring.Add(-1)
		if e.Code == "ResourceInUseException" {
			return nil, tableAlreadyExists(o.TargetTableName)
		}
		return nil, e
	}
	var createdAt float64
	_ = json.Unmarshal(created.TableDescription["CreationDateTime"], &createdAt)
	now := time.Now()
	s.mu.Lock()
	m := &tableMeta{Tags: map[string]string{}, activeAt: now}
	if o.SSESpecificationOverride != nil {
		sse = normalizeSSE(o.SSESpecificationOverride)
		if sse != nil {
			sse.KMSMasterKeyID = s.kmsKeyARNLocked(sse.KMSMasterKeyID, req.region)
		}
	} else if sse != nil && sse.SSEType == "KMS" && sse.KMSMasterKeyID != "" {
		// A customer managed key of another Region cannot encrypt the restored table;
		// the emulator keeps the AWS managed key then.
		if !strings.Contains(sse.KMSMasterKeyID, ":"+req.region+":") {
			sse.KMSMasterKeyID = ""
		}
	}
	m.SSE = sse
	s.meta[key] = m
	gen := s.generation
	s.mu.Unlock()
	bk.mu.Lock()
	info.created = createdAt
	bk.mu.Unlock()
	s.backgroundWG.Add(1)
	go func() {
		defer s.backgroundWG.Done()
		defer bk.restoring.Add(-1)
		err := s.loadItems(req.region, o.TargetTableName, items, gen)
		bk.mu.Lock()
		info.loaded = true
		if err != nil {
			info.failedLoads = err.Error()
			s.logf("restore of %s in %s: loading items: %v", o.TargetTableName, req.region, err)
		}
		wait := time.Until(info.doneAt)
		bk.mu.Unlock()
		if wait > 0 {
			s.sleep(wait)
		}
	}()
	out := map[string]json.RawMessage{}
	for k, v := range created.TableDescription {
		out[k] = v
	}
	resp, _ := json.Marshal(map[string]any{"TableDescription": out})
	return s.decorate(req.region, fromLocal(resp, req.region), "TableDescription"), nil
}

// loadItems writes a restore's items into DynamoDB Local, 25 at a time.
func (s *Server) loadItems(region, table string, items []map[string]json.RawMessage, gen int) error {
	ctx := context.Background()
	for i := 0; i < len(items); i += 25 {
		s.mu.Lock()
		stale := s.generation != gen || s.stopped
		s.mu.Unlock()
		if stale {
			return nil
		}
		batch := items[i:min(i+25, len(items))]
		reqs := make([]map[string]any, len(batch))
		for j, it := range batch {
			reqs[j] = map[string]any{"PutRequest": map[string]any{"Item": it}}
		}
		pending := map[string]any{table: reqs}
		for attempt := 0; ; attempt++ {
			var out struct {
				UnprocessedItems map[string][]json.RawMessage `json:"UnprocessedItems"`
			}
			if e := s.ddb(ctx, region, "BatchWriteItem", map[string]any{"RequestItems": pending}, &out); e != nil {
				return e
			}
			if len(out.UnprocessedItems) == 0 {
				break
			}
			if attempt > 100 {
				return fmt.Errorf("items left unprocessed")
			}
			pending = map[string]any{table: out.UnprocessedItems[table]}
		}
	}
	return nil
}

// restoredTableInput builds DynamoDB Local's CreateTable for a restored table:
// the source's schema and indexes, or the overrides.
func restoredTableInput(o restoreOverrides, src map[string]json.RawMessage) (map[string]any, *apiError) {
	type index struct {
		IndexName             string          `json:"IndexName"`
		KeySchema             json.RawMessage `json:"KeySchema"`
		Projection            json.RawMessage `json:"Projection"`
		ProvisionedThroughput *throughput     `json:"ProvisionedThroughput,omitempty"`
	}
	var attrDefs []struct{ AttributeName, AttributeType string }
	_ = json.Unmarshal(src["AttributeDefinitions"], &attrDefs)
	var gsis, lsis []index
	_ = json.Unmarshal(src["GlobalSecondaryIndexes"], &gsis)
	_ = json.Unmarshal(src["LocalSecondaryIndexes"], &lsis)
	var tp *throughput
	_ = json.Unmarshal(src["ProvisionedThroughput"], &tp)
	billing := billingOf(src)
	if o.BillingModeOverride != "" {
		billing = o.BillingModeOverride
	}
	if o.ProvisionedThroughputOverride != nil {
		tp = nil
		_ = json.Unmarshal(o.ProvisionedThroughputOverride, &tp)
	}
	// Overrides must name existing indexes: "The indexes provided should match
	// existing secondary indexes" (api_op_RestoreTableToPointInTime.go).
	pickIndexes := func(have []index, over []json.RawMessage, kind string) ([]index, *apiError) {
		if over == nil {
			return have, nil
		}
		names := map[string]index{}
		for _, h := range have {
			names[h.IndexName] = h
		}
		out := []index{}
		for _, raw := range over {
			var x index
			_ = json.Unmarshal(raw, &x)
			h, ok := names[x.IndexName]
			if !ok {
				return nil, validation("%s %s does not exist on the source table", kind, x.IndexName)
			}
			if x.ProvisionedThroughput == nil {
				x.ProvisionedThroughput = h.ProvisionedThroughput
			}
			out = append(out, x)
		}
		return out, nil
	}
	gsis, e := pickIndexes(gsis, o.GlobalSecondaryIndexOverride, "Global secondary index")
	if e != nil {
		return nil, e
	}
	if lsis, e = pickIndexes(lsis, o.LocalSecondaryIndexOverride, "Local secondary index"); e != nil {
		return nil, e
	}
	used := map[string]bool{}
	noteKeys := func(raw json.RawMessage) {
		for _, n := range keyNames(raw) {
			used[n] = true
		}
	}
	noteKeys(src["KeySchema"])
	in := map[string]any{"TableName": o.TargetTableName, "KeySchema": src["KeySchema"], "BillingMode": billing}
	if billing == "PROVISIONED" {
		if tp == nil || tp.ReadCapacityUnits == 0 {
			tp = &throughput{ReadCapacityUnits: 5, WriteCapacityUnits: 5}
		}
		in["ProvisionedThroughput"] = throughput{tp.ReadCapacityUnits, tp.WriteCapacityUnits}
	}
	if len(gsis) > 0 {
		for i := range gsis {
			noteKeys(gsis[i].KeySchema)
			if billing != "PROVISIONED" {
				gsis[i].ProvisionedThroughput = nil
			} else if gsis[i].ProvisionedThroughput == nil || gsis[i].ProvisionedThroughput.ReadCapacityUnits == 0 {
				gsis[i].ProvisionedThroughput = &throughput{tp.ReadCapacityUnits, tp.WriteCapacityUnits}
			}
		}
		in["GlobalSecondaryIndexes"] = gsis
	}
	if len(lsis) > 0 {
		for i := range lsis {
			noteKeys(lsis[i].KeySchema)
			lsis[i].ProvisionedThroughput = nil
		}
		in["LocalSecondaryIndexes"] = lsis
	}
	var defs []map[string]string
	for _, d := range attrDefs {
		if used[d.AttributeName] {
			defs = append(defs, map[string]string{"AttributeName": d.AttributeName, "AttributeType": d.AttributeType})
		}
	}
	in["AttributeDefinitions"] = defs
	return in, nil
}

// decorateRestoreLocked shows a restored table's RestoreSummary, and CREATING
// while its restore is in progress. s.mu is held.
func (s *Server) decorateRestoreLocked(region, name string, table map[string]json.RawMessage) {
	if !s.bk.armed.Load() {
		return
	}
	s.bk.mu.Lock()
	defer s.bk.mu.Unlock()
	r := s.bk.restores[tableKey{region, name}]
	if r == nil {
		return
	}
	var created float64
	if json.Unmarshal(table["CreationDateTime"], &created) == nil && r.created != 0 && math.Abs(created-r.created) > 0.001 {
		return // another table of that name, created since
	}
	summary := make(map[string]any, len(r.summary))
	for k, v := range r.summary {
		summary[k] = v
	}
	inProgress := r.inProgress(time.Now())
	summary["RestoreInProgress"] = inProgress
	table["RestoreSummary"], _ = json.Marshal(summary)
	if inProgress {
		table["TableStatus"], _ = json.Marshal("CREATING")
	}
}

// restoreGuard refuses calls on a table whose restore is in progress: item
// operations as for any table that is not ACTIVE (ResourceNotFoundException),
// changes with ResourceInUseException.
func (s *Server) restoreGuard(req *request) *apiError {
	var in struct {
		TableName     string                     `json:"TableName"`
		RequestItems  map[string]json.RawMessage `json:"RequestItems"`
		TransactItems []map[string]struct {
			TableName string `json:"TableName"`
		} `json:"TransactItems"`
	}
	if json.Unmarshal(req.body, &in) != nil {
		return nil
	}
	names := []string{}
	if in.TableName != "" {
		names = append(names, in.TableName)
	}
	for t := range in.RequestItems {
		names = append(names, t)
	}
	for _, ti := range in.TransactItems {
		for _, op := range ti {
			names = append(names, op.TableName)
		}
	}
	for _, n := range names {
		if !s.restoreInProgress(req.region, n) {
			continue
		}
		switch req.op {
		case "DescribeTable", "ListTagsOfResource", "DescribeTimeToLive":
			return nil
		case "UpdateTable", "DeleteTable", "UpdateTimeToLive", "UpdateContinuousBackups", "DescribeContinuousBackups":
			return resourceInUse("Attempt to change a resource which is still in use: Table is being restored: %s", n)
		}
		return tableNotFound(n)
	}
	return nil
}

// pitrLogFor returns the undo log of a table whose PITR is on (creating it), or nil.
func (s *Server) pitrLogFor(ctx context.Context, region, name string) *pitrLog {
	s.mu.Lock()
	m := s.meta[tableKey{region, name}]
	if m == nil || !m.PITR {
		s.mu.Unlock()
		return nil
	}
	since := m.pitrSince
	s.mu.Unlock()
	bk := s.bk
	bk.mu.Lock()
	lg := bk.logs[tableKey{region, name}]
	bk.mu.Unlock()
	if lg != nil && lg.since.Equal(since) {
		return lg
	}
	desc, e := s.describeRaw(ctx, region, name)
	if e != nil {
		return nil
	}
	bk.mu.Lock()
	defer bk.mu.Unlock()
	if cur := bk.logs[tableKey{region, name}]; cur != nil && cur.since.Equal(since) {
		return cur
	}
	lg = &pitrLog{since: since, keyAttrs: keyNames(desc["KeySchema"])}
	bk.logs[tableKey{region, name}] = lg
	return lg
}

// notePITR is called when PITR is switched on or off.
func (s *Server) notePITR(enabled bool) {
	if enabled {
		s.bk.armed.Store(true)
	}
}

// loggedWrite runs a client write: for every PITR table it touches, under that
// table's log, with the state of each written key noted before the write.
// handled is false when no table of the request has PITR on.
func (s *Server) loggedWrite(req *request, forward func() ([]byte, *apiError)) (resp []byte, aerr *apiError, handled bool) {
	writes := writtenKeys(req.body)
	type tw struct {
		lg   *pitrLog
		keys []map[string]json.RawMessage
		name string
	}
	byTable := map[string]*tw{}
	for _, w := range writes {
		t := byTable[w.table]
		if t == nil {
			lg := s.pitrLogFor(req.ctx, req.region, w.table)
			if lg == nil {
				byTable[w.table] = &tw{}
				continue
			}
			t = &tw{lg: lg, name: w.table}
			byTable[w.table] = t
		}
		if t.lg != nil {
			t.keys = append(t.keys, w.attrs)
		}
	}
	var tables []*tw
	for _, t := range byTable {
		if t.lg != nil {
			tables = append(tables, t)
		}
	}
	if len(tables) == 0 {
		return nil, nil, false
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].name < tables[j].name })
	for _, t := range tables {
		t.lg.mu.Lock()
	}
	defer func() {
		for _, t := range tables {
			t.lg.mu.Unlock()
		}
	}()
	type noted struct {
		lg  *pitrLog
		key map[string]json.RawMessage
		old map[string]json.RawMessage
	}
	var before []noted
	for _, t := range tables {
		for _, attrs := range t.keys {
			key := pick(attrs, t.lg.keyAttrs)
			var out struct {
				Item map[string]json.RawMessage `json:"Item"`
			}
			if e := s.ddb(req.ctx, req.region, "GetItem", map[string]any{"TableName": t.name, "Key": key, "ConsistentRead": true}, &out); e != nil {
				return nil, e, true
			}
			before = append(before, noted{t.lg, key, out.Item})
		}
	}
	resp, aerr = forward()
	now := time.Now()
	for _, n := range before {
		n.lg.entries = append(n.lg.entries, pitrEntry{at: now, key: canonical(n.key), old: n.old, keyV: n.key})
	}
	return resp, aerr, true
}

type writtenKey struct {
	table string
	attrs map[string]json.RawMessage
}

// writtenKeys lists the (table, key-or-item) pairs a write request touches.
func writtenKeys(body []byte) []writtenKey {
	var in struct {
		TableName     string                                  `json:"TableName"`
		Item          map[string]json.RawMessage              `json:"Item"`
		Key           map[string]json.RawMessage              `json:"Key"`
		RequestItems  map[string][]map[string]json.RawMessage `json:"RequestItems"`
		TransactItems []map[string]struct {
			TableName string                     `json:"TableName"`
			Item      map[string]json.RawMessage `json:"Item"`
			Key       map[string]json.RawMessage `json:"Key"`
		} `json:"TransactItems"`
	}
	if json.Unmarshal(body, &in) != nil {
		return nil
	}
	var out []writtenKey
	if in.TableName != "" {
		attrs := in.Key
		if attrs == nil {
			attrs = in.Item
		}
		out = append(out, writtenKey{in.TableName, attrs})
	}
	for table, reqs := range in.RequestItems {
		for _, r := range reqs {
			var w struct {
				Item map[string]json.RawMessage `json:"Item"`
				Key  map[string]json.RawMessage `json:"Key"`
			}
			for _, raw := range r {
				_ = json.Unmarshal(raw, &w)
			}
			attrs := w.Key
			if attrs == nil {
				attrs = w.Item
			}
			out = append(out, writtenKey{table, attrs})
		}
	}
	for _, ti := range in.TransactItems {
		for kind, op := range ti {
			if kind == "ConditionCheck" {
				continue
			}
			attrs := op.Key
			if attrs == nil {
				attrs = op.Item
			}
			out = append(out, writtenKey{op.TableName, attrs})
		}
	}
	return out
}
