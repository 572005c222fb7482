package emulator

import (
	"encoding/json"
	"sort"
	"time"
)

// Multi-Region strong consistency (MRSC). Rules, each from:
//   - the SDK model (aws-sdk-go-v2 service/dynamodb api_op_UpdateTable.go):
//     MultiRegionConsistency (EVENTUAL or STRONG) is valid only when a global table
//     is created with replica Create actions; one witness Create or Delete per call;
//   - "Global tables" consistency modes
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GlobalTables.html):
//     a global table's consistency mode cannot change after creation, replicas of
//     different modes cannot mix, MRSC is same-account only;
//   - the witness (API_CreateGlobalTableWitnessGroupMemberAction,
//     API_GlobalTableWitnessGroupUpdate in the DynamoDB API reference): an MRSC table
//     has three replicas, or two replicas and one witness, all in different Regions of
//     one Region set (US: us-east-1, us-east-2, us-west-2; EU: eu-west-1, eu-west-2,
//     eu-west-3, eu-central-1; AP: ap-northeast-1, ap-northeast-2, ap-northeast-3);
//     the witness is added when the MRSC table is created, and deleted only together
//     with a replica, which leaves a single-Region table;
//   - "Deleting an MRSC global table" (delete-gt-mrsc.html): the two other replicas
//     are deleted in one UpdateTable call; one replica alone cannot be removed;
//   - "How DynamoDB global tables work", MRSC
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html):
//     only an empty table becomes an MRSC global table, and an existing MREC global
//     table cannot become one.
// The emulator replicates an MRSC table's writes like an MREC table's (after the
// replication delay): it keeps the control plane's rules, not the strong
// consistency of reads across Regions.

// mrscRegionSets are the Region sets an MRSC table lives in.
var mrscRegionSets = [][]string{
	{"us-east-1", "us-east-2", "us-west-2"},
	{"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"},
	{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3"},
}

func regionSet(region string) int {
	for i, set := range mrscRegionSets {
		for _, r := range set {
			if r == region {
				return i
			}
		}
	}
	return -1
}

type witness struct {
	region string // scope
	since  time.Time
	due    time.Time
}

func (w *witness) status(now time.Time) string {
	if now.Before(w.due) {
		return "CREATING"
	}
	return "ACTIVE"
}

type witnessUpdate struct {
	Create *struct{ RegionName string } `json:"Create"`
	Delete *struct{ RegionName string } `json:"Delete"`
}

// updateTableModes answers UpdateTable: MRSC creation and deletion and the rules of
// multi-account and MRSC tables here, everything else in updateTable.
func (s *Server) updateTableModes(req *request) ([]byte, *apiError) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	var name, consistency string
	_ = json.Unmarshal(in["TableName"], &name)
	_ = json.Unmarshal(in["MultiRegionConsistency"], &consistency)
	if name == "" {
		return s.updateTable(req)
	}
	s.mu.Lock()
	g := s.groups[name]
	strong := g != nil && g.members[req.region] != nil && g.mode != nil && g.mode.strong
	global := g != nil && g.members[req.region] != nil
	s.mu.Unlock()
	_, witnesses := in["GlobalTableWitnessUpdates"]
	_, replicaUpdates := in["ReplicaUpdates"]
	switch {
	case consistency != "" && consistency != "STRONG" && consistency != "EVENTUAL":
		return nil, validation("1 validation error detected: Value '%s' at 'multiRegionConsistency' failed to satisfy constraint: Member must satisfy enum value set: [EVENTUAL, STRONG]", consistency)
	case consistency != "" && !replicaUpdates:
		return nil, validation("One or more parameter values were invalid: MultiRegionConsistency is only valid when you create a global table with ReplicaUpdates Create actions")
	case consistency != "" && global:
		return nil, validation("One or more parameter values were invalid: %s is already a global table (%s); the consistency mode of a global table cannot change", name, map[bool]string{true: "STRONG", false: "EVENTUAL"}[strong])
	case consistency == "STRONG":
		return s.createStrong(req, name, in)
	case consistency == "EVENTUAL" && witnesses:
		return nil, validation("One or more parameter values were invalid: a witness is only for a multi-Region strongly consistent (MRSC) global table")
	case consistency == "EVENTUAL":
		delete(in, "MultiRegionConsistency")
		req.body, _ = json.Marshal(in)
		return s.updateTable(req)
	case strong && (replicaUpdates || witnesses):
		return s.deleteStrong(req, name, in)
	case witnesses:
		return nil, validation("One or more parameter values were invalid: GlobalTableWitnessUpdates needs an MRSC global table: create one with MultiRegionConsistency = STRONG")
	}
	if e := s.modeRules(req, name, in); e != nil {
		return nil, e
	}
	return s.updateTable(req)
}

