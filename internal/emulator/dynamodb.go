package emulator

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"
)

// dynamodb handles one DynamoDB call: the operations DynamoDB Local lacks or that
// global tables change are answered here, the rest are forwarded.
func (s *Server) dynamodb(req *request) ([]byte, *apiError) {
	if s.bk.restoring.Load() > 0 {
		if e := s.restoreGuard(req); e != nil {
			return nil, e
		}
	}
	switch req.op {
	case "CreateBackup", "DescribeBackup", "ListBackups", "DeleteBackup", "RestoreTableFromBackup", "RestoreTableToPointInTime":
		return s.backups(req)
	case "CreateTable":
		return s.createTableWithPolicy(req) // multiaccount.go: ResourcePolicy, GlobalTableSourceArn

	case "DescribeTable":
		return s.decorated(req, "Table")
	case "UpdateTable":
		return s.updateTableModes(req) // mrsc.go: MRSC and multi-account rules first

	case "DeleteTable":
		return s.deleteTable(req)
	case "UpdateTimeToLive":
		return s.updateTimeToLive(req)
	case "TagResource", "UntagResource", "ListTagsOfResource":
		return s.tags(req)
	case "UpdateContinuousBackups", "DescribeContinuousBackups":
		return s.continuousBackups(req)
	case "CreateGlobalTable":
		return s.createGlobalTable(req)
	case "DescribeGlobalTable":
		return s.describeGlobalTable(req)
	case "UpdateGlobalTable":
		return s.updateGlobalTable(req)
	case "ListGlobalTables":
		return s.listGlobalTables(req)
	case "DescribeGlobalTableSettings":
		return s.describeGlobalTableSettings(req)
	case "UpdateGlobalTableSettings":
		return s.updateGlobalTableSettings(req)
	case "DescribeLimits":
		return s.describeLimits(req)
	case "DescribeTableReplicaAutoScaling":
		return s.describeTableReplicaAutoScaling(req)
	case "PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy":
		return s.resourcePolicyOp(req) // policy.go
	case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem":
		if s.bk.armed.Load() {
			if resp, e, ok := s.loggedWrite(req, func() ([]byte, *apiError) { return s.write(req) }); ok {
				return resp, e
			}
		}
		return s.write(req)
	}
	return s.forward(req)
}

// write forwards a client write.
func (s *Server) write(req *request) ([]byte, *apiError) {
	switch req.op {
	case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems":
		if s.groupCount.Load() > 0 {
			s.noteWrites(req)
		}
		return s.forward(req)
	case "BatchWriteItem":
		if s.groupCount.Load() > 0 {
			s.noteWrites(req)
		}
		if req.unprocessed == nil {
			return s.forward(req)
		}
		var in struct {
			RequestItems map[string][]json.RawMessage `json:"RequestItems"`
		}
		_ = json.Unmarshal(req.body, &in)
		if len(in.RequestItems) == 0 {
			return mergeUnprocessed([]byte(`{}`), req.unprocessed), nil
		}
		resp, aerr := s.forward(req)
		if aerr != nil {
			return nil, aerr
		}
		return mergeUnprocessed(resp, req.unprocessed), nil
	}
	return s.forward(req)
}

