package upgrade

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// Capacity is the provisioned throughput of a table (Index "") or one of its GSIs in one
// Region, recorded before remediation switched that Region to on-demand.
type Capacity struct {
	Region, Index         string
	ReadUnits, WriteUnits int64
}

// RecordCapacity returns the provisioned throughput of every table and GSI that the
// on-demand steps among actions switch, so that it can be restored after the upgrade.
func RecordCapacity(f *Facts, actions []Action) []Capacity {
	var out []Capacity
	for _, a := range actions {
		if a.Kind != ActionOnDemand {
			continue
		}
		r, ok := f.Region(a.Region)
		if !ok {
			continue
		}
		out = append(out, Capacity{Region: r.Region, ReadUnits: r.ReadUnits, WriteUnits: r.WriteUnits})
		for _, g := range r.GSIs {
			out = append(out, Capacity{Region: r.Region, Index: g.Name, ReadUnits: g.ReadUnits, WriteUnits: g.WriteUnits})
		}
	}
	return out
}

// RestoreCapacity switches each recorded Region that is on-demand back to provisioned
// capacity with the recorded throughput (table and GSIs), one Region at a time, waiting
// for the table to be ACTIVE. A current global table synchronizes its capacity mode,
// so a Region already provisioned again by then is left alone. It returns one line per
// Region it switched.
func RestoreCapacity(ctx context.Context, c Clients, tableName string, recorded []Capacity) ([]string, error) {
	var regions []string
	byRegion := map[string][]Capacity{}
	for _, rc := range recorded {
		if _, ok := byRegion[rc.Region]; !ok {
			regions = append(regions, rc.Region)
		}
		byRegion[rc.Region] = append(byRegion[rc.Region], rc)
	}
	var done []string
	for _, region := range regions {
		client := c.DynamoDB(region)
		if err := waitTableActive(ctx, client, tableName); err != nil {
			return done, fmt.Errorf("%s: %w", region, err)
		}
		table, err := ddb.FindTableByName(ctx, client, tableName)
		if err != nil {
			return done, fmt.Errorf("%s: %w", region, err)
		}
		if table.BillingModeSummary == nil || table.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			continue
		}
		in := &dynamodb.UpdateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModeProvisioned}
		var parts []string
		for _, rc := range byRegion[region] {
			units := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(max(rc.ReadUnits, 1)), WriteCapacityUnits: aws.Int64(max(rc.WriteUnits, 1))}
			if rc.Index == "" {
				in.ProvisionedThroughput = units
				parts = append([]string{fmt.Sprintf("table %d RCU, %d WCU", rc.ReadUnits, rc.WriteUnits)}, parts...)
				continue
			}
			current, ok := indexThroughput(table, rc.Index)
			if !ok {
				continue
			}
			// DynamoDB Local keeps an index's old throughput through on-demand, and an
			// update to the current value is refused; AWS reports 0 for an on-demand index.
			if aws.ToInt64(current.ReadCapacityUnits) != aws.ToInt64(units.ReadCapacityUnits) ||
				aws.ToInt64(current.WriteCapacityUnits) != aws.ToInt64(units.WriteCapacityUnits) {
				in.GlobalSecondaryIndexUpdates = append(in.GlobalSecondaryIndexUpdates, types.GlobalSecondaryIndexUpdate{
					Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String(rc.Index), ProvisionedThroughput: units}})
			}
			parts = append(parts, fmt.Sprintf("index %s %d RCU, %d WCU", rc.Index, rc.ReadUnits, rc.WriteUnits))
		}
		if _, err := client.UpdateTable(ctx, in); err != nil {
			return done, fmt.Errorf("%s: switching back to provisioned capacity: %w", region, err)
		}
		if err := waitTableActive(ctx, client, tableName); err != nil {
			return done, fmt.Errorf("%s: %w", region, err)
		}
		done = append(done, fmt.Sprintf("%s: restore provisioned capacity after the upgrade (%s)", region, strings.Join(parts, "; ")))
	}
	return done, nil
}

// indexThroughput returns an index's provisioned throughput as DescribeTable reports it.
func indexThroughput(t *types.TableDescription, name string) (types.ProvisionedThroughputDescription, bool) {
	for _, g := range t.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) == name {
			if g.ProvisionedThroughput == nil {
				return types.ProvisionedThroughputDescription{}, true
			}
			return *g.ProvisionedThroughput, true
		}
	}
	return types.ProvisionedThroughputDescription{}, false
}
