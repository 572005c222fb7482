package emulator

import (
	"encoding/json"
	"math/rand"
	"net/http"
	"sync"
	"time"
)

// Fault is one fault-injection rule. A rule matches a call by operation, Region and
// table (empty matches any) and then, with probability Rate, does what it says:
// waits Latency, fails with ErrorCode/HTTPStatus, or (BatchWriteItem) returns a
// fraction of the items as UnprocessedItems. Each rule has its own RNG seeded with
// Seed, so a test sees the same sequence every run. A rule with no error, latency or
// UnprocessedFraction changes nothing and only counts the calls it matches (Fired).
type Fault struct {
	ID int `json:"id,omitempty"`
	// Operation is the API name without prefix, e.g. "PutItem", "GetRecords",
	// "RegisterScalableTarget"; empty or "*" matches every operation.
	Operation string `json:"operation,omitempty"`
	Region    string `json:"region,omitempty"`
	// Table matches the request's TableName (or the table of its first
	// RequestItems entry); empty matches any.
	Table string `json:"table,omitempty"`
	// ErrorCode such as ProvisionedThroughputExceededException, ThrottlingException,
	// InternalServerError, ExpiredIteratorException; HTTPStatus defaults to 400
	// (500 for InternalServerError and ServiceUnavailable).
	ErrorCode  string `json:"errorCode,omitempty"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	Message    string `json:"message,omitempty"`
	// Rate is the probability (0..1] that a matching call is affected; 0 means 1.
	Rate float64 `json:"rate,omitempty"`
	// Latency is added before the call is handled.
	Latency time.Duration `json:"latency,omitempty"`
	// UnprocessedFraction is the share of BatchWriteItem requests held back and
	// returned as UnprocessedItems (each item independently).
	UnprocessedFraction float64 `json:"unprocessedFraction,omitempty"`
	// Count limits how many calls the rule affects; 0 means no limit.
	Count int   `json:"count,omitempty"`
	Seed  int64 `json:"seed,omitempty"`
	// ThrottlingReason overrides the reason that ProvisionedThroughputExceededException
	// carries (default: Table{Read|Write}ProvisionedThroughputExceeded by operation).
	ThrottlingReason string `json:"throttlingReason,omitempty"`

	// Fired (reported by Faults and FaultFired, ignored by AddFault) is how many calls
	// the rule affected so far; Held is how many BatchWriteItem requests it returned
	// as UnprocessedItems. Tests assert on them that an injected fault really fired.
	Fired int `json:"fired,omitempty"`
	Held  int `json:"held,omitempty"`
}

type faultRule struct {
	Fault
	mu    sync.Mutex
	rng   *rand.Rand
	fired int
	held  int
}

// AddFault installs a rule and returns its id.
func (s *Server) AddFault(f Fault) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextFaultID++
	f.ID = s.nextFaultID
	f.Fired, f.Held = 0, 0
	if f.ErrorCode != "" && f.HTTPStatus == 0 {
		f.HTTPStatus = http.StatusBadRequest
		if f.ErrorCode == "InternalServerError" || f.ErrorCode == "ServiceUnavailable" || f.ErrorCode == "InternalFailure" {
			f.HTTPStatus = http.StatusInternalServerError
		}
	}
	r := &faultRule{Fault: f, rng: rand.New(rand.NewSource(f.Seed))}
	s.faults = append(s.faults, r)
	if s.faultByID == nil {
		s.faultByID = map[int]*faultRule{}
	}
	s.faultByID[f.ID] = r
	s.faultCount.Store(int32(len(s.faults)))
	return f.ID
}

// RemoveFault deletes one rule.
func (s *Server) RemoveFault(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.faults {
		if r.ID == id {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			s.faultCount.Store(int32(len(s.faults)))
			return
		}
	}
}

// ClearFaults removes every rule, stream trim and iterator lifetime.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.faultByID = nil
	s.faultCount.Store(0)
	s.trims = map[string]string{}
	s.iteratorTTL = 0
	s.createFails = map[tableKey]string{}
}

// Faults lists the rules in force, with how often each fired.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, r := range s.faults {
		r.mu.Lock()
		f := r.Fault
		if f.Count > 0 {
			f.Count -= r.fired
		}
		f.Fired, f.Held = r.fired, r.held
		r.mu.Unlock()
		out = append(out, f)
	}
	return out
}

// FaultFired reports how many calls the rule id affected (errors returned,
// latency added, or BatchWriteItem calls it rolled items of) and how many
// BatchWriteItem requests it held back as UnprocessedItems. A removed rule keeps its
// counts until ClearFaults.
func (s *Server) FaultFired(id int) (calls, held int) {
	s.mu.Lock()
	r := s.faultByID[id]
	s.mu.Unlock()
	if r == nil {
		return 0, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fired, r.held
}

// SetIteratorLifetime makes shard iterators expire this long after they were
// issued (ExpiredIteratorException), instead of AWS's 15 minutes; 0 restores it.
func (s *Server) SetIteratorLifetime(d time.Duration) {
	s.mu.Lock()
	s.iteratorTTL = d
	s.mu.Unlock()
}

// FailReplicaCreation makes the next replica created for table in region end in
// CREATION_FAILED with description (empty table matches any table).
func (s *Server) FailReplicaCreation(region, table, description string) {
	s.mu.Lock()
	s.createFails[tableKey{region, table}] = description
	s.mu.Unlock()
}

func (r *faultRule) matches(req *request, table string) bool {
	if r.Operation != "" && r.Operation != "*" && r.Operation != req.op {
		return false
	}
	if r.Region != "" && r.Region != req.region {
		return false
	}
	if r.Table != "" && r.Table != table {
		return false
	}
	return true
}

// roll decides whether the rule fires for one call (or one item).
func (r *faultRule) roll() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Count > 0 && r.fired >= r.Count {
		return false
	}
	rate := r.Rate
	if rate == 0 {
		rate = 1
	}
	if r.rng.Float64() >= rate {
		return false
	}
	r.fired++
	return true
}

func (r *faultRule) rollItem() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rng.Float64() < r.UnprocessedFraction {
		r.held++
		return true
	}
	return false
}

// applyFaults runs the rules that match req: latency, errors, and held-back
// BatchWriteItem items (which it removes from req.body).
func (s *Server) applyFaults(req *request) *apiError {
	if s.faultCount.Load() == 0 {
		return nil
	}
	s.mu.Lock()
	rules := s.faults
	s.mu.Unlock()
	if len(rules) == 0 {
		return nil
	}
	table := requestTable(req.body)
	for _, r := range rules {
		if !r.matches(req, table) {
			continue
		}
		if r.UnprocessedFraction > 0 && req.op == "BatchWriteItem" {
			if r.roll() {
				if e := holdBackItems(req, r); e != nil {
					return e
				}
			}
			continue
		}
		if !r.roll() {
			continue
		}
		if r.Latency > 0 {
			select {
			case <-time.After(r.Latency):
			case <-req.ctx.Done():
			}
		}
		if r.ErrorCode != "" {
			msg := r.Message
			if msg == "" {
				msg = defaultFaultMessage(r.ErrorCode)
			}
			e := &apiError{Code: r.ErrorCode, Message: msg, Status: r.HTTPStatus}
			if r.ErrorCode == "ProvisionedThroughputExceededException" && req.proto == protoDynamoDB {
				e.raw = throttleBody(req, table, msg, r.ThrottlingReason)
			}
			return e
		}
	}
	return nil
}

var readOps = map[string]bool{"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true}

// throttleBody is a throttling error with its ThrottlingReasons, as DynamoDB sends.
func throttleBody(req *request, table, msg, reason string) []byte {
	if reason == "" {
		reason = "TableWriteProvisionedThroughputExceeded"
		if readOps[req.op] {
			reason = "TableReadProvisionedThroughputExceeded"
		}
	}
	b, _ := json.Marshal(map[string]any{
		"__type":            protoDynamoDB.errorType("ProvisionedThroughputExceededException"),
		"message":           msg,
		"ThrottlingReasons": []map[string]string{{"reason": reason, "resource": tableARN(req.region, table)}},
	})
	return b
}

func defaultFaultMessage(code string) string {
	switch code {
	case "ProvisionedThroughputExceededException":
		return "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
	case "ThrottlingException":
		return "Rate of requests exceeds the allowed throughput."
	case "RequestLimitExceeded":
		return "Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase"
	case "InternalServerError":
		return "Internal server error"
	case "ExpiredIteratorException":
		return "Iterator expired. The iterator was created more than 15 minutes ago."
	case "TrimmedDataAccessException":
		return "The operation attempted to read past the oldest stream record in a shard."
	}
	return "Injected fault: " + code
}

// requestTable finds the table a request is about, for fault matching.
func requestTable(body []byte) string {
	var probe struct {
		TableName     string                     `json:"TableName"`
		RequestItems  map[string]json.RawMessage `json:"RequestItems"`
		StreamArn     string                     `json:"StreamArn"`
		ResourceArn   string                     `json:"ResourceArn"`
		ShardIterator string                     `json:"ShardIterator"` // starts with the stream ARN
	}
	if json.Unmarshal(body, &probe) != nil {
		return ""
	}
	if probe.TableName != "" {
		return probe.TableName
	}
	for name := range probe.RequestItems {
		return name
	}
	for _, arn := range []string{probe.StreamArn, probe.ResourceArn, probe.ShardIterator} {
		if _, name, ok := tableFromARN(arn); ok {
			return name
		}
	}
	return ""
}

// holdBackItems removes a random share of a BatchWriteItem's requests; they are
// returned as UnprocessedItems together with whatever DynamoDB Local leaves.
func holdBackItems(req *request, r *faultRule) *apiError {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(req.body, &in); err != nil {
		return serializationError(err)
	}
	var items map[string][]json.RawMessage
	if err := json.Unmarshal(in["RequestItems"], &items); err != nil {
		return nil // DynamoDB Local will report the shape error
	}
	kept := map[string][]json.RawMessage{}
	for table, reqs := range items {
		for _, it := range reqs {
			if r.rollItem() {
				if req.unprocessed == nil {
					req.unprocessed = map[string][]json.RawMessage{}
				}
				req.unprocessed[table] = append(req.unprocessed[table], it)
			} else {
				kept[table] = append(kept[table], it)
			}
		}
	}
	if req.unprocessed == nil {
		return nil
	}
	in["RequestItems"], _ = json.Marshal(kept)
	req.body, _ = json.Marshal(in)
	return nil
}

// mergeUnprocessed adds the held-back items to a BatchWriteItem answer.
func mergeUnprocessed(resp []byte, held map[string][]json.RawMessage) []byte {
	var out map[string]json.RawMessage
	if json.Unmarshal(resp, &out) != nil {
		out = map[string]json.RawMessage{}
	}
	un := map[string][]json.RawMessage{}
	if raw, ok := out["UnprocessedItems"]; ok {
		_ = json.Unmarshal(raw, &un)
	}
	for t, items := range held {
		un[t] = append(un[t], items...)
	}
	out["UnprocessedItems"], _ = json.Marshal(un)
	b, _ := json.Marshal(out)
	return b
}
