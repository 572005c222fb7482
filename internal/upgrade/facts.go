// Package upgrade checks, prepares and follows the upgrade of a 2017.11.29 (legacy)
// global table to version 2019.11.21 (current).
//
// AWS performs the upgrade itself only through the console's "Update version" action;
// no public API does it. This package therefore does everything around it: Gather
// collects what every member Region reports, Evaluate turns that into the prerequisite
// checks of the DynamoDB guide, PlanRemediation and Remediate fix the safe ones
// (capacity, TTL), Instructions tells the operator what to do, and Wait follows the
// upgrade until every member reports 2019.11.21 and ACTIVE.
package upgrade

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// Clients hands out per-Region SDK clients; *awsclient.Client is one.
type Clients interface {
	DynamoDB(region string) *dynamodb.Client
	AutoScaling(region string) *applicationautoscaling.Client
	KMS(region string) *kms.Client
}

// Facts is what the members of a global table report, the input of every check.
type Facts struct {
	TableName string
	// Legacy is true when DescribeGlobalTable knows the table (version 2017.11.29).
	Legacy bool
	// Regions holds one entry per member Region, sorted by Region.
	Regions []RegionFacts
}

// RegionFacts is one member Region's view of its table.
type RegionFacts struct {
	Region      string
	ARN         string
	TableStatus string
	// Version is the GlobalTableVersion DescribeTable reports (empty when it reports none).
	Version string
	// Replicas are the other Regions DescribeTable lists in Replicas[], with their status.
	Replicas    map[string]string
	BillingMode string // PAY_PER_REQUEST or PROVISIONED
	ReadUnits   int64  // provisioned table RCU
	WriteUnits  int64  // provisioned table WCU
	TTL         TTL
	GSIs        []GSI // sorted by name
	Encryption  Encryption
	// WriteAutoScaling tells, for the table ("") and each GSI (its name), whether WCU
	// auto scaling (a scalable target with a scaling policy) is in place.
	WriteAutoScaling map[string]bool
	// WriteTargets holds the registered WCU scalable targets (with or without a policy)
	// of the table ("") and each GSI, with their range.
	WriteTargets map[string]UnitRange
	// ReadAutoScaled lists the table ("") and GSIs with an RCU scalable target.
	ReadAutoScaled []string
}

// UnitRange is a scalable target's minimum and maximum capacity.
type UnitRange struct{ Min, Max int64 }

// TTL is a table's Time to Live setting.
type TTL struct {
	Status    string // ENABLED, ENABLING, DISABLED, DISABLING
	Attribute string
}

// Enabled reports whether TTL is on or turning on.
func (t TTL) Enabled() bool {
	return t.Status == string(types.TimeToLiveStatusEnabled) || t.Status == string(types.TimeToLiveStatusEnabling)
}

func (t TTL) String() string {
	if t.Enabled() {
		return "enabled on attribute " + t.Attribute
	}
	return "disabled"
}

// GSI is the definition of a global secondary index, as the prerequisite compares it.
type GSI struct {
	Name             string
	Keys             []string // "customerId (HASH, S)", partition key first
	Projection       string   // ALL, KEYS_ONLY, INCLUDE
	NonKeyAttributes []string // sorted
	ReadUnits        int64
	WriteUnits       int64
}

// Definition renders what must match across Regions.
func (g GSI) Definition() string {
	s := "keys " + strings.Join(g.Keys, ", ") + ", projection " + g.Projection
	if len(g.NonKeyAttributes) > 0 {
		s += " [" + strings.Join(g.NonKeyAttributes, ", ") + "]"
	}
	return s
}

// Encryption is a table's encryption at rest.
type Encryption struct {
	// Type is DEFAULT (a key owned by DynamoDB) or KMS.
	Type   string
	KeyARN string
	// Manager is, for a KMS key, AWS (the AWS managed key aws/dynamodb) or CUSTOMER, as
	// KMS DescribeKey reports it; empty when it could not be read.
	Manager string
}

// Kind is what the encryption check compares across Regions: the kind of key (KMS keys
// are regional, so their ARNs always differ).
func (e Encryption) Kind() string { return e.Type + "/" + e.Manager }

