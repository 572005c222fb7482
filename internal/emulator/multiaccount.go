package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Multi-account global tables (MREC only): a replica is a table created in another
// account with CreateTable GlobalTableSourceArn. Rules, each from
// "How DynamoDB multi-account global tables work"
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_MA_HowItWorks.html),
// "DynamoDB global tables security" for multi-account
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_MA_security.html)
// and the SDK model (aws-sdk-go-v2 service/dynamodb api_op_CreateTable.go, types.ReplicaDescription):
//   - GlobalTableSettingsReplicationMode is required with GlobalTableSourceArn and
//     its only value is ENABLED (same-account replicas report ENABLED_WITH_OVERRIDES);
//   - multi-account replication is for MREC tables only (an MRSC table is
//     same-account only, "Global tables", account configurations,
//     https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GlobalTables.html);
//   - replicas are added starting from a single-Region table: a same-account global
//     table cannot become a multi-account one;
//   - each replica resides in a separate account (N replicas, N accounts), and a
//     global table has one replica per Region (V2globaltables_HowItWorks.html);
//   - settings are unified: no per-replica overrides (ReplicaUpdates are refused;
//     UpdateTable settings are repeated in every replica);
//   - every replica's resource-based policy allows the replication service
//     (replication.dynamodb.amazonaws.com) dynamodb:ReadDataForReplication,
//     dynamodb:WriteDataForReplication and dynamodb:ReplicateSettings for every
//     other replica and itself; this is checked when a replica is added.
// All replicas share the table name (V2globaltables_HowItWorks.html, "All replicas
// in a global table share the same table name").
//
// A replica leaves by DeleteTable in its own account.

// replicationActions are what each replica's policy grants the replication service.
var replicationActions = []string{"dynamodb:ReadDataForReplication", "dynamodb:WriteDataForReplication", "dynamodb:ReplicateSettings"}

const (
	settingsEnabled              = "ENABLED"
	settingsEnabledWithOverrides = "ENABLED_WITH_OVERRIDES"
)

// groupMode is what a global table is beyond its version: multi-account, or
// strongly consistent with witnesses (mrsc.go).
type groupMode struct {
	multiAccount bool
	strong       bool
	witnesses    map[string]*witness // by scope
}

// createTableWithPolicy answers CreateTable: the ResourcePolicy parameter is kept by
// the front (policy.go), GlobalTableSourceArn makes a multi-account replica.
func (s *Server) createTableWithPolicy(req *request) ([]byte, *apiError) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	var policy, sourceArn, mode string
	_ = json.Unmarshal(in["ResourcePolicy"], &policy)
	_ = json.Unmarshal(in["GlobalTableSourceArn"], &sourceArn)
	_ = json.Unmarshal(in["GlobalTableSettingsReplicationMode"], &mode)
	var name string
	_ = json.Unmarshal(in["TableName"], &name)
	if policy != "" {
		if len(policy) > maxPolicyBytes {
			return nil, validation("Resource-based policy size %d exceeds the maximum allowed size of %d bytes", len(policy), maxPolicyBytes)
		}
		if _, e := parsePolicy(policy); e != nil {
			return nil, e
		}
	}
	delete(in, "ResourcePolicy")
	delete(in, "GlobalTableSourceArn")
	delete(in, "GlobalTableSettingsReplicationMode")
	var resp []byte
	var aerr *apiError
	switch {
	case sourceArn != "":
		resp, aerr = s.createMultiAccountReplica(req, name, sourceArn, mode, policy, in)
	case mode != "":
		return nil, validation("One or more parameter values were invalid: GlobalTableSettingsReplicationMode is only accepted with GlobalTableSourceArn")
	default:
		req.body, _ = json.Marshal(in)
		resp, aerr = s.createTable(req)
	}
	if aerr != nil || policy == "" {
		return resp, aerr
	}
	s.mu.Lock()
	s.resPolicies[tableKey{req.region, "table/" + name}] = &resourcePolicy{doc: policy, revision: itoa(int(time.Now().UnixNano() % 1e9))}
	s.mu.Unlock()
	return resp, nil
}

