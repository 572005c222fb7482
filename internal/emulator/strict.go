package emulator

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// This file holds AWS rules that make the control plane harsher than DynamoDB
// Local: warm throughput and the per-Region table quota, and customer managed keys of
// replicas (the KMS itself is in kms.go).

// warmThroughput is a table's or index's warm throughput in units per second.
type warmThroughput struct {
	ReadUnitsPerSecond  int64 `json:"ReadUnitsPerSecond"`
	WriteUnitsPerSecond int64 `json:"WriteUnitsPerSecond"`
}

// Warm throughput of a new on-demand table or index: "New on-demand tables start
// with a warm throughput of 12,000 read units per second and 4,000 write units per
// second" (AWS developer guide, warm-throughput-scenarios.html). A provisioned table's
// warm throughput is at least what is provisioned (same page).
const (
	defaultWarmRead  = 12000
	defaultWarmWrite = 4000
)

func defaultWarm(billing string, pt *throughput) warmThroughput {
	w := warmThroughput{defaultWarmRead, defaultWarmWrite}
	if billing != "PAY_PER_REQUEST" && pt != nil {
		w.ReadUnitsPerSecond = max(w.ReadUnitsPerSecond, pt.ReadCapacityUnits)
		w.WriteUnitsPerSecond = max(w.WriteUnitsPerSecond, pt.WriteCapacityUnits)
	}
	return w
}

// warmOf is the warm throughput a table reports.
func (m *tableMeta) warmOf(billing string, pt *throughput) warmThroughput {
	w := defaultWarm(billing, pt)
	if m != nil && m.Warm != nil {
		w.ReadUnitsPerSecond = max(w.ReadUnitsPerSecond, m.Warm.ReadUnitsPerSecond)
		w.WriteUnitsPerSecond = max(w.WriteUnitsPerSecond, m.Warm.WriteUnitsPerSecond)
	}
	return w
}

// decorateWarmLocked adds WarmThroughput (Status ACTIVE) to a table description and
// to each of its GSIs. Every DescribeTable on AWS carries it since November 2024, and
// hashicorp/aws waits for it after CreateTable: internal/service/dynamodb/status.go
// statusTableWarmThroughput treats an ACTIVE table without WarmThroughput as not
// found unless its ARN is DynamoDB Local's (wait.go waitTableWarmThroughputActive).
func decorateWarmLocked(m *tableMeta, table map[string]json.RawMessage) {
	var billing struct{ BillingMode string }
	_ = json.Unmarshal(table["BillingModeSummary"], &billing)
	var pt *throughput
	_ = json.Unmarshal(table["ProvisionedThroughput"], &pt)
	w := m.warmOf(billing.BillingMode, pt)
	table["WarmThroughput"], _ = json.Marshal(map[string]any{
		"ReadUnitsPerSecond": w.ReadUnitsPerSecond, "WriteUnitsPerSecond": w.WriteUnitsPerSecond, "Status": "ACTIVE"})
	editGSIs(table, func(g map[string]json.RawMessage) {
		var gpt *throughput
		_ = json.Unmarshal(g["ProvisionedThroughput"], &gpt)
		gw := defaultWarm(billing.BillingMode, gpt)
		g["WarmThroughput"], _ = json.Marshal(map[string]any{
			"ReadUnitsPerSecond": gw.ReadUnitsPerSecond, "WriteUnitsPerSecond": gw.WriteUnitsPerSecond, "Status": "ACTIVE"})
	})
}

// editGSIs calls edit on each GSI of a table description and stores the result.
func editGSIs(table map[string]json.RawMessage, edit func(gsi map[string]json.RawMessage)) {
	raw, ok := table["GlobalSecondaryIndexes"]
	if !ok {
		return
	}
	var gsis []map[string]json.RawMessage
	if json.Unmarshal(raw, &gsis) != nil {
		return
	}
	for _, g := range gsis {
		edit(g)
	}
	table["GlobalSecondaryIndexes"], _ = json.Marshal(gsis)
}