func (e Encryption) String() string {
	if e.Type != "KMS" {
		return "owned by DynamoDB (default)"
	}
	kind := "KMS key"
	switch e.Manager {
	case "AWS":
		kind = "AWS managed KMS key (aws/dynamodb)"
	case "CUSTOMER":
		kind = "customer managed KMS key"
	}
	if e.KeyARN == "" {
		return kind
	}
	return kind + " " + e.KeyARN
}

// Region returns the facts of one member Region.
func (f *Facts) Region(r string) (RegionFacts, bool) {
	for _, rf := range f.Regions {
		if rf.Region == r {
			return rf, true
		}
	}
	return RegionFacts{}, false
}

// RegionNames lists the member Regions, sorted.
func (f *Facts) RegionNames() []string {
	out := make([]string, 0, len(f.Regions))
	for _, r := range f.Regions {
		out = append(out, r.Region)
	}
	return out
}

// NotGlobalError says the table is neither a legacy global table nor a current one
// with replicas.
type NotGlobalError struct {
	TableName, Region string
	// TableStatus and Version are what DescribeTable reported.
	TableStatus, Version string
}

// UpgradeUnderWay reports whether the table looks like a member in the middle of an
// upgrade: DescribeGlobalTable no longer knows it, but DescribeTable does not list its
// replicas yet while it is UPDATING or already reports 2019.11.21.
func (e *NotGlobalError) UpgradeUnderWay() bool {
	return e.TableStatus == string(types.TableStatusUpdating) || e.Version == ddb.VersionCurrent
}

func (e *NotGlobalError) Error() string {
	return fmt.Sprintf("table %s in %s is not a global table: DescribeGlobalTable does not know it and DescribeTable "+
		"lists no replicas", e.TableName, e.Region)
}

// ReadError is a failure to read one member Region: the Region, the IAM action of the
// call that failed, and AWS's answer.
type ReadError struct {
	Region string
	// Action is the IAM action of the failed call, e.g. dynamodb:DescribeTimeToLive.
	Action string
	Err    error
}

