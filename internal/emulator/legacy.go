package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Global tables version 2017.11.29 ("legacy"): DescribeGlobalTable and friends
// over legacy tables made with the admin API (legacy_admin.go), and the console's
// "Update version" that turns one into a 2019.11.21 table.

func globalTableNotFound(name string) *apiError {
	return errorf("GlobalTableNotFoundException", http.StatusBadRequest, "Global table not found: Global table with name: '%s' does not exist.", name)
}

func (s *Server) legacyGroupLocked(name string) (*group, *apiError) {
	g := s.groups[name]
	if g == nil || g.version != versionLegacy {
		return nil, globalTableNotFound(name)
	}
	return g, nil
}

func (s *Server) globalTableDescriptionLocked(g *group) map[string]any {
	var rg []map[string]any
	for _, m := range g.sortedMembers() {
		d := map[string]any{"RegionName": m.region}
		if m.status != statusActive {
			d["ReplicaStatus"] = m.status
		}
		rg = append(rg, d)
	}
	status := statusActive
	if g.busyLocked() {
		status = statusUpdating
	}
	return map[string]any{
		"GlobalTableName":   g.name,
		"GlobalTableArn":    "arn:aws:dynamodb::" + AccountID + ":global-table/" + g.name,
		"CreationDateTime":  float64(g.created.UnixMilli()) / 1000,
		"GlobalTableStatus": status,
		"ReplicationGroup":  rg,
	}
}

type replicationGroupIn struct {
	GlobalTableName  string `json:"GlobalTableName"`
	ReplicationGroup []struct {
		RegionName string `json:"RegionName"`
	} `json:"ReplicationGroup"`
	ReplicaUpdates []replicaAction `json:"ReplicaUpdates"`
}

// checkLegacyMember verifies a table can join a legacy global table: it exists,
// is empty, streams NEW_AND_OLD_IMAGES, and matches ref's keys and indexes.
func (s *Server) checkLegacyMember(req *request, region, name string, ref *tableDesc) (*tableDesc, *apiError) {
	t, e := s.describeLocal(req, region, name)
	if e != nil {
		if e.Code == "ResourceNotFoundException" {
			return nil, errorf("TableNotFoundException", http.StatusBadRequest, "Table not found: %s in region %s", name, region)
		}
		return nil, e
	}
	if t.streamViewType() != "NEW_AND_OLD_IMAGES" {
		return nil, validation("One or more parameter values were invalid: Table %s in region %s must have DynamoDB Streams enabled with StreamViewType NEW_AND_OLD_IMAGES", name, region)
	}
	var scan struct {
		Count int `json:"Count"`
	}
	if e := s.ddb(req.ctx, region, "Scan", map[string]any{"TableName": name, "Limit": 1, "Select": "COUNT"}, &scan); e != nil {
		return nil, e
	}
	if scan.Count > 0 {
		return nil, validation("One or more parameter values were invalid: Table %s in region %s is not empty; replica tables must be empty", name, region)
	}
	if ref != nil {
		if canonicalJSON(t.KeySchema) != canonicalJSON(ref.KeySchema) || keyTypes(t) != keyTypes(ref) {
			return nil, validation("One or more parameter values were invalid: Table %s in region %s has a different key schema than the other replicas", name, region)
		}
		if gsiSignature(t) != gsiSignature(ref) {
			return nil, validation("One or more parameter values were invalid: Table %s in region %s has different global secondary indexes than the other replicas", name, region)
		}
	}
	return t, nil
}

func canonicalJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// keyTypes renders the types of a table's key attributes.
func keyTypes(t *tableDesc) string {
	var ks []struct{ AttributeName string }
	var defs []struct{ AttributeName, AttributeType string }
	_ = json.Unmarshal(t.KeySchema, &ks)
	_ = json.Unmarshal(t.AttributeDefinitions, &defs)
	var out []string
	for _, k := range ks {
		for _, d := range defs {
			if d.AttributeName == k.AttributeName {
				out = append(out, d.AttributeName+":"+d.AttributeType)
			}
		}
	}
	return strings.Join(out, ",")
}

// gsiSignature renders the GSI definitions (name, keys, projection) of a table.
func gsiSignature(t *tableDesc) string {
	var out []string
	for _, g := range t.GlobalSecondaryIndexes {
		out = append(out, g.IndexName+"="+canonicalJSON(g.KeySchema)+"/"+canonicalJSON(g.Projection))
	}
	sort.Strings(out)
	return strings.Join(out, ";")
}