// tableDesc is the part of DynamoDB Local's table description the front reads.
type tableDesc struct {
	TableName              string          `json:"TableName"`
	TableStatus            string          `json:"TableStatus"`
	TableArn               string          `json:"TableArn"`
	KeySchema              json.RawMessage `json:"KeySchema"`
	AttributeDefinitions   json.RawMessage `json:"AttributeDefinitions"`
	GlobalSecondaryIndexes []indexDesc     `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes  []indexDesc     `json:"LocalSecondaryIndexes"`
	ProvisionedThroughput  *throughput     `json:"ProvisionedThroughput"`
	BillingModeSummary     *struct {
		BillingMode string `json:"BillingMode"`
	} `json:"BillingModeSummary"`
	StreamSpecification *struct {
		StreamEnabled  bool   `json:"StreamEnabled"`
		StreamViewType string `json:"StreamViewType"`
	} `json:"StreamSpecification"`
	LatestStreamArn           string `json:"LatestStreamArn"`
	DeletionProtectionEnabled bool   `json:"DeletionProtectionEnabled"`
	ItemCount                 int64  `json:"ItemCount"`
	TableClassSummary         *struct {
		TableClass string `json:"TableClass"`
	} `json:"TableClassSummary"`
}

type indexDesc struct {
	IndexName             string          `json:"IndexName"`
	KeySchema             json.RawMessage `json:"KeySchema"`
	Projection            json.RawMessage `json:"Projection"`
	ProvisionedThroughput *throughput     `json:"ProvisionedThroughput,omitempty"`
}

type throughput struct {
	ReadCapacityUnits  int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits int64 `json:"WriteCapacityUnits"`
}

func (t *tableDesc) billingMode() string {
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode != "" {
		return t.BillingModeSummary.BillingMode
	}
	return "PROVISIONED"
}

func (t *tableDesc) streamViewType() string {
	if t.StreamSpecification == nil || !t.StreamSpecification.StreamEnabled {
		return ""
	}
	return t.StreamSpecification.StreamViewType
}

func (t *tableDesc) tableClass() string {
	if t.TableClassSummary != nil && t.TableClassSummary.TableClass != "" {
		return t.TableClassSummary.TableClass
	}
	return "STANDARD"
}

// describeLocal reads a table's description from DynamoDB Local.
func (s *Server) describeLocal(req *request, region, name string) (*tableDesc, *apiError) {
	var out struct {
		Table tableDesc `json:"Table"`
	}
	if e := s.ddb(req.ctx, region, "DescribeTable", map[string]string{"TableName": name}, &out); e != nil {
		if e.Code == "ResourceNotFoundException" {
			return nil, tableNotFound(name)
		}
		return nil, e
	}
	return &out.Table, nil
}

func (s *Server) metaLocked(region, table string) *tableMeta {
	k := tableKey{region, table}
	m := s.meta[k]
	if m == nil {
		m = &tableMeta{Tags: map[string]string{}}
		s.meta[k] = m
	}
	return m
}

func (s *Server) createTable(req *request) ([]byte, *apiError) {
	var in struct {
		TableName        string          `json:"TableName"`
		SSESpecification *sseSpec        `json:"SSESpecification"`
		Tags             []tag           `json:"Tags"`
		WarmThroughput   *warmThroughput `json:"WarmThroughput"`
		TableClass       string          `json:"TableClass"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if e := checkTableClass(in.TableClass); e != nil {
		return nil, e
	}
	if in.WarmThroughput != nil {
		s.mu.Lock()
		e := warmAboveQuota(*in.WarmThroughput, s.quotaLocked(req.region), req.region)
		s.mu.Unlock()
		if e != nil {
			return nil, e
		}
	}
	s.mu.Lock()
	keyErr := s.tableKeyUsableLocked(in.SSESpecification, req.region, in.TableName) // kms.go
	s.mu.Unlock()
	if keyErr != nil {
		return nil, keyErr
	}
	resp, aerr := s.forward(req)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	m := &tableMeta{Tags: map[string]string{}, activeAt: time.Now(), Warm: in.WarmThroughput, Class: in.TableClass}
	s.meta[tableKey{req.region, in.TableName}] = m
	if in.SSESpecification != nil && in.SSESpecification.Enabled {
		m.SSE = normalizeSSE(in.SSESpecification)
		m.SSE.KMSMasterKeyID = s.kmsKeyARNLocked(m.SSE.KMSMasterKeyID, req.region)
	}
	for _, t := range in.Tags {
		m.Tags[t.Key] = t.Value
	}
	s.mu.Unlock()
	return s.decorate(req.region, resp, "TableDescription"), nil
}

func normalizeSSE(in *sseSpec) *sseSpec {
	if in == nil || !in.Enabled {
		return nil
	}
	out := *in
	if out.SSEType == "" {
		out.SSEType = "KMS"
	}
	return &out
}

// decorated forwards a call whose answer holds a table description and adds what
// the front knows (replicas, global table version, SSE, status).
func (s *Server) decorated(req *request, field string) ([]byte, *apiError) {
	resp, aerr := s.forward(req)
	if aerr != nil {
		return nil, tableNotFoundAsAWS(req, aerr)
	}
	return s.decorate(req.region, resp, field), nil
}

func (s *Server) decorate(region string, resp []byte, field string) []byte {
	var outer map[string]json.RawMessage
	if json.Unmarshal(resp, &outer) != nil || outer[field] == nil {
		return resp
	}
	var table map[string]json.RawMessage
	if json.Unmarshal(outer[field], &table) != nil {
		return resp
	}
	var name string
	_ = json.Unmarshal(table["TableName"], &name)
	s.mu.Lock()
	s.decorateLocked(region, name, table)
	s.mu.Unlock()
	outer[field], _ = json.Marshal(table)
	out, _ := json.Marshal(outer)
	return out
}