// createStrong turns an empty single-Region table into an MRSC global table with two
// replica Creates, or one and a witness Create, in one call.
func (s *Server) createStrong(req *request, name string, in map[string]json.RawMessage) ([]byte, *apiError) {
	for k := range in {
		if k != "TableName" && k != "ReplicaUpdates" && k != "MultiRegionConsistency" && k != "GlobalTableWitnessUpdates" {
			return nil, validation("One or more parameter values were invalid: ReplicaUpdates cannot be combined with other table updates (%s) in one UpdateTable request", k)
		}
	}
	var actions []replicaAction
	var wits []witnessUpdate
	if err := json.Unmarshal(in["ReplicaUpdates"], &actions); err != nil {
		return nil, serializationError(err)
	}
	if raw, ok := in["GlobalTableWitnessUpdates"]; ok {
		if err := json.Unmarshal(raw, &wits); err != nil {
			return nil, serializationError(err)
		}
	}
	local, account := splitScope(req.region)
	regions := []string{local}
	for _, a := range actions {
		if a.Create == nil || a.Update != nil || a.Delete != nil || a.Create.RegionName == "" {
			return nil, validation("One or more parameter values were invalid: an MRSC global table is created with replica Create actions only")
		}
		regions = append(regions, a.Create.RegionName)
	}
	witnessRegion := ""
	if len(wits) > 1 {
		return nil, validation("One or more parameter values were invalid: You can create or delete only one witness per UpdateTable operation")
	}
	if len(wits) == 1 {
		if wits[0].Create == nil || wits[0].Delete != nil || wits[0].Create.RegionName == "" {
			return nil, validation("One or more parameter values were invalid: a witness is added with a Create action when the MRSC global table is created")
		}
		witnessRegion = wits[0].Create.RegionName
		regions = append(regions, witnessRegion)
	}
	if len(regions) != 3 {
		return nil, validation("One or more parameter values were invalid: an MRSC global table has three replicas, or two replicas and one witness: this request has %d replica(s) and %d witness(es)", len(actions)+1, len(wits))
	}
	set := regionSet(local)
	seen := map[string]bool{}
	for _, r := range regions {
		if seen[r] {
			return nil, validation("One or more parameter values were invalid: the replicas and the witness of an MRSC global table are in different Regions (%s twice)", r)
		}
		seen[r] = true
		if set < 0 || regionSet(r) != set {
			return nil, validation("One or more parameter values were invalid: the Regions of an MRSC global table (%v) must be in one Region set: us-east-1, us-east-2, us-west-2; eu-west-1, eu-west-2, eu-west-3, eu-central-1; or ap-northeast-1, ap-northeast-2, ap-northeast-3", regions)
		}
	}
	src, e := s.describeLocal(req, req.region, name)
	if e != nil {
		return nil, e
	}
	var count struct{ Count int }
	if e := s.ddb(req.ctx, req.region, "Scan", map[string]any{"TableName": name, "Select": "COUNT", "Limit": 1}, &count); e != nil {
		return nil, e
	}
	if count.Count > 0 {
		return nil, validation("One or more parameter values were invalid: table %s holds items; only an empty table can become a multi-Region strongly consistent (MRSC) global table", name)
	}
	if vt := src.streamViewType(); vt != "" && vt != "NEW_AND_OLD_IMAGES" {
		return nil, validation("One or more parameter values were invalid: Table %s has a stream with StreamViewType %s; replicas need NEW_AND_OLD_IMAGES. Disable the stream or change its view type first.", name, vt)
	}
	for _, a := range actions {
		if _, e := s.describeLocal(req, scopeOf(a.Create.RegionName, account), name); e == nil {
			return nil, validation("Failed to create a the new replica of table with name: '%s' because one or more replicas already existed as tables.", name)
		}
	}

	s.mu.Lock()
	if g := s.groups[name]; g != nil {
		s.mu.Unlock()
		if g.members[req.region] != nil {
			return nil, inProcess(name)
		}
		return nil, validation("Emulator limitation: another account's global table is also named %s; the emulator keeps one global table per name", name)
	}
	if src.billingMode() == "PROVISIONED" && !s.writeAutoScaledLocked(req.region, src) {
		s.mu.Unlock()
		return nil, validation("Table write capacity should either be Pay-Per-Request or AutoScaled.")
	}
	now := time.Now()
	g := newGroup(name, versionCurrent)
	g.mode = &groupMode{strong: true, witnesses: map[string]*witness{}}
	g.members[req.region] = &member{region: req.region, status: statusActive, since: now, copied: true, tableClass: src.tableClass()}
	g.keyAttrs = keyNames(src.KeySchema)
	var gsiNames []string
	for _, gi := range src.GlobalSecondaryIndexes {
		gsiNames = append(gsiNames, gi.IndexName)
	}
	var creates []*member
	for _, a := range actions {
		m := &member{region: scopeOf(a.Create.RegionName, account), status: statusCreating, since: now, due: now.Add(s.delays.ReplicaCreate),
			source: req.region, tableClass: src.tableClass(), gsis: gsiNames}
		g.members[m.region] = m
		s.replicaOps++
		creates = append(creates, m)
	}
	g.sourcedAt[req.region] = now // the 24 h hold on a source table (sourceHoldLocked, global.go)
	if witnessRegion != "" {
		w := scopeOf(witnessRegion, account)
		g.mode.witnesses[w] = &witness{region: w, since: now, due: now.Add(s.delays.ReplicaCreate)}
	}
	s.groups[name] = g
	s.groupCount.Store(int32(len(s.groups)))
	s.mu.Unlock()

	s.createReplicas(req, src, name, creates)
	s.startReplicator(req.ctx, g, req.region)
	return s.describeAsUpdate(req, in["TableName"])
}