// createLegacyGroup makes a 2017.11.29 global table over existing empty tables
// (see CreateLegacyGlobalTable: the public CreateGlobalTable refuses, as AWS does).
func (s *Server) createLegacyGroup(req *request, name string, regions []string) (map[string]any, *apiError) {
	if name == "" {
		return nil, validation("1 validation error detected: Value null at 'globalTableName' failed to satisfy constraint: Member must not be null")
	}
	if len(regions) == 0 {
		return nil, validation("1 validation error detected: Value null at 'replicationGroup' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	exists := s.groups[name] != nil
	s.mu.Unlock()
	if exists {
		return nil, errorf("GlobalTableAlreadyExistsException", http.StatusBadRequest, "Global table with this name already exists")
	}
	var ref *tableDesc
	seen := map[string]bool{}
	for _, r := range regions {
		if seen[r] {
			return nil, validation("One or more parameter values were invalid: duplicate region %s in ReplicationGroup", r)
		}
		seen[r] = true
		t, e := s.checkLegacyMember(req, r, name, ref)
		if e != nil {
			return nil, e
		}
		if ref == nil {
			ref = t
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[name] != nil {
		return nil, errorf("GlobalTableAlreadyExistsException", http.StatusBadRequest, "Global table with this name already exists")
	}
	g := newGroup(name, versionLegacy)
	for _, r := range regions {
		g.members[r] = &member{region: r, status: statusActive, since: g.created, copied: true, tableClass: "STANDARD"}
	}
	g.keyAttrs = keyNames(ref.KeySchema)
	s.groups[g.name] = g
	s.groupCount.Store(int32(len(s.groups)))
	s.mu.Unlock()
	s.startReplicator(req.ctx, g, regions...)
	s.mu.Lock()
	return s.globalTableDescriptionLocked(g), nil
}

func (s *Server) describeGlobalTable(req *request) ([]byte, *apiError) {
	var in replicationGroupIn
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, e := s.legacyGroupLocked(in.GlobalTableName)
	if e != nil {
		return nil, e
	}
	return marshal(map[string]any{"GlobalTableDescription": s.globalTableDescriptionLocked(g)})
}

func (s *Server) updateGlobalTable(req *request) ([]byte, *apiError) {
	var in replicationGroupIn
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if len(in.ReplicaUpdates) == 0 {
		return nil, validation("1 validation error detected: Value null at 'replicaUpdates' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	g, e := s.legacyGroupLocked(in.GlobalTableName)
	var refRegion string
	if g != nil {
		for _, m := range g.sortedMembers() {
			refRegion = m.region
			break
		}
	}
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	ref, e := s.describeLocal(req, refRegion, in.GlobalTableName)
	if e != nil {
		return nil, e
	}
	for _, a := range in.ReplicaUpdates {
		s.mu.Lock()
		switch {
		case a.Create != nil:
			if g.members[a.Create.RegionName] != nil {
				s.mu.Unlock()
				return nil, errorf("ReplicaAlreadyExistsException", http.StatusBadRequest, "Replica already exists: %s", a.Create.RegionName)
			}
			s.mu.Unlock()
			if _, e := s.checkLegacyMember(req, a.Create.RegionName, in.GlobalTableName, ref); e != nil {
				return nil, e
			}
			s.mu.Lock()
			now := time.Now()
			g.members[a.Create.RegionName] = &member{region: a.Create.RegionName, status: statusCreating, since: now, due: now.Add(s.delays.ReplicaCreate), source: refRegion, tableClass: "STANDARD"}
			s.replicaOps++
		case a.Delete != nil:
			if g.members[a.Delete.RegionName] == nil {
				s.mu.Unlock()
				return nil, errorf("ReplicaNotFoundException", http.StatusBadRequest, "Replica not found: %s", a.Delete.RegionName)
			}
			delete(g.members, a.Delete.RegionName)
		default:
			s.mu.Unlock()
			return nil, validation("One or more parameter values were invalid: each ReplicaUpdates entry needs Create or Delete")
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return marshal(map[string]any{"GlobalTableDescription": s.globalTableDescriptionLocked(g)})
}

func (s *Server) listGlobalTables(req *request) ([]byte, *apiError) {
	var in struct {
		RegionName                    string `json:"RegionName"`
		ExclusiveStartGlobalTableName string `json:"ExclusiveStartGlobalTableName"`
		Limit                         int    `json:"Limit"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name, g := range s.groups {
		if g.version == versionLegacy && (in.RegionName == "" || g.members[in.RegionName] != nil) && name > in.ExclusiveStartGlobalTableName {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := map[string]any{}
	if in.Limit > 0 && len(names) > in.Limit {
		names = names[:in.Limit]
		out["LastEvaluatedGlobalTableName"] = names[len(names)-1]
	}
	list := []map[string]any{}
	for _, n := range names {
		d := s.globalTableDescriptionLocked(s.groups[n])
		list = append(list, map[string]any{"GlobalTableName": n, "ReplicationGroup": d["ReplicationGroup"]})
	}
	out["GlobalTables"] = list
	return marshal(out)
}

// autoScalingSettingsLocked renders a target as DynamoDB's AutoScalingSettingsDescription.
func (s *Server) autoScalingSettingsLocked(k targetKey) map[string]any {
	t := s.targets[k]
	if t == nil {
		return map[string]any{"AutoScalingDisabled": true}
	}
	var pols []map[string]any
	for pk, p := range s.policies {
		if pk.target == k {
			pols = append(pols, map[string]any{"PolicyName": p.PolicyName, "TargetTrackingScalingPolicyConfiguration": p.TargetTrackingScalingPolicyConfiguration})
		}
	}
	return map[string]any{"AutoScalingDisabled": false, "MinimumUnits": t.MinCapacity, "MaximumUnits": t.MaxCapacity,
		"AutoScalingRoleArn": t.RoleARN, "ScalingPolicies": pols}
}

func (s *Server) describeGlobalTableSettings(req *request) ([]byte, *apiError) {
	var in replicationGroupIn
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	s.mu.Lock()
	g, e := s.legacyGroupLocked(in.GlobalTableName)
	var members []*member
	if g != nil {
		members = g.sortedMembers()
	}
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	var replicas []map[string]any
	for _, m := range members {
		t, e := s.describeLocal(req, m.region, in.GlobalTableName)
		if e != nil {
			continue
		}
		var rcu, wcu int64
		if t.ProvisionedThroughput != nil {
			rcu, wcu = t.ProvisionedThroughput.ReadCapacityUnits, t.ProvisionedThroughput.WriteCapacityUnits
		}
		rs := map[string]any{
			"RegionName": m.region, "ReplicaStatus": m.status,
			"ReplicaBillingModeSummary":            map[string]string{"BillingMode": t.billingMode()},
			"ReplicaProvisionedReadCapacityUnits":  rcu,
			"ReplicaProvisionedWriteCapacityUnits": wcu,
		}
		s.mu.Lock()
		base := "table/" + in.GlobalTableName
		rs["ReplicaProvisionedReadCapacityAutoScalingSettings"] = s.autoScalingSettingsLocked(targetKey{m.region, base, "dynamodb:table:ReadCapacityUnits"})
		rs["ReplicaProvisionedWriteCapacityAutoScalingSettings"] = s.autoScalingSettingsLocked(targetKey{m.region, base, "dynamodb:table:WriteCapacityUnits"})
		var gsis []map[string]any
		for _, gi := range t.GlobalSecondaryIndexes {
			id := base + "/index/" + gi.IndexName
			x := map[string]any{"IndexName": gi.IndexName, "IndexStatus": "ACTIVE",
				"ProvisionedReadCapacityAutoScalingSettings":  s.autoScalingSettingsLocked(targetKey{m.region, id, "dynamodb:index:ReadCapacityUnits"}),
				"ProvisionedWriteCapacityAutoScalingSettings": s.autoScalingSettingsLocked(targetKey{m.region, id, "dynamodb:index:WriteCapacityUnits"})}
			if gi.ProvisionedThroughput != nil {
				x["ProvisionedReadCapacityUnits"] = gi.ProvisionedThroughput.ReadCapacityUnits
				x["ProvisionedWriteCapacityUnits"] = gi.ProvisionedThroughput.WriteCapacityUnits
			}
			gsis = append(gsis, x)
		}
		s.mu.Unlock()
		if gsis != nil {
			rs["ReplicaGlobalSecondaryIndexSettings"] = gsis
		}
		replicas = append(replicas, rs)
	}
	return marshal(map[string]any{"GlobalTableName": in.GlobalTableName, "ReplicaSettings": replicas})
}

type autoScalingUpdate struct {
	MinimumUnits        *int64 `json:"MinimumUnits"`
	MaximumUnits        *int64 `json:"MaximumUnits"`
	AutoScalingDisabled *bool  `json:"AutoScalingDisabled"`
	ScalingPolicyUpdate *struct {
		PolicyName                               string          `json:"PolicyName"`
		TargetTrackingScalingPolicyConfiguration json.RawMessage `json:"TargetTrackingScalingPolicyConfiguration"`
	} `json:"ScalingPolicyUpdate"`
}

func (s *Server) updateGlobalTableSettings(req *request) ([]byte, *apiError) {
	var in struct {
		GlobalTableName                                              string             `json:"GlobalTableName"`
		GlobalTableBillingMode                                       string             `json:"GlobalTableBillingMode"`
		GlobalTableProvisionedWriteCapacityUnits                     *int64             `json:"GlobalTableProvisionedWriteCapacityUnits"`
		GlobalTableProvisionedWriteCapacityAutoScalingSettingsUpdate *autoScalingUpdate `json:"GlobalTableProvisionedWriteCapacityAutoScalingSettingsUpdate"`
		GlobalTableGlobalSecondaryIndexSettingsUpdate                []struct {
			IndexName                                         string             `json:"IndexName"`
			ProvisionedWriteCapacityUnits                     *int64             `json:"ProvisionedWriteCapacityUnits"`
			ProvisionedWriteCapacityAutoScalingSettingsUpdate *autoScalingUpdate `json:"ProvisionedWriteCapacityAutoScalingSettingsUpdate"`
		} `json:"GlobalTableGlobalSecondaryIndexSettingsUpdate"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	s.mu.Lock()
	g, e := s.legacyGroupLocked(in.GlobalTableName)
	var regions []string
	if g != nil {
		if g.busyLocked() {
			s.mu.Unlock()
			return nil, inProcess(in.GlobalTableName)
		}
		for _, m := range g.sortedMembers() {
			regions = append(regions, m.region)
		}
	}
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	name := in.GlobalTableName
	for _, region := range regions {
		t, e := s.describeLocal(req, region, name)
		if e != nil {
			return nil, e
		}
		update := map[string]any{"TableName": name}
		rcu := int64(5)
		if t.ProvisionedThroughput != nil && t.ProvisionedThroughput.ReadCapacityUnits > 0 {
			rcu = t.ProvisionedThroughput.ReadCapacityUnits
		}
		switch {
		case in.GlobalTableBillingMode == "PAY_PER_REQUEST" && t.billingMode() != "PAY_PER_REQUEST":
			update["BillingMode"] = "PAY_PER_REQUEST"
		case in.GlobalTableBillingMode == "PROVISIONED" || in.GlobalTableProvisionedWriteCapacityUnits != nil:
			wcu := int64(5)
			if in.GlobalTableProvisionedWriteCapacityUnits != nil {
				wcu = *in.GlobalTableProvisionedWriteCapacityUnits
			} else if t.ProvisionedThroughput != nil && t.ProvisionedThroughput.WriteCapacityUnits > 0 {
				wcu = t.ProvisionedThroughput.WriteCapacityUnits
			}
			update["BillingMode"] = "PROVISIONED"
			update["ProvisionedThroughput"] = throughput{rcu, wcu}
			if t.billingMode() == "PAY_PER_REQUEST" && len(t.GlobalSecondaryIndexes) > 0 {
				var gu []any
				for _, gi := range t.GlobalSecondaryIndexes {
					gu = append(gu, map[string]any{"Update": map[string]any{"IndexName": gi.IndexName, "ProvisionedThroughput": throughput{rcu, wcu}}})
				}
				update["GlobalSecondaryIndexUpdates"] = gu
			}
		}
		if len(update) > 1 {
			if e := s.ddb(req.ctx, region, "UpdateTable", update, nil); e != nil {
				return nil, e
			}
		}
		if u := in.GlobalTableProvisionedWriteCapacityAutoScalingSettingsUpdate; u != nil {
			s.applyAutoScalingUpdate(region, targetKey{region, "table/" + name, "dynamodb:table:WriteCapacityUnits"}, u)
		}
		for _, gu := range in.GlobalTableGlobalSecondaryIndexSettingsUpdate {
			if gu.ProvisionedWriteCapacityAutoScalingSettingsUpdate != nil {
				s.applyAutoScalingUpdate(region, targetKey{region, "table/" + name + "/index/" + gu.IndexName, "dynamodb:index:WriteCapacityUnits"}, gu.ProvisionedWriteCapacityAutoScalingSettingsUpdate)
			}
		}
	}
	req.body, _ = json.Marshal(map[string]string{"GlobalTableName": name})
	return s.describeGlobalTableSettings(req)
}

func (s *Server) applyAutoScalingUpdate(region string, k targetKey, u *autoScalingUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.AutoScalingDisabled != nil && *u.AutoScalingDisabled {
		delete(s.targets, k)
		for pk := range s.policies {
			if pk.target == k {
				delete(s.policies, pk)
			}
		}
		return
	}
	t := s.targets[k]
	now := float64(time.Now().UnixMilli()) / 1000
	if t == nil {
		t = &scalableTarget{ServiceNamespace: "dynamodb", ResourceID: k.ResourceID, ScalableDimension: k.Dimension, CreationTime: now, MinCapacity: 1, MaxCapacity: 40000,
			ScalableTargetARN: fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%x", region, AccountID, time.Now().UnixNano()),
			RoleARN:           "arn:aws:iam::" + AccountID + ":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"}
		s.targets[k] = t
	}
	if u.MinimumUnits != nil {
		t.MinCapacity = *u.MinimumUnits
	}
	if u.MaximumUnits != nil {
		t.MaxCapacity = *u.MaximumUnits
	}
	if p := u.ScalingPolicyUpdate; p != nil {
		pname := p.PolicyName
		if pname == "" {
			pname = "DynamoDBWriteCapacityUtilization:" + k.ResourceID
		}
		s.policies[policyKey{k, pname}] = &scalingPolicy{PolicyName: pname, ServiceNamespace: "dynamodb", ResourceID: k.ResourceID, ScalableDimension: k.Dimension,
			PolicyType: "TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration: p.TargetTrackingScalingPolicyConfiguration, Alarms: []any{}, CreationTime: now,
			PolicyARN: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%x:resource/dynamodb/%s:policyName/%s", region, AccountID, time.Now().UnixNano(), k.ResourceID, pname)}
	}
}

// Prerequisite is one check of the console's "Update version".
type Prerequisite struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// UpgradeRefusedError is the console's refusal: the failed prerequisites.
type UpgradeRefusedError struct {
	Table  string
	Failed []Prerequisite
}

func (e *UpgradeRefusedError) Error() string {
	var parts []string
	for _, p := range e.Failed {
		parts = append(parts, p.Name+": "+p.Detail)
	}
	return "cannot update global table " + e.Table + " to version " + versionCurrent + ": " + strings.Join(parts, "; ")
}

// UpgradeStatus reports a requested "Update version".
type UpgradeStatus struct {
	Table       string         `json:"table"`
	State       string         `json:"state"` // scheduled, refused, upgrading, done
	Checks      []Prerequisite `json:"checks,omitempty"`
	ScheduledAt time.Time      `json:"scheduledAt,omitzero"`
	FinishedAt  time.Time      `json:"finishedAt,omitzero"`
}

// CheckUpgrade runs the console's prerequisite checks for a legacy global table.
//
// The rules are those of the DynamoDB guide's "Upgrade prerequisites" (Upgrading
// global tables to version 2019.11.21, shared/seeds/002_e4e99debba4ed66a.txt;
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_upgrade.html):
//   - "Time to Live (TTL) settings on replicas are consistent across Regions": the
//     status and the attribute, compared Region by Region.
//   - "Global secondary index (GSI) definitions on replicas are consistent across
//     Regions": names, key schemas and projections.
//   - "Encryption at rest settings on replicas are consistent across Regions": the kind
//     of key (owned by DynamoDB, the AWS managed key aws/dynamodb, or a customer
//     managed key); KMS keys are regional, so their ARNs always differ.
//   - "DynamoDB auto scaling is enabled for WCUs for all replicas, or on-demand
//     capacity mode is enabled for all replicas": one mode for the whole table. A
//     replica's auto scaling covers its table and every GSI ("It is important that the
//     replica tables and secondary indexes in your global table have identical write
//     capacity settings", Best practices and requirements for managing global tables,
//     https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_reqs_bestpractices.html),
//     and "enabled" is what DescribeGlobalTableSettings reports as auto scaling that is
//     not disabled: a scalable target with a scaling policy.
//
// The fifth prerequisite (no application needs the aws:rep:* attributes) is the
// operator's to agree to in the console's dialog, so it is not checked here.
func (s *Server) CheckUpgrade(ctx context.Context, table string) ([]Prerequisite, error) {
	req := &request{ctx: ctx}
	s.mu.Lock()
	g, e := s.legacyGroupLocked(table)
	var regions []string
	if g != nil {
		for _, m := range g.sortedMembers() {
			regions = append(regions, m.region)
		}
	}
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	ttl := map[string]string{}
	gsi := map[string]string{}
	sse := map[string]string{}
	capacity := map[string]string{}
	for _, r := range regions {
		t, e := s.describeLocal(req, r, table)
		if e != nil {
			return nil, e
		}
		var out struct {
			TimeToLiveDescription struct {
				TimeToLiveStatus string
				AttributeName    string
			}
		}
		if e := s.ddb(ctx, r, "DescribeTimeToLive", map[string]string{"TableName": table}, &out); e != nil {
			return nil, e
		}
		st := out.TimeToLiveDescription.TimeToLiveStatus
		if st == "ENABLED" || st == "ENABLING" {
			ttl[r] = "enabled on " + out.TimeToLiveDescription.AttributeName
		} else {
			ttl[r] = "disabled"
		}
		gsi[r] = gsiSignature(t)
		s.mu.Lock()
		sse[r] = encryptionKind(s.meta[tableKey{r, table}])
		capacity[r] = s.writeCapacityModeLocked(r, t)
		s.mu.Unlock()
	}
	return []Prerequisite{
		consistent("ttl", "TTL settings", ttl),
		consistent("gsi", "global secondary index definitions", gsi),
		consistent("encryption", "encryption at rest", sse),
		capacityPrerequisite(capacity),
	}, nil
}

// Write capacity modes of one replica, as the capacity prerequisite sees them.
const (
	capacityOnDemand    = "on-demand"
	capacityAutoScaling = "provisioned with WCU auto scaling"
)

// writeCapacityModeLocked classifies a replica: on-demand, provisioned with WCU auto
// scaling on the table and every GSI, or provisioned without it (naming where).
func (s *Server) writeCapacityModeLocked(region string, t *tableDesc) string {
	if t.billingMode() == "PAY_PER_REQUEST" {
		return capacityOnDemand
	}
	var missing []string
	if k := (targetKey{region, "table/" + t.TableName, "dynamodb:table:WriteCapacityUnits"}); s.targets[k] == nil || !s.hasPolicyLocked(k) {
		missing = append(missing, "table")
	}
	for _, gi := range t.GlobalSecondaryIndexes {
		k := targetKey{region, "table/" + t.TableName + "/index/" + gi.IndexName, "dynamodb:index:WriteCapacityUnits"}
		if s.targets[k] == nil || !s.hasPolicyLocked(k) {
			missing = append(missing, "index "+gi.IndexName)
		}
	}
	if len(missing) == 0 {
		return capacityAutoScaling
	}
	return "provisioned without WCU auto scaling on " + strings.Join(missing, ", ")
}

// capacityPrerequisite passes when every replica is on-demand or every replica is
// provisioned with WCU auto scaling.
func capacityPrerequisite(byRegion map[string]string) Prerequisite {
	modes := map[string]bool{}
	for _, m := range byRegion {
		modes[m] = true
	}
	if len(modes) == 1 && (modes[capacityOnDemand] || modes[capacityAutoScaling]) {
		for m := range modes {
			return Prerequisite{Name: "capacity", Passed: true, Detail: "every replica is " + m}
		}
	}
	var parts []string
	for r, m := range byRegion {
		parts = append(parts, r+": "+m)
	}
	sort.Strings(parts)
	return Prerequisite{Name: "capacity", Detail: "WCU auto scaling must be enabled on all replicas (tables and GSIs), " +
		"or on-demand capacity on all replicas (" + strings.Join(parts, " | ") + ")"}
}

// encryptionKind names the kind of key that encrypts a table at rest.
func encryptionKind(m *tableMeta) string {
	switch {
	case m == nil || m.SSE == nil || m.SSE.SSEType != "KMS":
		return "key owned by DynamoDB"
	case m.SSE.KMSMasterKeyID == "" || strings.HasSuffix(m.SSE.KMSMasterKeyID, "alias/aws/dynamodb") ||
		strings.HasSuffix(m.SSE.KMSMasterKeyID, ":key/"+awsManagedKeyID):
		return "AWS managed key aws/dynamodb"
	}
	return "customer managed key"
}

func consistent(name, what string, byRegion map[string]string) Prerequisite {
	values := map[string][]string{}
	for r, v := range byRegion {
		values[v] = append(values[v], r)
	}
	if len(values) <= 1 {
		return Prerequisite{Name: name, Passed: true, Detail: what + " are consistent across replicas"}
	}
	var parts []string
	for v, rs := range values {
		sort.Strings(rs)
		if v == "" {
			v = "none"
		}
		parts = append(parts, strings.Join(rs, ",")+": "+v)
	}
	sort.Strings(parts)
	return Prerequisite{Name: name, Detail: what + " differ across replicas (" + strings.Join(parts, " | ") + ")"}
}

// UpdateVersion performs the console's "Update version" on a legacy global table.
// With after == 0 it checks the prerequisites now and returns *UpgradeRefusedError
// when one fails; otherwise the tables go UPDATING and, after the upgrade delay,
// report 2019.11.21. With after > 0 it returns at once and acts like an operator
// who clicks the button after that time and again every half second until the
// checks pass (see UpgradeState for the outcome).
func (s *Server) UpdateVersion(ctx context.Context, table string, after time.Duration) error {
	s.mu.Lock()
	g, e := s.legacyGroupLocked(table)
	gen := s.generation
	s.mu.Unlock()
	if e != nil {
		return e
	}
	if after > 0 {
		s.mu.Lock()
		s.upgrades[table] = &UpgradeStatus{Table: table, State: "scheduled", ScheduledAt: time.Now().Add(after)}
		s.mu.Unlock()
		s.backgroundWG.Add(1)
		go func() {
			defer s.backgroundWG.Done()
			if !s.sleep(after) {
				return
			}
			for {
				s.mu.Lock()
				stale := s.generation != gen || s.groups[table] != g || s.stopped
				s.mu.Unlock()
				if stale {
					return
				}
				err := s.startUpgrade(context.Background(), table, g, gen)
				if err == nil || !s.sleep(500*time.Millisecond) {
					return
				}
			}
		}()
		return nil
	}
	return s.startUpgrade(ctx, table, g, gen)
}

func (s *Server) startUpgrade(ctx context.Context, table string, g *group, gen int) error {
	checks, err := s.CheckUpgrade(ctx, table)
	if err != nil {
		return err
	}
	var failed []Prerequisite
	for _, c := range checks {
		if !c.Passed {
			failed = append(failed, c)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &UpgradeStatus{Table: table, Checks: checks}
	if prev := s.upgrades[table]; prev != nil {
		st.ScheduledAt = prev.ScheduledAt
	}
	s.upgrades[table] = st
	if len(failed) > 0 {
		st.State = "refused"
		return &UpgradeRefusedError{Table: table, Failed: failed}
	}
	if g.busyLocked() {
		st.State = "refused"
		return inProcess(table)
	}
	st.State = "upgrading"
	g.upgrading = true
	delay := s.delays.Upgrade
	s.backgroundWG.Add(1)
	go func() {
		defer s.backgroundWG.Done()
		// The guide says TableStatus is UPDATING during the upgrade and ACTIVE when it is
		// complete; it does not say when DescribeTable's GlobalTableVersion changes. The
		// second half of the upgrade is the in-between state a client must not take for
		// the end: members already report 2019.11.21 (and DescribeGlobalTable no longer
		// knows the table) while their TableStatus is still UPDATING.
		if !s.sleep(delay / 2) {
			return
		}
		s.mu.Lock()
		if s.generation != gen {
			s.mu.Unlock()
			return
		}
		g.version = versionCurrent
		s.mu.Unlock()
		if !s.sleep(delay - delay/2) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.generation != gen {
			return
		}
		g.upgrading = false
		st.State = "done"
		st.FinishedAt = time.Now()
	}()
	return nil
}

// UpgradeState returns the last "Update version" outcome for a table.
func (s *Server) UpgradeState(table string) (UpgradeStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.upgrades[table]
	if st == nil {
		return UpgradeStatus{}, false
	}
	return *st, true
}