func (e *ReadError) Error() string {
	var ae smithy.APIError
	if errors.As(e.Err, &ae) && isAccessDenied(ae.ErrorCode()) {
		return fmt.Sprintf("reading member Region %s was refused: the identity Terraform uses needs the permission %s "+
			"in %s (AWS answered %s: %s)", e.Region, e.Action, e.Region, ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Sprintf("reading member Region %s failed (%s): %v", e.Region, e.Action, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

func isAccessDenied(code string) bool {
	switch code {
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException":
		return true
	}
	return false
}

// readError wraps a failed call in region with its IAM action (taken from the SDK's
// operation error, e.g. dynamodb:DescribeTable).
func readError(region string, err error) error {
	if err == nil {
		return nil
	}
	var re *ReadError
	if errors.As(err, &re) {
		return err
	}
	action := "the read"
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		service := strings.ToLower(strings.ReplaceAll(oe.Service(), " ", "-"))
		action = service + ":" + oe.Operation()
	}
	return &ReadError{Region: region, Action: action, Err: err}
}

// updatingOnlyLimit bounds how long GatherDuringUpgrade waits for a table that is
// UPDATING without reporting a version.
const updatingOnlyLimit = 10 * time.Minute

// GatherDuringUpgrade is Gather that waits out the in-between states of an upgrade
// (see NotGlobalError.UpgradeUnderWay), polling until the members are listed or ctx ends.
//
// A table that is only UPDATING, with no version, may also be a plain table being
// changed: that case is waited out for at most updatingOnlyLimit.
func GatherDuringUpgrade(ctx context.Context, c Clients, tableName, region string, delay time.Duration) (*Facts, error) {
	start := time.Now()
	for {
		f, err := Gather(ctx, c, tableName, region)
		var ng *NotGlobalError
		if !errors.As(err, &ng) || !ng.UpgradeUnderWay() {
			return f, err
		}
		if ng.Version != ddb.VersionCurrent && time.Since(start) > updatingOnlyLimit {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
	}
}

// Gather describes the global table from region: its members (DescribeGlobalTable for
// a legacy table, DescribeTable's Replicas[] otherwise) and, in every member Region,
// the table, its TTL and its write capacity auto scaling.
func Gather(ctx context.Context, c Clients, tableName, region string) (*Facts, error) {
	client := c.DynamoDB(region)
	f := &Facts{TableName: tableName}
	var regions []string
	legacy, err := ddb.FindLegacyGlobalTable(ctx, client, tableName)
	switch {
	case err == nil:
		f.Legacy = true
		for _, r := range legacy.ReplicationGroup {
			regions = append(regions, aws.ToString(r.RegionName))
		}
	case ddb.IsNotFound(err):
		table, err := ddb.FindTableByName(ctx, client, tableName)
		if ddb.IsNotFound(err) {
			// The only failure that is not a ReadError: the table does not exist (yet).
			return nil, err
		}
		if err != nil {
			return nil, readError(region, err)
		}
		if len(table.Replicas) == 0 {
			return nil, &NotGlobalError{TableName: tableName, Region: region, TableStatus: string(table.TableStatus), Version: aws.ToString(table.GlobalTableVersion)}
		}
		regions = append(regions, region)
		for _, r := range table.Replicas {
			regions = append(regions, aws.ToString(r.RegionName))
		}
	default:
		return nil, readError(region, fmt.Errorf("describing global table %s in %s: %w", tableName, region, err))
	}
	sort.Strings(regions)

	// WCU auto scaling is read from Application Auto Scaling in every Region (a scalable
	// target with a scaling policy), the one source: DescribeGlobalTableSettings reports
	// the same targets, and a second source would only hide a reader that fails.
	for _, r := range regions {
		rf, err := gatherRegion(ctx, c, tableName, r)
		if err != nil {
			return nil, err
		}
		f.Regions = append(f.Regions, rf)
	}
	return f, nil
}

func gatherRegion(ctx context.Context, c Clients, tableName, region string) (RegionFacts, error) {
	client := c.DynamoDB(region)
	table, err := ddb.FindTableByName(ctx, client, tableName)
	if err != nil {
		return RegionFacts{}, readError(region, fmt.Errorf("describing member %s of global table %s: %w", region, tableName, err))
	}
	rf := RegionFacts{
		Region:           region,
		ARN:              aws.ToString(table.TableArn),
		TableStatus:      string(table.TableStatus),
		Version:          aws.ToString(table.GlobalTableVersion),
		Replicas:         map[string]string{},
		BillingMode:      string(types.BillingModeProvisioned),
		Encryption:       Encryption{Type: "DEFAULT"},
		WriteAutoScaling: map[string]bool{},
		WriteTargets:     map[string]UnitRange{},
	}
	for _, r := range table.Replicas {
		rf.Replicas[aws.ToString(r.RegionName)] = string(r.ReplicaStatus)
	}
	if table.BillingModeSummary != nil && table.BillingModeSummary.BillingMode != "" {
		rf.BillingMode = string(table.BillingModeSummary.BillingMode)
	}
	if table.ProvisionedThroughput != nil {
		rf.ReadUnits = aws.ToInt64(table.ProvisionedThroughput.ReadCapacityUnits)
		rf.WriteUnits = aws.ToInt64(table.ProvisionedThroughput.WriteCapacityUnits)
	}
	if sse := table.SSEDescription; sse != nil && (sse.Status == types.SSEStatusEnabled || sse.Status == types.SSEStatusEnabling || sse.Status == types.SSEStatusUpdating) {
		rf.Encryption = Encryption{Type: string(sse.SSEType), KeyARN: aws.ToString(sse.KMSMasterKeyArn)}
		if rf.Encryption.Type == "KMS" && rf.Encryption.KeyARN != "" {
			// Without kms:DescribeKey the kind stays unknown and only the type is compared.
			if out, err := c.KMS(region).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: sse.KMSMasterKeyArn}); err == nil && out.KeyMetadata != nil {
				rf.Encryption.Manager = string(out.KeyMetadata.KeyManager)
			}
		}
	}
	attrTypes := map[string]string{}
	for _, a := range table.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	for _, g := range table.GlobalSecondaryIndexes {
		gsi := GSI{Name: aws.ToString(g.IndexName)}
		for _, k := range ddb.OrderedKeySchema(g.KeySchema) {
			name := aws.ToString(k.AttributeName)
			gsi.Keys = append(gsi.Keys, fmt.Sprintf("%s (%s, %s)", name, k.KeyType, attrTypes[name]))
		}
		if g.Projection != nil {
			gsi.Projection = string(g.Projection.ProjectionType)
			gsi.NonKeyAttributes = append([]string(nil), g.Projection.NonKeyAttributes...)
			sort.Strings(gsi.NonKeyAttributes)
		}
		if g.ProvisionedThroughput != nil {
			gsi.ReadUnits = aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits)
			gsi.WriteUnits = aws.ToInt64(g.ProvisionedThroughput.WriteCapacityUnits)
		}
		rf.GSIs = append(rf.GSIs, gsi)
	}
	sort.Slice(rf.GSIs, func(i, j int) bool { return rf.GSIs[i].Name < rf.GSIs[j].Name })

	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tableName)})
	if err != nil {
		return RegionFacts{}, readError(region, fmt.Errorf("describing TTL of %s in %s: %w", tableName, region, err))
	}
	if d := ttl.TimeToLiveDescription; d != nil {
		rf.TTL = TTL{Status: string(d.TimeToLiveStatus), Attribute: aws.ToString(d.AttributeName)}
	}
	if rf.TTL.Status == "" {
		rf.TTL.Status = string(types.TimeToLiveStatusDisabled)
	}

	if rf.BillingMode == string(types.BillingModeProvisioned) {
		if err := gatherAutoScaling(ctx, c.AutoScaling(region), tableName, &rf); err != nil {
			return RegionFacts{}, err
		}
	}
	return rf, nil
}