// TableQuota is a Region's per-table throughput maximum, as DescribeLimits reports it.
type TableQuota struct {
	Read  int64 `json:"read"`
	Write int64 `json:"write"`
}

// DefaultTableQuota is AWS's default per-table maximum: 40,000 read and 40,000 write
// capacity units (AWS developer guide, ServiceQuotas.html, "Throughput default quotas").
var DefaultTableQuota = TableQuota{Read: 40000, Write: 40000}

// SetTableQuota sets a Region's per-table maximum (a zero quota restores the default).
func (s *Server) SetTableQuota(region string, q TableQuota) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q == (TableQuota{}) {
		delete(s.quotas, region)
		return
	}
	s.quotas[region] = q
}

func (s *Server) quotaLocked(region string) TableQuota {
	if q, ok := s.quotas[region]; ok {
		return q
	}
	return DefaultTableQuota
}

// describeLimits answers DescribeLimits with the Region's quota; the account maximum
// is AWS's default of 80,000 (or the table maximum when that is higher).
func (s *Server) describeLimits(req *request) ([]byte, *apiError) {
	s.mu.Lock()
	q := s.quotaLocked(req.region)
	s.mu.Unlock()
	return marshal(map[string]int64{
		"AccountMaxReadCapacityUnits": max(80000, q.Read), "AccountMaxWriteCapacityUnits": max(80000, q.Write),
		"TableMaxReadCapacityUnits": q.Read, "TableMaxWriteCapacityUnits": q.Write,
	})
}

// warmAboveQuota refuses warm throughput above a Region's table maximum. For a
// replica this is the destination Region's maximum: the create fails with
// LimitExceededException (AWS provider issue #46228, where the provider hangs on it).
func warmAboveQuota(w warmThroughput, q TableQuota, region string) *apiError {
	if w.ReadUnitsPerSecond <= q.Read && w.WriteUnitsPerSecond <= q.Write {
		return nil
	}
	return errorf("LimitExceededException", http.StatusBadRequest,
		"Requested warm throughput (%d read, %d write units per second) exceeds the table-level throughput limit in %s (%d read, %d write)",
		w.ReadUnitsPerSecond, w.WriteUnitsPerSecond, region, q.Read, q.Write)
}

// awsManagedKeyID is the key id of the emulated AWS managed key alias/aws/dynamodb.
const awsManagedKeyID = "aws-managed-dynamodb"

func awsManagedKeyARN(region string) string {
	return "arn:aws:kms:" + region + ":" + AccountID + ":key/" + awsManagedKeyID
}

// keyARN turns a KMS key id, alias or ARN into the key ARN AWS reports: "keys are
// read back as full key ARNs, whatever form was sent" (AWS provider PR #29102).
// Aliases resolve to a stable made-up key id.
func keyARN(key, region string) string {
	switch {
	case key == "":
		return ""
	case strings.HasPrefix(key, "arn:aws:kms:"):
		parts := strings.SplitN(key, ":", 6)
		if len(parts) == 6 && strings.HasPrefix(parts[5], "alias/") {
			return keyARN(parts[5], parts[3])
		}
		return key
	case key == "alias/aws/dynamodb":
		return awsManagedKeyARN(region)
	case strings.HasPrefix(key, "alias/"):
		sum := sha1.Sum([]byte(region + key))
		h := hex.EncodeToString(sum[:16])
		return "arn:aws:kms:" + region + ":" + AccountID + ":key/" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	}
	return "arn:aws:kms:" + region + ":" + AccountID + ":key/" + key
}

func keyRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 {
		return parts[3]
	}
	return ""
}

// customerManaged reports whether a table's encryption uses a customer managed key.
func (sse *sseSpec) customerManaged() bool {
	return sse != nil && sse.SSEType == "KMS" && sse.KMSMasterKeyID != "" && !strings.HasSuffix(sse.KMSMasterKeyID, ":key/"+awsManagedKeyID)
}