func (s *Server) createMultiAccountReplica(req *request, name, sourceArn, mode, policy string, in map[string]json.RawMessage) ([]byte, *apiError) {
	if mode != settingsEnabled {
		return nil, validation("One or more parameter values were invalid: GlobalTableSettingsReplicationMode must be ENABLED for a multi-account global table replica")
	}
	srcRegion, srcName, ok := tableFromARN(sourceArn)
	if !ok {
		return nil, validation("One or more parameter values were invalid: Invalid GlobalTableSourceArn %s", sourceArn)
	}
	srcScope := scopeOfARN(sourceArn)
	myRegion, myAccount := splitScope(req.region)
	_, srcAccount := splitScope(srcScope)
	if srcAccount == myAccount {
		return nil, validation("One or more parameter values were invalid: GlobalTableSourceArn %s is a table of this account; add a replica in this account with UpdateTable ReplicaUpdates", sourceArn)
	}
	if srcName != name {
		return nil, validation("One or more parameter values were invalid: a replica has the name of its global table (%s), not %s", srcName, name)
	}
	if srcRegion == myRegion {
		return nil, validation("One or more parameter values were invalid: the global table already has a replica in %s; a global table has one replica per Region", myRegion)
	}
	src, e := s.describeLocal(req, srcScope, name)
	if e != nil {
		return nil, errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: GlobalTableSourceArn: %s not found", sourceArn)
	}
	if raw, ok := in["KeySchema"]; ok && canonicalJSON(raw) != canonicalJSON(src.KeySchema) {
		return nil, validation("One or more parameter values were invalid: KeySchema differs from the source table's; a replica has the source's key schema")
	}
	if _, e := s.describeLocal(req, req.region, name); e == nil {
		return nil, resourceInUse("Table already exists: %s", name)
	}
	if vt := src.streamViewType(); vt != "" && vt != "NEW_AND_OLD_IMAGES" {
		return nil, validation("One or more parameter values were invalid: Table %s has a stream with StreamViewType %s; replicas need NEW_AND_OLD_IMAGES.", sourceArn, vt)
	}
	myARN := tableARN(req.region, name)

	s.mu.Lock()
	g := s.groups[name]
	if g != nil && g.members[srcScope] == nil {
		s.mu.Unlock()
		return nil, validation("Emulator limitation: another account's global table is also named %s; the emulator keeps one global table per name", name)
	}
	if g != nil && (g.mode == nil || !g.mode.multiAccount) {
		s.mu.Unlock()
		if g.mode != nil && g.mode.strong {
			return nil, validation("One or more parameter values were invalid: %s is a multi-Region strongly consistent (MRSC) global table; multi-account replicas are for MREC tables only", sourceArn)
		}
		return nil, validation("One or more parameter values were invalid: %s is a replica of a same-account global table; a multi-account global table starts from a single-Region table", sourceArn)
	}
	if g != nil && g.busyLocked() {
		s.mu.Unlock()
		return nil, inProcess(name)
	}
	members := []string{srcScope}
	if g != nil {
		members = members[:0]
		for _, m := range g.sortedMembers() {
			r, a := splitScope(m.region)
			if a == myAccount {
				s.mu.Unlock()
				return nil, validation("One or more parameter values were invalid: account %s already has a replica of %s (in %s); each replica resides in a separate account", a, name, r)
			}
			if r == myRegion {
				s.mu.Unlock()
				return nil, validation("One or more parameter values were invalid: the global table already has a replica in %s; a global table has one replica per Region", r)
			}
			members = append(members, m.region)
		}
	}
	s.mu.Unlock()

	// Every replica grants the replication service to every other and itself.
	var newDoc *policyDoc
	if policy != "" {
		newDoc, _ = parsePolicy(policy)
	}
	for _, m := range members {
		otherARN := tableARN(m, name)
		if !s.replicationAllowed(m, name, myARN, replicationActions...) {
			return nil, validation("One or more parameter values were invalid: the resource-based policy of %s does not allow %s %s for the new replica %s (account %s)",
				otherARN, ReplicationService, strings.Join(replicationActions, ", "), myARN, myAccount)
		}
		_, otherAccount := splitScope(m)
		if newDoc == nil || !allowsAll(newDoc, principal{service: ReplicationService, sourceArn: otherARN, sourceAcc: otherAccount}, myARN) {
			return nil, validation("One or more parameter values were invalid: the new replica's ResourcePolicy must allow %s %s for %s (account %s)",
				ReplicationService, strings.Join(replicationActions, ", "), otherARN, otherAccount)
		}
	}

	s.mu.Lock()
	if g2 := s.groups[name]; g2 != g || (g != nil && g.busyLocked()) {
		s.mu.Unlock()
		return nil, inProcess(name)
	}
	newGroupStarted := false
	if g == nil {
		g = newGroup(name, versionCurrent)
		g.mode = &groupMode{multiAccount: true}
		g.members[srcScope] = &member{region: srcScope, status: statusActive, since: time.Now(), copied: true, tableClass: src.tableClass()}
		g.keyAttrs = keyNames(src.KeySchema)
		s.groups[name] = g
		s.groupCount.Store(int32(len(s.groups)))
		newGroupStarted = true
	}
	now := time.Now()
	var gsiNames []string
	for _, gi := range src.GlobalSecondaryIndexes {
		gsiNames = append(gsiNames, gi.IndexName)
	}
	m := &member{region: req.region, status: statusCreating, since: now, due: now.Add(s.delays.ReplicaCreate),
		source: srcScope, tableClass: src.tableClass(), gsis: gsiNames}
	g.members[m.region] = m
	// The source table is held for 24 hours, whichever account adds the replica
	// (sourceHoldLocked, global.go).
	g.sourcedAt[srcScope] = now
	s.replicaOps++
	s.mu.Unlock()

	srcReq := *req
	srcReq.region = srcScope
	if src.streamViewType() == "" {
		if e := s.ddb(req.ctx, srcScope, "UpdateTable", map[string]any{"TableName": name,
			"StreamSpecification": map[string]any{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}}, nil); e != nil {
			s.logf("enabling the stream of %s in %s: %v", name, srcScope, e)
		}
	}
	if e := s.createReplicaTable(&srcReq, src, m); e != nil {
		s.mu.Lock()
		m.status, m.statusDesc = statusCreationFailed, "creating the replica table failed: "+e.Message
		s.replicaOps--
		s.mu.Unlock()
	}
	if newGroupStarted {
		s.startReplicator(req.ctx, g, srcScope)
	}
	resp, e := s.callLocal(req.ctx, req.region, "DynamoDB_20120810.DescribeTable", []byte(`{"TableName":`+string(in["TableName"])+`}`))
	if e != nil {
		return nil, e
	}
	resp = append([]byte(`{"TableDescription":`), resp[len(`{"Table":`):]...)
	return s.decorate(req.region, fromLocal(resp, req.region), "TableDescription"), nil
}