func (s *Server) decorateLocked(region, name string, table map[string]json.RawMessage) {
	meta := s.meta[tableKey{region, name}]
	decorateWarmLocked(meta, table)
	decorateOnDemandLocked(table)
	defer decorateClassLocked(table)
	if meta != nil && meta.Class != "" {
		table["TableClassSummary"], _ = json.Marshal(map[string]string{"TableClass": meta.Class})
	}
	s.decorateRestoreLocked(region, name, table)
	if meta != nil && time.Now().Before(meta.updatingUntil) {
		table["TableStatus"], _ = json.Marshal(statusUpdating)
	}
	if m := meta; m != nil && m.SSE != nil {
		desc := map[string]string{"Status": "ENABLED", "SSEType": m.SSE.SSEType}
		if m.SSE.SSEType == "KMS" {
			key := m.SSE.KMSMasterKeyID
			if key == "" {
				key = awsManagedKeyARN(region)
			}
			desc["KMSMasterKeyArn"] = key
		}
		table["SSEDescription"], _ = json.Marshal(desc)
	}
	g := s.groups[name]
	if g == nil || g.members[region] == nil {
		return
	}
	decorateReplicaClassLocked(table, g.members[region])
	if st := g.tableStatusLocked(region); st != "" {
		table["TableStatus"], _ = json.Marshal(st)
	}
	if g.version == versionLegacy {
		// AWS documents GlobalTableVersion and Replicas[] in DescribeTable for version
		// 2019.11.21 replicas only; a legacy member is known by DescribeGlobalTable
		// ("Determining the version of a global table", DynamoDB developer guide,
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_versions.html#globaltables.DetermineVersion).
		return
	}
	table["GlobalTableVersion"], _ = json.Marshal(g.version)
	replicas := []map[string]any{}
	for _, r := range g.sortedMembers() {
		if r.region == region {
			continue
		}
		replicas = append(replicas, withReplicationMode(r.describe()))
	}
	table["Replicas"], _ = json.Marshal(replicas)
	setIfAbsent(table, "GlobalTableSettingsReplicationMode", replicationModeSameAccount)
	if g.mode != nil {
		s.decorateModeLocked(g, region, table) // multiaccount.go, mrsc.go
	}
}

func (s *Server) updateTimeToLive(req *request) ([]byte, *apiError) {
	var in struct {
		TableName string `json:"TableName"`
	}
	_ = json.Unmarshal(req.body, &in)
	resp, aerr := s.forward(req)
	if aerr != nil {
		return nil, aerr
	}
	s.propagate(req, in.TableName, "UpdateTimeToLive", req.body)
	return resp, nil
}

