package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Resource-based policies of tables and streams: PutResourcePolicy,
// GetResourcePolicy, DeleteResourcePolicy, and the evaluation that lets another
// account's caller (or DynamoDB's replication service) reach a table.
//
// Rules, from the SDK model (aws-sdk-go-v2 service/dynamodb api_op_PutResourcePolicy.go,
// api_op_GetResourcePolicy.go, api_op_DeleteResourcePolicy.go) and "Resource-based
// policy considerations" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-considerations.html):
//   - a policy document is at most 20 KB, whitespace counted;
//   - PutResourcePolicy is idempotent: the same document keeps its revision id;
//   - ExpectedRevisionId that does not match the current policy's, or is given
//     when there is no policy, gives PolicyNotFoundException; NO_POLICY asks for
//     "attach only when there is none";
//   - GetResourcePolicy and DeleteResourcePolicy of a resource without a policy
//     give PolicyNotFoundException;
//   - a policy that takes away the caller's own PutResourcePolicy needs
//     ConfirmRemoveSelfResourceAccess.
// Only the subset of the IAM policy language the emulator evaluates is accepted
// for evaluation: Effect, Principal (AWS: "*", an account id, an account root ARN or
// a role ARN; Service), Action and Resource with * and ? wildcards, and Condition
// with StringEquals/StringLike/ArnEquals/ArnLike on aws:SourceAccount,
// aws:SourceArn and aws:PrincipalAccount. An Allow with any other condition allows
// nothing here; a Deny with one always applies (never kinder than AWS).

const (
	maxPolicyBytes = 20 * 1024
	// ReplicationService is the principal that multi-account global tables replicate
	// as ("DynamoDB global tables security", multi-account,
	// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_MA_security.html).
	ReplicationService = "replication.dynamodb.amazonaws.com"
)

type resourcePolicy struct {
	doc      string
	revision string
}

type policyDoc struct {
	Statement []policyStatement
}

type policyStatement struct {
	Effect    string
	Principal json.RawMessage
	Action    stringList
	Resource  stringList
	Condition map[string]map[string]stringList
}

// stringList is a policy value that is one string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

func parsePolicy(doc string) (*policyDoc, *apiError) {
	var raw struct {
		Version   string
		Statement json.RawMessage
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&raw); err != nil {
		return nil, validation("Invalid policy document: %v", err)
	}
	if len(bytes.TrimSpace(raw.Statement)) == 0 {
		return nil, validation("Invalid policy document: Missing required field Statement")
	}
	var stmts []policyStatement
	if raw.Statement[0] == '{' {
		var one policyStatement
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, validation("Invalid policy document: %v", err)
		}
		stmts = []policyStatement{one}
	} else if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		return nil, validation("Invalid policy document: %v", err)
	}
	for i, st := range stmts {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, validation("Invalid policy document: statement %d: Effect must be Allow or Deny", i)
		}
		if len(st.Principal) == 0 {
			return nil, validation("Invalid policy document: statement %d: Missing required field Principal", i)
		}
		if len(st.Action) == 0 {
			return nil, validation("Invalid policy document: statement %d: Missing required field Action", i)
		}
	}
	return &policyDoc{Statement: stmts}, nil
}

// principal is who a statement is evaluated for.
type principal struct {
	account   string // the caller's account (AWS principals)
	role      string // the caller's role ARN, if any
	service   string // a service principal, such as ReplicationService
	sourceArn string // aws:SourceArn of a service's call
	sourceAcc string // aws:SourceAccount of a service's call
}

func (st *policyStatement) matchesPrincipal(p principal) bool {
	var star string
	if json.Unmarshal(st.Principal, &star) == nil {
		return star == "*" && p.service == ""
	}
	var m map[string]stringList
	if json.Unmarshal(st.Principal, &m) != nil {
		return false
	}
	if p.service != "" {
		for _, s := range m["Service"] {
			if s == p.service {
				return true
			}
		}
		return false
	}
	for _, a := range m["AWS"] {
		switch {
		case a == "*", a == p.account, a == "arn:aws:iam::"+p.account+":root":
			return true
		case p.role != "" && a == p.role:
			return true
		}
	}
	return false
}