// deleteStrong takes an MRSC table back to a single-Region table: the two other
// replicas, or the other replica and the witness, in one call. Anything else is a
// one-by-one change that an MRSC table refuses.
func (s *Server) deleteStrong(req *request, name string, in map[string]json.RawMessage) ([]byte, *apiError) {
	for k := range in {
		if k != "TableName" && k != "ReplicaUpdates" && k != "GlobalTableWitnessUpdates" {
			return nil, validation("One or more parameter values were invalid: ReplicaUpdates cannot be combined with other table updates (%s) in one UpdateTable request", k)
		}
	}
	var actions []replicaAction
	var wits []witnessUpdate
	_ = json.Unmarshal(in["ReplicaUpdates"], &actions)
	_ = json.Unmarshal(in["GlobalTableWitnessUpdates"], &wits)
	_, account := splitScope(req.region)
	oneByOne := validation("One or more parameter values were invalid: %s is a multi-Region strongly consistent (MRSC) global table: its replicas cannot be added, updated or removed one by one. "+
		"Delete the other two replicas (or the other replica and the witness) in one UpdateTable call to return to a single-Region table", name)
	deletes := map[string]bool{}
	for _, a := range actions {
		if a.Delete == nil || a.Create != nil || a.Update != nil {
			return nil, oneByOne
		}
		deletes[scopeOf(a.Delete.RegionName, account)] = true
	}
	witnessDeletes := map[string]bool{}
	for _, w := range wits {
		if w.Delete == nil || w.Create != nil {
			return nil, validation("One or more parameter values were invalid: a witness is added only when the MRSC global table is created")
		}
		witnessDeletes[scopeOf(w.Delete.RegionName, account)] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[name]
	if g == nil || g.members[req.region] == nil || g.mode == nil || !g.mode.strong {
		return nil, inProcess(name)
	}
	if g.busyLocked() {
		return nil, inProcess(name)
	}
	for r := range g.members {
		if r != req.region && !deletes[r] {
			return nil, oneByOne
		}
	}
	for r := range deletes {
		if g.members[r] == nil {
			return nil, validation("Replica specified in the Replica Update or Replica Delete action of the request was not found.")
		}
	}
	for r := range g.mode.witnesses {
		if !witnessDeletes[r] {
			return nil, oneByOne
		}
	}
	for r := range witnessDeletes {
		if g.mode.witnesses[r] == nil {
			return nil, validation("One or more parameter values were invalid: no witness of %s in %s", name, r)
		}
	}
	now := time.Now()
	for r := range deletes {
		m := g.members[r]
		m.status, m.since, m.due = statusDeleting, now, now.Add(s.delays.ReplicaDelete)
		s.replicaOps++
	}
	g.mode.witnesses = map[string]*witness{}
	s.mu.Unlock()
	resp, e := s.describeAsUpdate(req, in["TableName"])
	s.mu.Lock()
	return resp, e
}

func (s *Server) describeAsUpdate(req *request, name json.RawMessage) ([]byte, *apiError) {
	resp, e := s.callLocal(req.ctx, req.region, "DynamoDB_20120810.DescribeTable", []byte(`{"TableName":`+string(name)+`}`))
	if e != nil {
		return nil, e
	}
	resp = append([]byte(`{"TableDescription":`), resp[len(`{"Table":`):]...)
	return s.decorate(req.region, fromLocal(resp, req.region), "TableDescription"), nil
}

// decorateStrongLocked adds MultiRegionConsistency and GlobalTableWitnesses.
func (s *Server) decorateStrongLocked(g *group, _ string, table map[string]json.RawMessage) {
	table["MultiRegionConsistency"], _ = json.Marshal("STRONG")
	now := time.Now()
	var ws []map[string]string
	for _, w := range g.mode.witnesses {
		r, _ := splitScope(w.region)
		ws = append(ws, map[string]string{"RegionName": r, "WitnessStatus": w.status(now)})
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i]["RegionName"] < ws[j]["RegionName"] })
	if ws != nil {
		table["GlobalTableWitnesses"], _ = json.Marshal(ws)
	}
}
