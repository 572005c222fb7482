package emulator

import (
	"context"
	"encoding/json"
)

// replicationModeSameAccount is GlobalTableSettingsReplicationMode of a same-account
// global table and of each of its replicas: "ENABLED_WITH_OVERRIDES: This mode is
// set by default for a same account global table" (DynamoDB API reference,
// TableDescription and ReplicaDescription; aws-sdk-go-v2 service/dynamodb types).
const replicationModeSameAccount = "ENABLED_WITH_OVERRIDES"

// setIfAbsent sets a description field that nothing else has set.
func setIfAbsent(m map[string]json.RawMessage, key string, v any) {
	if _, ok := m[key]; !ok {
		m[key], _ = json.Marshal(v)
	}
}

// decorateClassLocked reports the table class as AWS does, STANDARD unless the
// table was created or updated with another (TableClassSummary, API reference
// DescribeTable; hashicorp/aws reads it for table_class).
func decorateClassLocked(table map[string]json.RawMessage) {
	setIfAbsent(table, "TableClassSummary", map[string]string{"TableClass": "STANDARD"})
}

// decorateReplicaClassLocked reports the class a member's table has: the replica's
// TableClassOverride, of which DynamoDB Local's table knows nothing, or else the
// class it was created with.
func decorateReplicaClassLocked(table map[string]json.RawMessage, m *member) {
	switch {
	case m.classOverride:
		table["TableClassSummary"], _ = json.Marshal(map[string]string{"TableClass": m.tableClass})
	case m.tableClass != "":
		setIfAbsent(table, "TableClassSummary", map[string]string{"TableClass": m.tableClass})
	}
}

// withReplicationMode adds the settings replication mode to a replica description.
func withReplicationMode(d map[string]any) map[string]any {
	if _, ok := d["GlobalTableSettingsReplicationMode"]; !ok {
		d["GlobalTableSettingsReplicationMode"] = replicationModeSameAccount
	}
	return d
}

// inheritTTL gives a new replica the source's TTL setting: TTL is one of the
// settings global tables keep synchronized across replicas (AWS developer guide,
// global tables, "synchronized settings"; shared FACTS: a new replica inherits
// the source's TTL).
func (s *Server) inheritTTL(ctx context.Context, from, to, table string) *apiError {
	var desc struct {
		TimeToLiveDescription struct {
			TimeToLiveStatus string `json:"TimeToLiveStatus"`
			AttributeName    string `json:"AttributeName"`
		} `json:"TimeToLiveDescription"`
	}
	if e := s.ddb(ctx, from, "DescribeTimeToLive", map[string]string{"TableName": table}, &desc); e != nil {
		return e
	}
	switch desc.TimeToLiveDescription.TimeToLiveStatus {
	case "ENABLED", "ENABLING":
	default:
		return nil
	}
	return s.ddb(ctx, to, "UpdateTimeToLive", map[string]any{"TableName": table,
		"TimeToLiveSpecification": map[string]any{"Enabled": true, "AttributeName": desc.TimeToLiveDescription.AttributeName}}, nil)
}