func wildcard(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// path.Match treats / as a separator; ARNs are matched as plain strings.
	pattern = strings.ReplaceAll(pattern, "/", "\x00")
	ok, _ := path.Match(pattern, strings.ReplaceAll(s, "/", "\x00"))
	return ok
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcard(p, s, fold) {
			return true
		}
	}
	return false
}

// conditionHolds evaluates a statement's conditions; known reports whether every
// condition was one the emulator evaluates.
func (st *policyStatement) conditionHolds(p principal) (holds, known bool) {
	for op, keys := range st.Condition {
		like := op == "StringLike" || op == "ArnLike"
		if op != "StringEquals" && op != "StringLike" && op != "ArnEquals" && op != "ArnLike" {
			return false, false
		}
		for key, values := range keys {
			var v string
			switch strings.ToLower(key) {
			case "aws:sourceaccount":
				v = p.sourceAcc
			case "aws:sourcearn":
				v = p.sourceArn
			case "aws:principalaccount":
				v = p.account
			default:
				return false, false
			}
			ok := false
			for _, want := range values {
				if (like && wildcard(want, v, false)) || (!like && want == v) {
					ok = true
				}
			}
			if !ok {
				return false, true
			}
		}
	}
	return true, true
}

// allows evaluates a policy: an explicit Deny wins, then any Allow.
func (d *policyDoc) allows(p principal, action, resource string) bool {
	allowed := false
	for i := range d.Statement {
		st := &d.Statement[i]
		if !st.matchesPrincipal(p) || !anyMatch(st.Action, action, true) {
			continue
		}
		if len(st.Resource) > 0 && !anyMatch(st.Resource, resource, false) {
			continue
		}
		holds, known := st.conditionHolds(p)
		if st.Effect == "Deny" && (holds || !known) {
			return false
		}
		if st.Effect == "Allow" && holds && known {
			allowed = true
		}
	}
	return allowed
}

// resourcePath is what follows the account in a DynamoDB ARN ("table/x", "table/x/stream/...").
func resourcePath(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[5]
}

// policyAllows reports whether the policy of the table (or stream) arn in scope
// allows who to do action.
func (s *Server) policyAllows(scope, table, arn, action string, who caller) bool {
	s.mu.Lock()
	rp := s.resPolicies[tableKey{scope, resourcePath(arn)}]
	if rp == nil && strings.Contains(resourcePath(arn), "/index/") {
		rp = s.resPolicies[tableKey{scope, "table/" + table}] // an index answers to its table's policy
	}
	s.mu.Unlock()
	if rp == nil {
		return false
	}
	doc, e := parsePolicy(rp.doc)
	if e != nil {
		return false
	}
	return doc.allows(principal{account: who.account, role: who.role}, action, arn)
}

// replicationAllowed reports whether the policy of table in scope lets DynamoDB's
// replication service do each of actions on behalf of the replica sourceArn.
func (s *Server) replicationAllowed(scope, table, sourceArn string, actions ...string) bool {
	s.mu.Lock()
	rp := s.resPolicies[tableKey{scope, "table/" + table}]
	s.mu.Unlock()
	if rp == nil {
		return false
	}
	doc, e := parsePolicy(rp.doc)
	if e != nil {
		return false
	}
	_, srcAccount := splitScope(scopeOfARN(sourceArn))
	p := principal{service: ReplicationService, sourceArn: sourceArn, sourceAcc: srcAccount}
	for _, a := range actions {
		if !doc.allows(p, a, tableARN(scope, table)) {
			return false
		}
	}
	return true
}

// scopeOfARN is the scope of a DynamoDB ARN.
func scopeOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return scopeOf(parts[3], parts[4])
}

func policyNotFound(arn string) *apiError {
	return errorf("PolicyNotFoundException", http.StatusBadRequest,
		"Resource-based policy not found for the provided ResourceArn: %s", arn)
}