func allowsAll(d *policyDoc, p principal, resource string) bool {
	for _, a := range replicationActions {
		if !d.allows(p, a, resource) {
			return false
		}
	}
	return true
}

// modeRules refuses the UpdateTable calls that a multi-account or strongly
// consistent global table does not take; nil lets the call through.
func (s *Server) modeRules(req *request, name string, in map[string]json.RawMessage) *apiError {
	s.mu.Lock()
	g := s.groups[name]
	var mode *groupMode
	if g != nil && g.members[req.region] != nil {
		mode = g.mode
	}
	s.mu.Unlock()
	if mode == nil {
		return nil
	}
	if _, ok := in["ReplicaUpdates"]; ok && mode.multiAccount {
		var actions []replicaAction
		_ = json.Unmarshal(in["ReplicaUpdates"], &actions)
		for _, a := range actions {
			switch {
			case a.Create != nil:
				return validation("One or more parameter values were invalid: %s is a multi-account global table: add a replica with CreateTable GlobalTableSourceArn in the replica's own account", name)
			case a.Update != nil:
				return validation("One or more parameter values were invalid: %s is a multi-account global table: its settings are shared by every replica and cannot be overridden per replica", name)
			case a.Delete != nil:
				return validation("One or more parameter values were invalid: %s is a multi-account global table: a replica leaves with DeleteTable in its own account", name)
			}
		}
	}
	return nil
}

// decorateModeLocked adds what a multi-account or strongly consistent global table
// shows in a table description: each replica's ReplicaArn and settings mode
// (types.ReplicaDescription), the table's MultiRegionConsistency and witnesses
// (types.TableDescription).
func (s *Server) decorateModeLocked(g *group, region string, table map[string]json.RawMessage) {
	var replicas []map[string]any
	_ = json.Unmarshal(table["Replicas"], &replicas)
	byRegion := map[string]*member{}
	for _, m := range g.members {
		r, _ := splitScope(m.region)
		byRegion[r] = m
	}
	settings := settingsEnabledWithOverrides
	if g.mode != nil && g.mode.multiAccount {
		settings = settingsEnabled
	}
	for _, r := range replicas {
		name, _ := r["RegionName"].(string)
		plain, _ := splitScope(name)
		if m := byRegion[plain]; m != nil {
			r["ReplicaArn"] = tableARN(m.region, g.name)
		}
		r["GlobalTableSettingsReplicationMode"] = settings
	}
	if g.mode != nil && g.mode.multiAccount {
		table["Replicas"], _ = json.Marshal(replicas)
		table["GlobalTableSettingsReplicationMode"], _ = json.Marshal(settings)
		return
	}
	if g.mode != nil && g.mode.strong {
		table["Replicas"], _ = json.Marshal(replicas)
		s.decorateStrongLocked(g, region, table)
	}
}
