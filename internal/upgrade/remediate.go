package upgrade

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// CapacityMode is how remediation fixes a failed capacity check.
type CapacityMode string

const (
	// CapacityOnDemand switches provisioned replicas to on-demand (PAY_PER_REQUEST).
	CapacityOnDemand CapacityMode = "PAY_PER_REQUEST"
	// CapacityAutoScaling registers WCU auto scaling where it is missing.
	CapacityAutoScaling CapacityMode = "AUTOSCALING"
)

// CapacityModes lists the capacity remediation choices.
var CapacityModes = []string{string(CapacityOnDemand), string(CapacityAutoScaling)}

// Auto scaling registered by remediation: the minimum is the current provisioned WCU,
// so capacity never drops; the maximum leaves room to grow.
const (
	autoScalingMaxFactor       = 10
	autoScalingMinMaximum      = 100
	autoScalingMaxUnits        = 40000
	autoScalingTargetValue     = 70.0
	autoScalingPolicyPrefix    = "DynamoDBWriteCapacityUtilization:"
	remediationPollMinDelay    = 500 * time.Millisecond
	remediationPollMaxDelay    = 10 * time.Second
	remediationActiveTimeLimit = 30 * time.Minute
)

// ActionKind names a remediation step.
type ActionKind string

// Remediation steps.
const (
	ActionOnDemand    ActionKind = "on_demand"
	ActionProvisioned ActionKind = "provisioned"
	ActionAutoScaling ActionKind = "write_auto_scaling"
	ActionEnableTTL   ActionKind = "enable_ttl"
)

// Action is one remediation step in one Region.
type Action struct {
	Kind      ActionKind
	Region    string
	Index     string // ActionAutoScaling on a GSI; "" for the table
	Attribute string // ActionEnableTTL
	MinUnits  int64  // ActionAutoScaling
	MaxUnits  int64  // ActionAutoScaling
	// ReadUnits and WriteUnits are the provisioned capacity of ActionProvisioned, set on
	// the table and on every GSI.
	ReadUnits  int64
	WriteUnits int64
}

func (a Action) String() string {
	switch a.Kind {
	case ActionOnDemand:
		return fmt.Sprintf("%s: switch the table to on-demand capacity (PAY_PER_REQUEST)", a.Region)
	case ActionProvisioned:
		return fmt.Sprintf("%s: switch the table and its indexes to provisioned capacity (%d RCU, %d WCU each)", a.Region, a.ReadUnits, a.WriteUnits)
	case ActionAutoScaling:
		what := "the table"
		if a.Index != "" {
			what = "index " + a.Index
		}
		return fmt.Sprintf("%s: register WCU auto scaling on %s (%d to %d units, target %.0f%% utilization)",
			a.Region, what, a.MinUnits, a.MaxUnits, autoScalingTargetValue)
	case ActionEnableTTL:
		return fmt.Sprintf("%s: enable TTL on attribute %s", a.Region, a.Attribute)
	}
	return string(a.Kind)
}

// PlanRemediation lists the steps that fix the failed fixable checks. It returns nil
// when nothing needs fixing.
func PlanRemediation(f *Facts, checks []Check, mode CapacityMode) []Action {
	failed := map[string]bool{}
	for _, c := range Failed(checks) {
		if c.Fixable {
			failed[c.Name] = true
		}
	}
	var actions []Action
	if failed[CheckCapacity] {
		actions = append(actions, capacityActions(f, mode)...)
	}
	if failed[CheckTTL] {
		var attr string
		for _, r := range f.Regions {
			if r.TTL.Enabled() {
				attr = r.TTL.Attribute
			}
		}
		for _, r := range f.Regions {
			if !r.TTL.Enabled() {
				actions = append(actions, Action{Kind: ActionEnableTTL, Region: r.Region, Attribute: attr})
			}
		}
	}
	return actions
}