// replicaKeyRule applies AWS's encryption rules to a replica create: on a table with a
// customer managed key each replica Create names a key in the replica's Region
// ("KMSMasterKeyId must be specified for each replica."); on a table with the AWS
// owned key a per-replica key is refused (shared/FACTS.md; AWS provider PR #29102).
func replicaKeyRule(src *sseSpec, key, region string) *apiError {
	switch {
	case src.customerManaged() && key == "":
		return validation("KMSMasterKeyId must be specified for each replica.")
	case src == nil && key != "":
		return validation("One or more parameter values were invalid: KMSMasterKeyId can only be specified for a replica of a table encrypted with a KMS key")
	case key != "" && keyRegion(keyARN(key, region)) != region:
		return validation("One or more parameter values were invalid: the KMS key %s of the replica in %s must be in that Region", key, region)
	}
	return nil
}

// settingsRules applies the rules of a settings UpdateTable (no ReplicaUpdates) and
// takes out what DynamoDB Local does not know (WarmThroughput).
//   - While a table is UPDATING, UpdateTable fails with ResourceInUseException.
//   - A deletion protection change keeps the table UPDATING for tens of seconds
//     (Delays.Settle), and another change within ~15 s is throttled
//     (Delays.ToggleThrottle) (shared/FACTS.md, "Settings changes take time").
//   - Warm throughput is kept by the front, up to the Region's table maximum.
//   - The table class is kept by the front (DynamoDB Local ignores it).
func (s *Server) settingsRules(req *request, name string, in map[string]json.RawMessage) *apiError {
	_, protection := in["DeletionProtectionEnabled"]
	warmRaw, warm := in["WarmThroughput"]
	if _, e := s.describeLocal(req, req.region, name); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metaLocked(req.region, name)
	now := time.Now()
	if now.Before(m.updatingUntil) {
		return inProcess(name)
	}
	if protection && now.Before(m.protectionChanged.Add(s.delays.ToggleThrottle)) {
		return errorf("LimitExceededException", http.StatusBadRequest,
			"Subscriber limit exceeded: deletion protection of table %s changed less than %s ago; try again later", name, s.delays.ToggleThrottle)
	}
	if warm {
		var w warmThroughput
		if err := json.Unmarshal(warmRaw, &w); err != nil {
			return serializationError(err)
		}
		if e := warmAboveQuota(w, s.quotaLocked(req.region), req.region); e != nil {
			return e
		}
		m.Warm = &w
		delete(in, "WarmThroughput")
	}
	if raw, ok := in["TableClass"]; ok {
		// DynamoDB Local ignores the table class: the front keeps it.
		var class string
		if err := json.Unmarshal(raw, &class); err != nil {
			return serializationError(err)
		}
		if e := checkTableClass(class); e != nil {
			return e
		}
		m.Class = class
		delete(in, "TableClass")
	}
	return nil
}

// regionPattern is the shape of an AWS Region name; ReplicaUpdates naming anything
// else is refused.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)

// FailureStatuses are the replica statuses SetReplicaStatus can put a replica into:
// the failures AWS reports in ReplicaStatus (SDK model ReplicaStatus enum).
var FailureStatuses = []string{"REGION_DISABLED", "INACCESSIBLE_ENCRYPTION_CREDENTIALS", "ARCHIVING", statusArchived, "REPLICATION_NOT_AUTHORIZED"}

// SetReplicaStatus puts an existing replica of a 2019.11.21 global table into one of
// FailureStatuses, or back to ACTIVE.
func (s *Server) SetReplicaStatus(region, table, status string) error {
	if status != statusActive && !slices.Contains(FailureStatuses, status) {
		return fmt.Errorf("status %q is not one of ACTIVE, %s", status, strings.Join(FailureStatuses, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[table]
	if g == nil || g.members[region] == nil {
		return fmt.Errorf("table %s has no replica in %s", table, region)
	}
	m := g.members[region]
	if m.status == statusCreating || m.status == statusDeleting {
		return fmt.Errorf("the replica of %s in %s is %s", table, region, m.status)
	}
	m.status, m.statusDesc = status, ""
	if status != statusActive {
		m.statusDesc = "Replica status set to " + status + " by the emulator's admin API"
	}
	return nil
}
