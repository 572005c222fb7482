package provider

import (
	"strings"
	"testing"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/upgrade"
)

// legacyFacts is a provisioned legacy table in two Regions with an index; us-east-1
// has TTL and read auto scaling, eu-west-1 a WCU scalable target without a policy.
func legacyFacts() *upgrade.Facts {
	region := func(name string) upgrade.RegionFacts {
		return upgrade.RegionFacts{
			Region: name, TableStatus: "ACTIVE", BillingMode: "PROVISIONED", ReadUnits: 10, WriteUnits: 5,
			TTL:              upgrade.TTL{Status: "DISABLED"},
			Encryption:       upgrade.Encryption{Type: "DEFAULT"},
			GSIs:             []upgrade.GSI{{Name: "byOwner", Keys: []string{"owner (HASH, S)"}, Projection: "ALL", WriteUnits: 5}},
			WriteAutoScaling: map[string]bool{}, WriteTargets: map[string]upgrade.UnitRange{},
		}
	}
	east, west := region("us-east-1"), region("eu-west-1")
	east.TTL = upgrade.TTL{Status: "ENABLED", Attribute: "expiresAt"}
	east.ReadAutoScaled = []string{""}
	west.WriteTargets[""] = upgrade.UnitRange{Min: 2, Max: 20}
	return &upgrade.Facts{TableName: "Music", Legacy: true, Regions: []upgrade.RegionFacts{west, east}}
}

// The plan says what each remediation step costs and loses, and does not ask for
// remediate = true when it is already set.
func TestRemediationWarning(t *testing.T) {
	f := legacyFacts()
	checks := upgrade.Evaluate(f, true)

	onDemand := remediationWarning(f, checks, upgrade.PlanRemediation(f, checks, upgrade.CapacityOnDemand), false)
	for _, want := range []string{
		"- eu-west-1: switch the table to on-demand capacity (PAY_PER_REQUEST)\n  Side effects: the bill changes from provisioned capacity (10 RCU and 5 WCU on the table (and the indexes' own)) to on-demand",
		"- us-east-1: switch the table to on-demand capacity (PAY_PER_REQUEST)\n  Side effects: the bill changes",
		"the read and write auto scaling registered in us-east-1 no longer applies",
		"the table stays on-demand after the upgrade unless restore_capacity_mode = true",
		"- eu-west-1: enable TTL on attribute expiresAt\n  Side effects: eu-west-1 starts deleting the items whose expiresAt attribute is in the past",
	} {
		if !strings.Contains(onDemand, want) {
			t.Errorf("on-demand plan text lacks %q:\n%s", want, onDemand)
		}
	}
	autoScaling := remediationWarning(f, checks, upgrade.PlanRemediation(f, checks, upgrade.CapacityAutoScaling), false)
	for _, want := range []string{
		"- eu-west-1: register WCU auto scaling on the table (5 to 100 units, target 70% utilization)\n  Side effects: re-registers the existing WCU scalable target, changing its range from 2-20 to 5-100 units",
		"- us-east-1: register WCU auto scaling on index byOwner (5 to 100 units, target 70% utilization)\n  Side effects: auto scaling then changes the provisioned WCU between 5 and 100 units",
	} {
		if !strings.Contains(autoScaling, want) {
			t.Errorf("auto scaling plan text lacks %q:\n%s", want, autoScaling)
		}
	}
	restored := remediationWarning(f, checks, upgrade.PlanRemediation(f, checks, upgrade.CapacityOnDemand), true)
	if want := "after the upgrade it is switched back to the provisioned capacity recorded before the switch"; !strings.Contains(restored, want) {
		t.Errorf("plan text with restore_capacity_mode lacks %q:\n%s", want, restored)
	}
	for _, text := range []string{onDemand, autoScaling} {
		if strings.Contains(text, "Set remediate = true") {
			t.Errorf("the plan asks for remediate = true, which is already set:\n%s", text)
		}
	}
}