// capacityActions bring every Region to one capacity mode: on-demand everywhere, or
// provisioned with WCU auto scaling on every table and GSI everywhere.
func capacityActions(f *Facts, mode CapacityMode) []Action {
	var actions []Action
	if mode != CapacityAutoScaling {
		for _, r := range f.Regions {
			if r.BillingMode != string(types.BillingModePayPerRequest) {
				actions = append(actions, Action{Kind: ActionOnDemand, Region: r.Region})
			}
		}
		return actions
	}
	// On-demand Regions take the capacity of the provisioned Region that writes most.
	var ref *RegionFacts
	for i, r := range f.Regions {
		if r.BillingMode != string(types.BillingModePayPerRequest) && (ref == nil || r.WriteUnits > ref.WriteUnits) {
			ref = &f.Regions[i]
		}
	}
	for _, r := range f.Regions {
		if r.BillingMode == string(types.BillingModePayPerRequest) {
			if ref == nil {
				continue // on-demand everywhere passes the check
			}
			read, write := max(ref.ReadUnits, 1), max(ref.WriteUnits, 1)
			actions = append(actions, Action{Kind: ActionProvisioned, Region: r.Region, ReadUnits: read, WriteUnits: write},
				autoScalingAction(r.Region, "", write))
			for _, g := range r.GSIs {
				actions = append(actions, autoScalingAction(r.Region, g.Name, write))
			}
			continue
		}
		if !r.WriteAutoScaling[""] {
			actions = append(actions, autoScalingAction(r.Region, "", r.WriteUnits))
		}
		for _, g := range r.GSIs {
			if !r.WriteAutoScaling[g.Name] {
				actions = append(actions, autoScalingAction(r.Region, g.Name, g.WriteUnits))
			}
		}
	}
	return actions
}

func autoScalingAction(region, index string, units int64) Action {
	lo := max(units, 1)
	hi := min(max(lo*autoScalingMaxFactor, autoScalingMinMaximum), autoScalingMaxUnits)
	return Action{Kind: ActionAutoScaling, Region: region, Index: index, MinUnits: lo, MaxUnits: max(hi, lo)}
}

// Remediate performs the steps in order. A capacity switch waits until the table is
// ACTIVE again before the next step, since DynamoDB refuses changes while it updates.
func Remediate(ctx context.Context, c Clients, tableName string, actions []Action) error {
	for _, a := range actions {
		if err := remediate(ctx, c, tableName, a); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	return nil
}

func remediate(ctx context.Context, c Clients, tableName string, a Action) error {
	client := c.DynamoDB(a.Region)
	switch a.Kind {
	case ActionOnDemand:
		if err := waitTableActive(ctx, client, tableName); err != nil {
			return err
		}
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModePayPerRequest})
		if err != nil {
			return err
		}
		return waitTableActive(ctx, client, tableName)
	case ActionProvisioned:
		if err := waitTableActive(ctx, client, tableName); err != nil {
			return err
		}
		table, err := ddb.FindTableByName(ctx, client, tableName)
		if err != nil {
			return err
		}
		units := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(a.ReadUnits), WriteCapacityUnits: aws.Int64(a.WriteUnits)}
		in := &dynamodb.UpdateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModeProvisioned, ProvisionedThroughput: units}
		for _, g := range table.GlobalSecondaryIndexes {
			in.GlobalSecondaryIndexUpdates = append(in.GlobalSecondaryIndexUpdates, types.GlobalSecondaryIndexUpdate{
				Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: g.IndexName, ProvisionedThroughput: units}})
		}
		if _, err := client.UpdateTable(ctx, in); err != nil {
			return err
		}
		return waitTableActive(ctx, client, tableName)
	case ActionAutoScaling:
		as := c.AutoScaling(a.Region)
		id := tableResourceID(tableName, a.Index)
		dim := aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits
		metric := aastypes.MetricTypeDynamoDBWriteCapacityUtilization
		if a.Index != "" {
			dim = aastypes.ScalableDimensionDynamoDBIndexWriteCapacityUnits
		}
		if _, err := as.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace:  aastypes.ServiceNamespaceDynamodb,
			ResourceId:        aws.String(id),
			ScalableDimension: dim,
			MinCapacity:       aws.Int32(int32(a.MinUnits)),
			MaxCapacity:       aws.Int32(int32(a.MaxUnits)),
		}); err != nil {
			return err
		}
		_, err := as.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
			ServiceNamespace:  aastypes.ServiceNamespaceDynamodb,
			ResourceId:        aws.String(id),
			ScalableDimension: dim,
			PolicyName:        aws.String(autoScalingPolicyPrefix + id),
			PolicyType:        aastypes.PolicyTypeTargetTrackingScaling,
			TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
				TargetValue:                   aws.Float64(autoScalingTargetValue),
				PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: metric},
			},
		})
		return err
	case ActionEnableTTL:
		_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(tableName),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(a.Attribute)},
		})
		return err
	}
	return fmt.Errorf("unknown remediation %q", a.Kind)
}

