package upgrade

import (
	"strings"
	"testing"
	"time"
)

// member is a legacy member that passes every check: on-demand, TTL off, no GSI.
func member(region string) RegionFacts {
	return RegionFacts{
		Region:           region,
		ARN:              "arn:aws:dynamodb:" + region + ":111122223333:table/Music",
		TableStatus:      "ACTIVE",
		BillingMode:      "PAY_PER_REQUEST",
		TTL:              TTL{Status: "DISABLED"},
		Encryption:       Encryption{Type: "DEFAULT"},
		WriteAutoScaling: map[string]bool{},
		Replicas:         map[string]string{},
	}
}

func facts(regions ...RegionFacts) *Facts {
	return &Facts{TableName: "Music", Legacy: true, Regions: regions}
}

func byName(t *testing.T, checks []Check, name string) Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %v", name, checks)
	return Check{}
}

func TestEvaluate_allPass(t *testing.T) {
	checks := Evaluate(facts(member("us-east-1"), member("eu-west-1"), member("ap-southeast-1")), true)
	if len(checks) != len(CheckNames) {
		t.Fatalf("got %d checks, want %d", len(checks), len(CheckNames))
	}
	for i, c := range checks {
		if c.Name != CheckNames[i] {
			t.Errorf("check %d is %q, want %q", i, c.Name, CheckNames[i])
		}
		if !c.Passed {
			t.Errorf("%s failed: %s", c.Name, c.Detail)
		}
	}
	if got := byName(t, checks, CheckTTL).Detail; got != "disabled in every Region (us-east-1, eu-west-1, ap-southeast-1)" {
		t.Errorf("TTL detail = %q", got)
	}
}

func TestEvaluate_ttl(t *testing.T) {
	east, west, south := member("us-east-1"), member("eu-west-1"), member("ap-southeast-1")
	east.TTL = TTL{Status: "ENABLED", Attribute: "expiresAt"}
	south.TTL = TTL{Status: "ENABLED", Attribute: "expiresAt"}
	checks := Evaluate(facts(east, west, south), true)
	c := byName(t, checks, CheckTTL)
	if c.Passed || !c.Fixable {
		t.Fatalf("TTL check = %+v, want failed and fixable", c)
	}
	if want := "TTL: enabled on attribute expiresAt in us-east-1 and ap-southeast-1; disabled in eu-west-1"; c.String() != want {
		t.Errorf("got %q\nwant %q", c.String(), want)
	}
	if len(Failed(checks)) != 1 || len(Unfixable(checks)) != 0 {
		t.Errorf("only the TTL check should fail: %v", Failed(checks))
	}
	actions := PlanRemediation(facts(east, west, south), checks, CapacityOnDemand)
	if len(actions) != 1 || actions[0] != (Action{Kind: ActionEnableTTL, Region: "eu-west-1", Attribute: "expiresAt"}) {
		t.Errorf("actions = %v", actions)
	}

	// Different attributes: no attribute is picked for the user.
	west.TTL = TTL{Status: "ENABLED", Attribute: "ttl"}
	checks = Evaluate(facts(east, west, south), true)
	c = byName(t, checks, CheckTTL)
	if c.Passed || c.Fixable {
		t.Fatalf("TTL check = %+v, want failed and not fixable", c)
	}
	if !strings.Contains(c.Detail, "enabled on attribute ttl in eu-west-1") {
		t.Errorf("detail = %q", c.Detail)
	}
	if a := PlanRemediation(facts(east, west, south), checks, CapacityOnDemand); len(a) != 0 {
		t.Errorf("actions = %v, want none", a)
	}
}

