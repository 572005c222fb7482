package upgrade

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Names of the prerequisite checks, in the order the DynamoDB guide lists them.
const (
	CheckTTL                   = "ttl"
	CheckGSI                   = "gsi"
	CheckEncryption            = "encryption"
	CheckCapacity              = "capacity"
	CheckReplicationAttributes = "replication_attributes"
)

// CheckNames lists every check name, in report order.
var CheckNames = []string{CheckTTL, CheckGSI, CheckEncryption, CheckCapacity, CheckReplicationAttributes}

// ReplicationAttributes are the attributes legacy global tables write on items and the
// current version no longer writes.
var ReplicationAttributes = []string{"aws:rep:deleting", "aws:rep:updateregion", "aws:rep:updatetime"}

// Check is the outcome of one prerequisite.
type Check struct {
	Name   string
	Title  string // "TTL", "GSI definitions", ...
	Passed bool
	// Detail says what every Region reported, e.g. "enabled on attribute expiresAt in
	// us-east-1; disabled in eu-west-1".
	Detail string
	// Fixable is true when a failed check can be fixed by remediation.
	Fixable bool
	// Guidance says what to do about a failed check.
	Guidance string
}

func (c Check) String() string { return c.Title + ": " + c.Detail }

// Evaluate runs every prerequisite check on a legacy global table's facts.
// acknowledged is the caller's confirmation that no application depends on the
// aws:rep:* attributes.
func Evaluate(f *Facts, acknowledged bool) []Check {
	return []Check{
		checkTTL(f),
		checkGSI(f),
		checkEncryption(f),
		checkCapacity(f),
		checkReplicationAttributes(acknowledged),
	}
}