// waitTableActive polls DescribeTable until the table is ACTIVE.
func waitTableActive(ctx context.Context, client *dynamodb.Client, tableName string) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, remediationActiveTimeLimit)
	defer cancel()
	delay := remediationPollMinDelay
	for {
		t, err := ddb.FindTableByName(ctx, client, tableName)
		if err != nil {
			return err
		}
		if t.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			if parent.Err() == nil {
				return fmt.Errorf("table %s in %s still %s after %s", tableName, client.Options().Region, t.TableStatus, remediationActiveTimeLimit)
			}
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, remediationPollMaxDelay)
	}
}

// SideEffects says what a remediation step costs or loses beyond fixing its check,
// from the facts gathered before it.
// restore tells whether the configuration restores the capacity mode after the upgrade.
func SideEffects(f *Facts, a Action, restore bool) string {
	r, _ := f.Region(a.Region)
	switch a.Kind {
	case ActionOnDemand:
		var parts []string
		units := fmt.Sprintf("%d RCU and %d WCU on the table", r.ReadUnits, r.WriteUnits)
		if len(r.GSIs) > 0 {
			units += " (and the indexes' own)"
		}
		parts = append(parts, "the bill changes from provisioned capacity ("+units+") to on-demand, paid per request")
		if len(r.ReadAutoScaled) > 0 || len(r.WriteTargets) > 0 {
			parts = append(parts, "the read and write auto scaling registered in "+a.Region+" no longer applies (on-demand tables do not scale)")
		}
		if restore {
			parts = append(parts, "after the upgrade it is switched back to the provisioned capacity recorded before the "+
				"switch (restore_capacity_mode), without auto scaling")
		} else {
			parts = append(parts, "the table stays on-demand after the upgrade unless restore_capacity_mode = true (AWS "+
				"limits how often a table may switch capacity mode in 24 hours)")
		}
		return strings.Join(parts, "; ")
	case ActionProvisioned:
		return fmt.Sprintf("the bill changes from on-demand to %d RCU and %d WCU provisioned on the table and on every index, "+
			"paid for whether used or not; requests above that capacity are throttled until auto scaling raises it", a.ReadUnits, a.WriteUnits)
	case ActionAutoScaling:
		key := a.Index
		if t, ok := r.WriteTargets[key]; ok {
			return fmt.Sprintf("re-registers the existing WCU scalable target, changing its range from %d-%d to %d-%d units; "+
				"auto scaling then changes the provisioned WCU within that range (and creates CloudWatch alarms)", t.Min, t.Max, a.MinUnits, a.MaxUnits)
		}
		return fmt.Sprintf("auto scaling then changes the provisioned WCU between %d and %d units, and the bill with it "+
			"(it creates CloudWatch alarms and, if missing, the Application Auto Scaling service-linked role)", a.MinUnits, a.MaxUnits)
	case ActionEnableTTL:
		return fmt.Sprintf("%s starts deleting the items whose %s attribute is in the past, as the other Regions already do "+
			"(deletes are not replicated by the legacy version)", a.Region, a.Attribute)
	}
	return ""
}

// DescribeRemediation renders the steps for a plan: one line per step, each followed
// by its side effects.
func DescribeRemediation(f *Facts, actions []Action, restore bool) string {
	lines := make([]string, 0, 2*len(actions))
	for _, a := range actions {
		lines = append(lines, "- "+a.String())
		if s := SideEffects(f, a, restore); s != "" {
			lines = append(lines, "  Side effects: "+s+".")
		}
	}
	return strings.Join(lines, "\n")
}