func TestEvaluate_gsi(t *testing.T) {
	gsi := GSI{Name: "byArtist", Keys: []string{"artist (HASH, S)"}, Projection: "ALL"}
	east, west := member("us-east-1"), member("eu-west-1")
	east.GSIs = []GSI{gsi}
	west.GSIs = []GSI{gsi}
	if c := byName(t, Evaluate(facts(east, west), true), CheckGSI); !c.Passed {
		t.Fatalf("identical GSIs failed: %s", c.Detail)
	}

	include := gsi
	include.Projection, include.NonKeyAttributes = "INCLUDE", []string{"album", "year"}
	west.GSIs = []GSI{include, {Name: "byYear", Keys: []string{"year (HASH, N)"}, Projection: "KEYS_ONLY"}}
	checks := Evaluate(facts(east, west), true)
	c := byName(t, checks, CheckGSI)
	if c.Passed || c.Fixable {
		t.Fatalf("GSI check = %+v, want failed and unfixable", c)
	}
	for _, want := range []string{
		"index byArtist: keys artist (HASH, S), projection ALL in us-east-1; keys artist (HASH, S), projection INCLUDE [album, year] in eu-west-1",
		"index byYear: missing in us-east-1; keys year (HASH, N), projection KEYS_ONLY in eu-west-1",
	} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("detail %q\nlacks %q", c.Detail, want)
		}
	}
	if len(Unfixable(checks)) != 1 || PlanRemediation(facts(east, west), checks, CapacityOnDemand) != nil {
		t.Error("a GSI difference must never be remediated")
	}
}

func TestEvaluate_encryption(t *testing.T) {
	east, west := member("us-east-1"), member("eu-west-1")
	east.Encryption = Encryption{Type: "KMS", KeyARN: "arn:aws:kms:us-east-1:111122223333:key/a"}
	c := byName(t, Evaluate(facts(east, west), true), CheckEncryption)
	if c.Passed || c.Fixable {
		t.Fatalf("encryption = %+v, want failed and unfixable", c)
	}
	if want := "KMS key arn:aws:kms:us-east-1:111122223333:key/a in us-east-1; owned by DynamoDB (default) in eu-west-1"; c.Detail != want {
		t.Errorf("detail = %q", c.Detail)
	}
	// KMS keys are regional: the same type with a key per Region is consistent.
	west.Encryption = Encryption{Type: "KMS", KeyARN: "arn:aws:kms:eu-west-1:111122223333:key/b"}
	if c := byName(t, Evaluate(facts(east, west), true), CheckEncryption); !c.Passed {
		t.Errorf("KMS in both Regions failed: %s", c.Detail)
	}
}