// Failed returns the checks that did not pass.
func Failed(checks []Check) []Check {
	var out []Check
	for _, c := range checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Unfixable returns the failed checks that remediation cannot fix.
func Unfixable(checks []Check) []Check {
	var out []Check
	for _, c := range Failed(checks) {
		if !c.Fixable {
			out = append(out, c)
		}
	}
	return out
}

func checkTTL(f *Facts) Check {
	c := Check{Name: CheckTTL, Title: "TTL"}
	c.Detail, c.Passed = byRegion(f.Regions, func(r RegionFacts) string { return r.TTL.String() })
	if c.Passed {
		return c
	}
	attrs := map[string]bool{}
	for _, r := range f.Regions {
		if r.TTL.Enabled() {
			attrs[r.TTL.Attribute] = true
		}
	}
	if len(attrs) == 1 {
		c.Fixable = true
		c.Guidance = "Remediation enables TTL on the same attribute in the Regions where it is disabled (that Region " +
			"then deletes its expired items, as the others already do)."
	} else {
		c.Guidance = "TTL is enabled on different attributes: choose one and set it in every Region (UpdateTimeToLive, " +
			"or ttl in aws_dynamodb_table), then run again. Remediation does not pick an attribute for you."
	}
	return c
}

func checkGSI(f *Facts) Check {
	c := Check{Name: CheckGSI, Title: "GSI definitions", Fixable: false}
	names := map[string]bool{}
	for _, r := range f.Regions {
		for _, g := range r.GSIs {
			names[g.Name] = true
		}
	}
	if len(names) == 0 {
		c.Passed = true
		c.Detail = "no global secondary indexes in any Region (" + strings.Join(f.RegionNames(), ", ") + ")"
		return c
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var same, differ []string
	for _, name := range sorted {
		detail, ok := byRegion(f.Regions, func(r RegionFacts) string {
			for _, g := range r.GSIs {
				if g.Name == name {
					return g.Definition()
				}
			}
			return "missing"
		})
		if ok {
			same = append(same, "index "+name+": "+detail)
		} else {
			differ = append(differ, "index "+name+": "+detail)
		}
	}
	c.Passed = len(differ) == 0
	if c.Passed {
		c.Detail = strings.Join(same, ". ")
		return c
	}
	c.Detail = strings.Join(differ, ". ")
	c.Guidance = "Make the indexes identical in every Region (same names, keys and projections): create or delete " +
		"indexes in the Regions that differ (UpdateTable GlobalSecondaryIndexUpdates in that Region, or the " +
		"aws_dynamodb_table of that Region), wait until they are ACTIVE, then run again. Index changes are never " +
		"made for you: they rebuild data and affect queries."
	return c
}

func checkEncryption(f *Facts) Check {
	c := Check{Name: CheckEncryption, Title: "Encryption at rest"}
	// KMS keys are regional, so the kind of key is what must match (owned by DynamoDB,
	// the AWS managed key, a customer managed key); the keys are listed.
	_, c.Passed = byRegion(f.Regions, func(r RegionFacts) string { return r.Encryption.Kind() })
	c.Detail, _ = byRegion(f.Regions, func(r RegionFacts) string { return r.Encryption.String() })
	if !c.Passed {
		c.Guidance = "Use the same kind of encryption at rest in every Region (the key owned by DynamoDB, the AWS " +
			"managed key aws/dynamodb, or a customer managed KMS key in each Region): UpdateTable SSESpecification in the Regions that differ, or server_side_encryption " +
			"in their aws_dynamodb_table, then run again. Encryption is never changed for you."
	}
	return c
}

// Write capacity modes of a Region, as the capacity check names them.
const (
	capacityOnDemand    = "on-demand"
	capacityAutoScaling = "provisioned with WCU auto scaling"
)

// capacityState classifies a Region's write capacity for the capacity check:
// on-demand, provisioned with WCU auto scaling on the table and every GSI, or
// provisioned without it (naming where it is missing).
func capacityState(r RegionFacts) string {
	if r.BillingMode == string(types.BillingModePayPerRequest) {
		return capacityOnDemand
	}
	var missing []string
	if !r.WriteAutoScaling[""] {
		missing = append(missing, "the table")
	}
	for _, g := range r.GSIs {
		if !r.WriteAutoScaling[g.Name] {
			missing = append(missing, "index "+g.Name)
		}
	}
	if len(missing) == 0 {
		return capacityAutoScaling
	}
	return "provisioned without WCU auto scaling on " + joinAnd(missing)
}

// checkCapacity is the guide's "DynamoDB auto scaling is enabled for WCUs for all
// replicas, or on-demand capacity mode is enabled for all replicas": one mode for the
// whole table, not each Region fine on its own.
func checkCapacity(f *Facts) Check {
	c := Check{Name: CheckCapacity, Title: "Capacity"}
	var state string
	c.Detail, c.Passed = byRegion(f.Regions, func(r RegionFacts) string {
		state = capacityState(r)
		return state
	})
	c.Passed = c.Passed && (state == capacityOnDemand || state == capacityAutoScaling)
	if !c.Passed {
		c.Fixable = true
		c.Guidance = "AWS requires one capacity mode for the whole table: WCU auto scaling on every replica (the table " +
			"and every GSI) or on-demand on every replica. With remediation_capacity_mode = \"PAY_PER_REQUEST\" " +
			"(recommended during the upgrade, since auto scaling does not adjust capacity while it runs) remediation " +
			"switches every provisioned Region to on-demand; with \"AUTOSCALING\" it switches on-demand Regions to " +
			"provisioned capacity and registers WCU auto scaling wherever it is missing."
	}
	return c
}

func checkReplicationAttributes(acknowledged bool) Check {
	c := Check{Name: CheckReplicationAttributes, Title: "Replication attributes", Passed: acknowledged}
	attrs := strings.Join(ReplicationAttributes, ", ")
	if acknowledged {
		c.Detail = "acknowledged: no application depends on " + attrs + ", which the current version no longer writes"
		return c
	}
	c.Detail = "not acknowledged: after the upgrade, new writes no longer carry " + attrs
	c.Guidance = "Confirm that no application reads or filters on " + attrs + " (acknowledge_replication_attributes_removal " +
		"= true), then run again."
	return c
}

// byRegion renders one value per Region, grouping Regions with equal values in the
// order of the first Region of each group: "enabled on attribute expiresAt in
// us-east-1; disabled in eu-west-1". same is true when every Region has one value.
func byRegion(regions []RegionFacts, value func(RegionFacts) string) (detail string, same bool) {
	var order []string
	groups := map[string][]string{}
	for _, r := range regions {
		v := value(r)
		if _, ok := groups[v]; !ok {
			order = append(order, v)
		}
		groups[v] = append(groups[v], r.Region)
	}
	if len(order) == 1 {
		return fmt.Sprintf("%s in every Region (%s)", order[0], strings.Join(groups[order[0]], ", ")), true
	}
	parts := make([]string, 0, len(order))
	for _, v := range order {
		parts = append(parts, v+" in "+joinAnd(groups[v]))
	}
	return strings.Join(parts, "; "), len(order) <= 1
}

// joinAnd renders "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