// propagate repeats a settings change in every other member of a 2019.11.21
// global table, as AWS does (legacy tables do not sync settings).
func (s *Server) propagate(req *request, table, op string, body []byte) {
	s.mu.Lock()
	var regions []string
	if g := s.groups[table]; g != nil && g.version == versionCurrent && g.members[req.region] != nil {
		for _, m := range g.sortedMembers() {
			if m.region != req.region && m.status != statusCreationFailed {
				regions = append(regions, m.region)
			}
		}
	}
	s.mu.Unlock()
	for _, r := range regions {
		if _, e := s.callLocal(req.ctx, r, "DynamoDB_20120810."+op, toLocal(body)); e != nil {
			s.logf("propagating %s of %s to %s: %v", op, table, r, e)
		}
	}
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (s *Server) tags(req *request) ([]byte, *apiError) {
	var in struct {
		ResourceArn string   `json:"ResourceArn"`
		Tags        []tag    `json:"Tags"`
		TagKeys     []string `json:"TagKeys"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.ResourceArn == "" {
		return nil, validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	_, name, ok := tableFromARN(in.ResourceArn)
	if !ok {
		return nil, validation("Invalid TableArn: Invalid ResourceArn provided as input %s", in.ResourceArn)
	}
	region := scopeOfARN(in.ResourceArn) // the Region, in the ARN's account (accounts.go)
	if region != req.region {
		return nil, errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: ResourcArn: %s not found", in.ResourceArn)
	}
	if _, e := s.describeLocal(req, region, name); e != nil || s.describeOnly(region, name) {
		return nil, errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: ResourcArn: %s not found", in.ResourceArn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metaLocked(region, name)
	switch req.op {
	case "TagResource":
		if len(in.Tags) == 0 {
			return nil, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
		}
		for _, t := range in.Tags {
			m.Tags[t.Key] = t.Value
		}
		return []byte(`{}`), nil
	case "UntagResource":
		for _, k := range in.TagKeys {
			delete(m.Tags, k)
		}
		return []byte(`{}`), nil
	}
	out := []tag{}
	for k, v := range m.Tags {
		out = append(out, tag{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return marshal(map[string]any{"Tags": out})
}

func (s *Server) continuousBackups(req *request) ([]byte, *apiError) {
	var in struct {
		TableName                        string `json:"TableName"`
		PointInTimeRecoverySpecification *struct {
			PointInTimeRecoveryEnabled *bool `json:"PointInTimeRecoveryEnabled"`
		} `json:"PointInTimeRecoverySpecification"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.TableName == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	_, e := s.describeLocal(req, req.region, in.TableName)
	if e == nil && s.describeOnly(req.region, in.TableName) {
		e = tableNotFound(in.TableName)
	}
	if e != nil {
		if e.Code == "ResourceNotFoundException" {
			return nil, errorf("TableNotFoundException", http.StatusBadRequest, "Table not found: %s", in.TableName)
		}
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metaLocked(req.region, in.TableName)
	now := time.Now()
	if req.op == "UpdateContinuousBackups" {
		if in.PointInTimeRecoverySpecification == nil || in.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled == nil {
			return nil, validation("1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to satisfy constraint: Member must not be null")
		}
		enable := *in.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled
		// Right after a table or replica turns ACTIVE, enabling PITR fails for a while,
		// then reports ENABLING: hashicorp/aws retries ContinuousBackupsUnavailableException
		// and waits through ENABLING (internal/service/dynamodb/wait.go waitPITRUpdated).
		if enable && !m.PITR && now.Before(m.activeAt.Add(s.delays.PITRUnavailable)) {
			return nil, errorf("ContinuousBackupsUnavailableException", http.StatusBadRequest,
				"Backups are being enabled for the table: %s. Please retry later", in.TableName)
		}
		if enable && !m.PITR {
			m.pitrSince = now
		}
		m.PITR = enable
		s.notePITR(enable)
	}
	pitr := map[string]any{"PointInTimeRecoveryStatus": "DISABLED"}
	switch {
	case m.PITR && now.Before(m.pitrSince.Add(s.delays.PITREnabling)):
		pitr = map[string]any{"PointInTimeRecoveryStatus": "ENABLING"}
	case m.PITR:
		pitr = s.pitrWindowLocked(m, now)
	}
	return marshal(map[string]any{"ContinuousBackupsDescription": map[string]any{
		"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr,
	}})
}

// describeTableReplicaAutoScaling reports the auto scaling of a table in every
// member Region (only the caller's Region for a table that is not global).
func (s *Server) describeTableReplicaAutoScaling(req *request) ([]byte, *apiError) {
	var in struct {
		TableName string `json:"TableName"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.TableName == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	td, e := s.describeLocal(req, req.region, in.TableName)
	if e != nil {
		return nil, e
	}
	status := statusActive
	regions := map[string]string{req.region: statusActive}
	s.mu.Lock()
	if g := s.groups[in.TableName]; g != nil && g.members[req.region] != nil {
		for _, m := range g.sortedMembers() {
			regions[m.region] = m.status
		}
		if st := g.tableStatusLocked(req.region); st != "" {
			status = st
		}
	}
	var replicas []map[string]any
	base := "table/" + in.TableName
	for _, region := range sortedKeys(regions) {
		r := map[string]any{
			"RegionName": region, "ReplicaStatus": regions[region],
			"ReplicaProvisionedReadCapacityAutoScalingSettings":  s.autoScalingSettingsLocked(targetKey{region, base, "dynamodb:table:ReadCapacityUnits"}),
			"ReplicaProvisionedWriteCapacityAutoScalingSettings": s.autoScalingSettingsLocked(targetKey{region, base, "dynamodb:table:WriteCapacityUnits"}),
		}
		var gsis []map[string]any
		for _, gi := range td.GlobalSecondaryIndexes {
			id := base + "/index/" + gi.IndexName
			gsis = append(gsis, map[string]any{"IndexName": gi.IndexName, "IndexStatus": "ACTIVE",
				"ProvisionedReadCapacityAutoScalingSettings":  s.autoScalingSettingsLocked(targetKey{region, id, "dynamodb:index:ReadCapacityUnits"}),
				"ProvisionedWriteCapacityAutoScalingSettings": s.autoScalingSettingsLocked(targetKey{region, id, "dynamodb:index:WriteCapacityUnits"})})
		}
		if gsis != nil {
			r["GlobalSecondaryIndexes"] = gsis
		}
		replicas = append(replicas, r)
	}
	s.mu.Unlock()
	return marshal(map[string]any{"TableAutoScalingDescription": map[string]any{
		"TableName": in.TableName, "TableStatus": status, "Replicas": replicas}})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// describeOnly reports whether a table's Region answers DescribeTable only: while its
// replica is CREATING, and once ARCHIVED, DescribeContinuousBackups gives
// TableNotFoundException and ListTagsOfResource ResourceNotFoundException
// (shared/FACTS.md; the AWS provider's table_replica.go tolerates both on read).
func (s *Server) describeOnly(region, table string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[table]
	if g == nil || g.members[region] == nil {
		return false
	}
	st := g.members[region].status
	return st == statusCreating || st == statusArchived
}