func TestEvaluate_capacity(t *testing.T) {
	east, west, south := member("us-east-1"), member("eu-west-1"), member("ap-southeast-1")
	gsi := GSI{Name: "byArtist", Keys: []string{"artist (HASH, S)"}, Projection: "ALL", WriteUnits: 3}
	for _, m := range []*RegionFacts{&east, &west, &south} {
		m.GSIs = []GSI{gsi}
	}
	west.BillingMode, west.ReadUnits, west.WriteUnits = "PROVISIONED", 10, 20
	west.WriteAutoScaling = map[string]bool{"": true, "byArtist": true}
	south.BillingMode, south.WriteUnits = "PROVISIONED", 5
	south.WriteAutoScaling = map[string]bool{"": true}
	f := facts(east, west, south)
	checks := Evaluate(f, true)
	c := byName(t, checks, CheckCapacity)
	if c.Passed || !c.Fixable {
		t.Fatalf("capacity = %+v, want failed and fixable", c)
	}
	if want := "on-demand in us-east-1; provisioned with WCU auto scaling in eu-west-1; provisioned without WCU auto scaling on index byArtist in ap-southeast-1"; c.Detail != want {
		t.Errorf("detail = %q", c.Detail)
	}
	// On-demand brings every Region to on-demand, the auto scaled one too: switching
	// only ap-southeast-1 would leave auto scaling in eu-west-1 next to on-demand.
	if a := PlanRemediation(f, checks, CapacityOnDemand); len(a) != 2 ||
		a[0] != (Action{Kind: ActionOnDemand, Region: "eu-west-1"}) || a[1] != (Action{Kind: ActionOnDemand, Region: "ap-southeast-1"}) {
		t.Errorf("on-demand actions = %v", a)
	}
	// Auto scaling brings every Region to provisioned with WCU auto scaling: the
	// on-demand Region is switched to provisioned (with the capacity of a provisioned
	// Region) and gets auto scaling on the table and the index.
	a := PlanRemediation(f, checks, CapacityAutoScaling)
	want := []Action{
		{Kind: ActionProvisioned, Region: "us-east-1", ReadUnits: 10, WriteUnits: 20},
		{Kind: ActionAutoScaling, Region: "us-east-1", MinUnits: 20, MaxUnits: 200},
		{Kind: ActionAutoScaling, Region: "us-east-1", Index: "byArtist", MinUnits: 20, MaxUnits: 200},
		{Kind: ActionAutoScaling, Region: "ap-southeast-1", Index: "byArtist", MinUnits: 3, MaxUnits: 100},
	}
	if len(a) != len(want) {
		t.Fatalf("auto scaling actions = %v, want %v", a, want)
	}
	for i := range want {
		if a[i] != want[i] {
			t.Errorf("auto scaling action %d = %+v, want %+v", i, a[i], want[i])
		}
	}
	if !strings.Contains(a[3].String(), "ap-southeast-1: register WCU auto scaling on index byArtist (3 to 100 units") {
		t.Errorf("action text = %q", a[3])
	}

	// Each Region fine on its own is not enough: auto scaling in two Regions next to
	// on-demand in the third fails (the mix AWS's prerequisite refuses).
	south.WriteAutoScaling["byArtist"] = true
	if c := byName(t, Evaluate(facts(east, west, south), true), CheckCapacity); c.Passed {
		t.Errorf("on-demand next to auto scaling passed: %s", c.Detail)
	}
	if c := byName(t, Evaluate(facts(west, south), true), CheckCapacity); !c.Passed {
		t.Errorf("auto scaling everywhere failed: %s", c.Detail)
	}
	if c := byName(t, Evaluate(facts(east, member("eu-west-1")), true), CheckCapacity); !c.Passed {
		t.Errorf("on-demand everywhere failed: %s", c.Detail)
	}
}

func TestEvaluate_acknowledgement(t *testing.T) {
	checks := Evaluate(facts(member("us-east-1"), member("eu-west-1")), false)
	c := byName(t, checks, CheckReplicationAttributes)
	if c.Passed || c.Fixable {
		t.Fatalf("acknowledgement = %+v, want failed and unfixable", c)
	}
	for _, a := range ReplicationAttributes {
		if !strings.Contains(c.Detail, a) {
			t.Errorf("detail %q does not name %s", c.Detail, a)
		}
	}
}

func TestAutoScalingActionBounds(t *testing.T) {
	for _, tc := range []struct{ units, lo, hi int64 }{{0, 1, 100}, {50, 50, 500}, {10000, 10000, 40000}, {50000, 50000, 50000}} {
		a := autoScalingAction("us-east-1", "", tc.units)
		if a.MinUnits != tc.lo || a.MaxUnits != tc.hi {
			t.Errorf("units %d: got %d..%d, want %d..%d", tc.units, a.MinUnits, a.MaxUnits, tc.lo, tc.hi)
		}
	}
}

func TestProgress(t *testing.T) {
	members := []string{"eu-west-1", "us-east-1"}
	current := func(region, other string) RegionStatus {
		return RegionStatus{Region: region, TableStatus: "ACTIVE", Version: "2019.11.21", Replicas: map[string]string{other: "ACTIVE"}}
	}
	p := Progress{Members: members, Regions: []RegionStatus{
		current("eu-west-1", "us-east-1"),
		{Region: "us-east-1", TableStatus: "UPDATING", Version: "2017.11.29"},
	}}
	if p.Done() {
		t.Fatal("an UPDATING member is not done")
	}
	if want := "eu-west-1 ACTIVE (2019.11.21; replicas us-east-1 ACTIVE), us-east-1 UPDATING (2017.11.29)"; p.String() != want {
		t.Errorf("progress = %q", p)
	}
	if err := Verify(p); err == nil || !strings.Contains(err.Error(), "us-east-1 is UPDATING") {
		t.Errorf("Verify = %v", err)
	}
	// The in-between state of an upgrade: the version already reads 2019.11.21 and the
	// replicas ACTIVE, but the member is still UPDATING. Not done.
	// Mutation check: making RegionStatus.Done ignore TableStatus fails here.
	p.Regions[1] = current("us-east-1", "eu-west-1")
	p.Regions[1].TableStatus = "UPDATING"
	if p.Done() {
		t.Fatal("a member that reports 2019.11.21 but is still UPDATING is not done")
	}
	p.Regions[1] = current("us-east-1", "eu-west-1")
	if !p.Done() {
		t.Fatal("every member current and ACTIVE is done")
	}
	if err := Verify(p); err != nil {
		t.Error(err)
	}
	// A Region lost from the replica set is not a successful upgrade.
	p.Regions[1].Replicas = map[string]string{}
	if p.Done() || Verify(p) == nil {
		t.Error("a member that lost its replica is not done")
	}
}