// gatherAutoScaling marks the table and GSIs that have a WCU scalable target with a
// scaling policy.
func gatherAutoScaling(ctx context.Context, client *applicationautoscaling.Client, tableName string, rf *RegionFacts) error {
	ids := map[string]string{tableResourceID(tableName, ""): ""}
	for _, g := range rf.GSIs {
		ids[tableResourceID(tableName, g.Name)] = g.Name
	}
	resourceIDs := make([]string, 0, len(ids))
	for id := range ids {
		resourceIDs = append(resourceIDs, id)
	}
	targets := map[string]bool{}
	tp := applicationautoscaling.NewDescribeScalableTargetsPaginator(client, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceIds:      resourceIDs,
	})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			return readError(rf.Region, fmt.Errorf("describing auto scaling targets of %s in %s: %w", tableName, rf.Region, err))
		}
		for _, t := range page.ScalableTargets {
			id := aws.ToString(t.ResourceId)
			if isWriteDimension(t.ScalableDimension) {
				targets[id] = true
				rf.WriteTargets[ids[id]] = UnitRange{int64(aws.ToInt32(t.MinCapacity)), int64(aws.ToInt32(t.MaxCapacity))}
			} else if _, ok := ids[id]; ok {
				rf.ReadAutoScaled = append(rf.ReadAutoScaled, ids[id])
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	for id := range targets {
		pp := applicationautoscaling.NewDescribeScalingPoliciesPaginator(client, &applicationautoscaling.DescribeScalingPoliciesInput{
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
			ResourceId:       aws.String(id),
		})
		for pp.HasMorePages() {
			page, err := pp.NextPage(ctx)
			if err != nil {
				return readError(rf.Region, fmt.Errorf("describing auto scaling policies of %s in %s: %w", tableName, rf.Region, err))
			}
			for _, p := range page.ScalingPolicies {
				if aws.ToString(p.ResourceId) == id && isWriteDimension(p.ScalableDimension) {
					rf.WriteAutoScaling[ids[id]] = true
				}
			}
		}
	}
	return nil
}

func isWriteDimension(d aastypes.ScalableDimension) bool {
	return d == aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits || d == aastypes.ScalableDimensionDynamoDBIndexWriteCapacityUnits
}

// tableResourceID is the Application Auto Scaling resource id of a table or one of its GSIs.
func tableResourceID(tableName, index string) string {
	if index == "" {
		return "table/" + tableName
	}
	return "table/" + tableName + "/index/" + index
}
