package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// Accounts
//
// The emulator serves several AWS accounts. A caller's account comes from its
// access key id:
//
//   - a key handed out by the emulator's STS AssumeRole belongs to the account of
//     the role ARN it was asked for (arn:aws:iam::222222222222:role/x: 222222222222);
//   - a key that is exactly twelve digits is that account (222222222222), the
//     convention LocalStack uses too, so tests can pick an account with static
//     credentials;
//   - any other key is the default account, AccountID.
//
// Inside the emulator a table lives in a scope: its Region for the default account
// (so everything written before accounts existed keeps its keys), "region@account"
// for the others. DynamoDB Local keeps one database per access key and Region (it
// runs without -sharedDb), so callLocal signs a scope's calls with an access key of
// the account's own. Answers never show a scope: fromLocal and cleanScopes write
// the Region and the account into ARNs and Region names.

const scopeSep = "@"

var twelveDigits = regexp.MustCompile(`^\d{12}$`)

// scopeOf is where account's tables of region live inside the emulator.
func scopeOf(region, account string) string {
	if account == "" || account == AccountID {
		return region
	}
	return region + scopeSep + account
}

// Scope is how the admin API and the test helpers (RoleCalls, SetReplicaStatus,
// TrimStream...) name a Region of another account: "region@account"; the default
// account's Regions are their plain names.
func Scope(region, account string) string { return scopeOf(region, account) }

// splitScope returns a scope's Region and account.
func splitScope(scope string) (region, account string) {
	if r, a, ok := strings.Cut(scope, scopeSep); ok {
		return r, a
	}
	return scope, AccountID
}

// accountOfRole is the account of an IAM role (or user) ARN.
func accountOfRole(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && twelveDigits.MatchString(parts[4]) {
		return parts[4]
	}
	return AccountID
}

// caller is who signed a request, as far as the emulator can tell.
type caller struct {
	account string
	// role is the IAM role ARN behind an AssumeRole key ("" for static keys).
	role string
}

// principalARN is the caller as it appears in AWS's error messages.
func (c caller) principalARN() string {
	if c.role != "" {
		return strings.Replace(c.role, ":role/", ":assumed-role/", 1) + "/emulator"
	}
	return "arn:aws:iam::" + c.account + ":user/emulator"
}

// callerOf maps a SigV4 Authorization header onto an account (see above).
func (s *Server) callerOf(auth string) caller {
	m := credentialRe.FindStringSubmatch(auth)
	if m == nil {
		return caller{account: AccountID}
	}
	key := m[1]
	if twelveDigits.MatchString(key) {
		return caller{account: key}
	}
	if strings.HasPrefix(key, "ASIA") {
		s.mu.Lock()
		role := s.issuedKeys[key]
		s.mu.Unlock()
		if role != "" {
			return caller{account: accountOfRole(role), role: role}
		}
	}
	return caller{account: AccountID}
}

// localKeyOf is the access key callLocal signs a scope's calls with.
func localKeyOf(scope string) (region, key string) {
	region, account := splitScope(scope)
	if account == AccountID {
		return region, localAccessKey
	}
	return region, localAccessKey + account
}

// anyAccountARNRe matches the account part of the caller's DynamoDB ARNs, in any account.
var anyAccountARNRe = regexp.MustCompile(`arn:aws:dynamodb:[a-z0-9-]+:\d{12}:`)

// scopedARNRe and scopeRe find scopes that code built into answers (ARNs of other
// services, Region names of members in other accounts).
var (
	scopedARNRe = regexp.MustCompile(`arn:aws:([a-z0-9-]+):([a-z0-9-]+)@(\d{12}):\d{12}:`)
	scopeRe     = regexp.MustCompile(`([a-z0-9-]+)@\d{12}`)
)

// cleanScopes writes the account of scoped ARNs in place and drops the account
// from scoped Region names.
func cleanScopes(body []byte) []byte {
	if bytes.IndexByte(body, '@') < 0 {
		return body
	}
	body = scopedARNRe.ReplaceAll(body, []byte("arn:aws:$1:$2:$3:"))
	return scopeRe.ReplaceAll(body, []byte("$1"))
}

