package emulator

import "testing"

// The policy evaluation the emulator uses for cross-account calls and replication
// grants: Deny wins, principals by account, root ARN or role, wildcards in actions,
// conditions on aws:SourceAccount, and an Allow with a condition the emulator does
// not evaluate allows nothing. Catches: Deny ignored when an Allow matches; an
// unknown condition treated as met.
func TestPolicyEvaluation(t *testing.T) {
	const table = "arn:aws:dynamodb:us-east-1:111111111111:table/t"
	doc, e := parsePolicy(`{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"AWS":["222222222222","arn:aws:iam::333333333333:root"]},"Action":"dynamodb:Get*","Resource":"` + table + `"},
	  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:role/app"},"Action":["dynamodb:*"],"Resource":"` + table + `*"},
	  {"Effect":"Deny","Principal":"*","Action":"dynamodb:GetRecords","Resource":"*"},
	  {"Effect":"Allow","Principal":{"Service":"replication.dynamodb.amazonaws.com"},"Action":"dynamodb:ReadDataForReplication","Resource":"` + table + `",
	   "Condition":{"StringEquals":{"aws:SourceAccount":["222222222222"]}}},
	  {"Effect":"Allow","Principal":{"AWS":"555555555555"},"Action":"dynamodb:GetItem","Resource":"` + table + `",
	   "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}
	]}`)
	if e != nil {
		t.Fatal(e)
	}
	for _, c := range []struct {
		name   string
		p      principal
		action string
		want   bool
	}{
		{"account id", principal{account: "222222222222"}, "dynamodb:GetItem", true},
		{"action wildcard, case", principal{account: "222222222222"}, "DYNAMODB:GETITEM", true},
		{"action not granted", principal{account: "222222222222"}, "dynamodb:PutItem", false},
		{"root ARN", principal{account: "333333333333"}, "dynamodb:GetItem", true},
		{"role", principal{account: "444444444444", role: "arn:aws:iam::444444444444:role/app"}, "dynamodb:PutItem", true},
		{"another role of that account", principal{account: "444444444444", role: "arn:aws:iam::444444444444:role/other"}, "dynamodb:PutItem", false},
		{"Deny wins", principal{account: "444444444444", role: "arn:aws:iam::444444444444:role/app"}, "dynamodb:GetRecords", false},
		{"unnamed account", principal{account: "666666666666"}, "dynamodb:GetItem", false},
		{"service, condition met", principal{service: ReplicationService, sourceAcc: "222222222222"}, "dynamodb:ReadDataForReplication", true},
		{"service, condition not met", principal{service: ReplicationService, sourceAcc: "777777777777"}, "dynamodb:ReadDataForReplication", false},
		{"service is not an AWS principal", principal{service: ReplicationService, sourceAcc: "222222222222"}, "dynamodb:GetItem", false},
		{"unevaluated condition allows nothing", principal{account: "555555555555"}, "dynamodb:GetItem", false},
	} {
		if got := doc.allows(c.p, c.action, table); got != c.want {
			t.Errorf("%s: allows = %v, want %v", c.name, got, c.want)
		}
	}
	for _, bad := range []string{`{}`, `{"Statement":[{"Effect":"Allow","Action":"x"}]}`, `{"Statement":{"Effect":"Allow","Principal":"*"}}`, `not json`} {
		if _, e := parsePolicy(bad); e == nil {
			t.Errorf("parsePolicy accepted %s", bad)
		}
	}
}