// resourcePolicyOp answers PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy.
func (s *Server) resourcePolicyOp(req *request) ([]byte, *apiError) {
	var in struct {
		ResourceArn                     string  `json:"ResourceArn"`
		Policy                          *string `json:"Policy"`
		ExpectedRevisionId              *string `json:"ExpectedRevisionId"`
		ConfirmRemoveSelfResourceAccess bool    `json:"ConfirmRemoveSelfResourceAccess"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if in.ResourceArn == "" {
		return nil, validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	region, name, ok := tableFromARN(in.ResourceArn)
	if !ok {
		return nil, validation("Invalid ResourceArn provided as input %s", in.ResourceArn)
	}
	scope := scopeOfARN(in.ResourceArn)
	if plain, _ := splitScope(req.region); region != plain || scope != req.region {
		return nil, errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: ResourcArn: %s not found", in.ResourceArn)
	}
	if _, e := s.describeLocal(req, scope, name); e != nil {
		if e.Code == "ResourceNotFoundException" {
			return nil, errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: ResourcArn: %s not found", in.ResourceArn)
		}
		return nil, e
	}
	key := tableKey{scope, resourcePath(in.ResourceArn)}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.resPolicies[key]
	switch req.op {
	case "GetResourcePolicy":
		if cur == nil {
			return nil, policyNotFound(in.ResourceArn)
		}
		return marshal(map[string]string{"Policy": cur.doc, "RevisionId": cur.revision})
	case "DeleteResourcePolicy":
		if cur == nil || (in.ExpectedRevisionId != nil && *in.ExpectedRevisionId != cur.revision) {
			return nil, policyNotFound(in.ResourceArn)
		}
		delete(s.resPolicies, key)
		return marshal(map[string]string{"RevisionId": cur.revision})
	}
	if in.Policy == nil {
		return nil, validation("1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
	}
	if len(*in.Policy) > maxPolicyBytes {
		return nil, validation("Resource-based policy size %d exceeds the maximum allowed size of %d bytes", len(*in.Policy), maxPolicyBytes)
	}
	doc, e := parsePolicy(*in.Policy)
	if e != nil {
		return nil, e
	}
	if exp := in.ExpectedRevisionId; exp != nil {
		if (*exp == "NO_POLICY" && cur != nil) || (*exp != "NO_POLICY" && (cur == nil || cur.revision != *exp)) {
			return nil, policyNotFound(in.ResourceArn)
		}
	}
	_, acct := splitScope(scope)
	if !in.ConfirmRemoveSelfResourceAccess && !doc.allowsOrSilent(principal{account: acct}, "dynamodb:PutResourcePolicy", in.ResourceArn) {
		return nil, validation("The policy would remove your own permission to change it (dynamodb:PutResourcePolicy); set ConfirmRemoveSelfResourceAccess to confirm")
	}
	if cur != nil && cur.doc == *in.Policy {
		return marshal(map[string]string{"RevisionId": cur.revision})
	}
	rev := strconv.FormatInt(time.Now().UnixNano(), 10)
	s.resPolicies[key] = &resourcePolicy{doc: *in.Policy, revision: rev}
	return marshal(map[string]string{"RevisionId": rev})
}

// allowsOrSilent reports false only when a Deny explicitly takes the action from p
// (an owner keeps its identity-based permissions when the policy says nothing).
func (d *policyDoc) allowsOrSilent(p principal, action, resource string) bool {
	for i := range d.Statement {
		st := &d.Statement[i]
		if st.Effect != "Deny" || !st.matchesPrincipal(p) || !anyMatch(st.Action, action, true) {
			continue
		}
		if len(st.Resource) > 0 && !anyMatch(st.Resource, resource, false) {
			continue
		}
		if holds, known := st.conditionHolds(p); holds || !known {
			return false
		}
	}
	return true
}

// forgetPoliciesLocked drops the policies of a deleted table and its streams.
func (s *Server) forgetPoliciesLocked(scope, table string) {
	for k := range s.resPolicies {
		if k.Region == scope && (k.Table == "table/"+table || strings.HasPrefix(k.Table, "table/"+table+"/")) {
			delete(s.resPolicies, k)
		}
	}
}