// tableRef is the table (or stream, or index) a request names by ARN at its top level.
type tableRef struct {
	field, arn, region, account, name string
}

// arnRefs lists the top-level table, resource and stream ARNs of a request.
func arnRefs(body []byte) []tableRef {
	if !bytes.Contains(body, []byte("arn:aws:dynamodb:")) {
		return nil
	}
	var in map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil {
		return nil
	}
	var out []tableRef
	for _, f := range []string{"TableName", "ResourceArn", "StreamArn", "TableArn"} {
		var v string
		if json.Unmarshal(in[f], &v) != nil || !strings.HasPrefix(v, "arn:aws:dynamodb:") {
			continue
		}
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 {
			continue
		}
		_, name, ok := tableFromARN(v)
		if !ok {
			continue
		}
		out = append(out, tableRef{field: f, arn: v, region: parts[3], account: parts[4], name: name})
	}
	return out
}

// routeAccount sends a request that names another account's table by ARN to that
// account, when the table's resource-based policy allows the caller; otherwise it
// is refused as AWS refuses a cross-account call that no resource-based policy
// allows (AccessDeniedException, "Using resource-based policies for DynamoDB",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html:
// a cross-account request needs an identity-based policy in the caller's account
// and a resource-based policy on the table). A table named by its bare name is
// always the caller's own: another account's table of that name stays invisible
// (ResourceNotFoundException from DynamoDB Local).
func (s *Server) routeAccount(req *request, who caller) *apiError {
	refs := arnRefs(req.body)
	for _, ref := range refs {
		if ref.account == who.account {
			continue
		}
		region, _ := splitScope(req.region)
		target := scopeOf(ref.region, ref.account)
		if ref.region != region {
			// A client reaches the endpoint of its own Region only.
			return errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: %s not found", ref.arn)
		}
		action := "dynamodb:" + req.op
		if !s.policyAllows(target, ref.name, ref.arn, action, who) {
			return errorf("AccessDeniedException", http.StatusBadRequest,
				"User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
				who.principalARN(), action, ref.arn, action)
		}
		req.region = target
		if ref.field == "TableName" {
			// The table's own account sees its bare name (the rest of the front
			// keys its state by name).
			var in map[string]json.RawMessage
			_ = json.Unmarshal(req.body, &in)
			in["TableName"], _ = json.Marshal(ref.name)
			req.body, _ = json.Marshal(in)
		}
		s.mu.Lock()
		s.crossCalls = append(s.crossCalls, CrossAccountCall{Caller: who.account, Role: who.role, Op: req.op, TableARN: ref.arn})
		s.mu.Unlock()
	}
	return nil
}

// CrossAccountCall is one call that reached another account's table through its
// resource-based policy.
type CrossAccountCall struct {
	Caller, Role, Op, TableARN string
}

// CrossAccountCalls lists the calls that reached another account's table, oldest first.
func (s *Server) CrossAccountCalls() []CrossAccountCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CrossAccountCall(nil), s.crossCalls...)
}

// stsCallerIdentity answers GetCallerIdentity for the caller's account.
func stsCallerIdentity(who caller) string {
	arn := "arn:aws:iam::" + who.account + ":user/emulator"
	if who.role != "" {
		arn = who.principalARN()
	}
	return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>` + arn + `</Arn><UserId>AIDAEMULATOR</UserId><Account>` + who.account + `</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>emulator</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
}

func accountOfScope(scope string) string {
	_, a := splitScope(scope)
	return a
}

// qualifyReplicaRegions names the Regions of ReplicaUpdates in the caller's account:
// a same-account replica is the caller's table in another Region.
func qualifyReplicaRegions(actions []replicaAction, scope string) {
	account := accountOfScope(scope)
	for _, a := range actions {
		for _, spec := range []*replicaSpec{a.Create, a.Update, a.Delete} {
			if spec != nil {
				spec.RegionName = scopeOf(spec.RegionName, account)
			}
		}
	}
}