// A member or replica in a status it does not leave by itself stops the wait; the
// statuses of a running upgrade do not.
func TestProgressStuck(t *testing.T) {
	members := []string{"eu-west-1", "us-east-1"}
	p := Progress{Members: members, Regions: []RegionStatus{
		{Region: "eu-west-1", TableStatus: "UPDATING", Version: "2017.11.29", Replicas: map[string]string{"us-east-1": "UPDATING"}},
		{Region: "us-east-1", TableStatus: "ACTIVE", Version: "2019.11.21", Replicas: map[string]string{"eu-west-1": "CREATING"}},
	}}
	if err := p.Stuck(); err != nil {
		t.Fatalf("a running upgrade is not stuck: %v", err)
	}
	p.Regions[0].TableStatus = "INACCESSIBLE_ENCRYPTION_CREDENTIALS"
	p.Regions[1].Replicas["eu-west-1"] = "REGION_DISABLED"
	p.Regions[1].Descriptions = map[string]string{"eu-west-1": "opted out"}
	err := p.Stuck()
	if err == nil {
		t.Fatal("an inaccessible member is stuck")
	}
	for _, want := range []string{"eu-west-1 reports INACCESSIBLE_ENCRYPTION_CREDENTIALS (the table's KMS key",
		"us-east-1 lists replica eu-west-1 as REGION_DISABLED: opted out (the Region is disabled"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestInstructions(t *testing.T) {
	text := Instructions(facts(member("us-east-1"), member("eu-west-1")))
	for _, want := range []string{
		"dynamodb:UpdateGlobalTableVersion in every replica Region (us-east-1, eu-west-1)",
		`"arn:aws:dynamodb::111122223333:global-table/Music"`,
		`"arn:aws:dynamodb:eu-west-1:111122223333:table/Music"`,
		"Choose Update version",
		"Global tables tab",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}
}

// The console link and the policy follow the table's partition.
func TestInstructionsPartitions(t *testing.T) {
	for _, tc := range []struct{ partition, region, url string }{
		{"aws", "us-east-1", "https://us-east-1.console.aws.amazon.com/dynamodbv2/home?region=us-east-1#tables"},
		{"aws-cn", "cn-north-1", "https://console.amazonaws.cn/dynamodbv2/home?region=cn-north-1#tables"},
		{"aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com/dynamodbv2/home?region=us-gov-west-1#tables"},
	} {
		m := member(tc.region)
		m.ARN = "arn:" + tc.partition + ":dynamodb:" + tc.region + ":111122223333:table/Music"
		text := Instructions(facts(m))
		if !strings.Contains(text, tc.url) {
			t.Errorf("%s: instructions lack %s:\n%s", tc.partition, tc.url, text)
		}
		if want := `"arn:` + tc.partition + `:dynamodb::111122223333:global-table/Music"`; !strings.Contains(text, want) {
			t.Errorf("%s: policy lacks %s", tc.partition, want)
		}
	}
}

func TestWaitOptionsDefaults(t *testing.T) {
	if DefaultPollMinDelay >= DefaultPollMaxDelay || DefaultPollMaxDelay > time.Minute {
		t.Error("poll delays must grow to a cap of at most a minute")
	}
}
