package provider

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Global tables beyond one account and eventual consistency: multi-account global
// tables (a replica is a table of another account, created with CreateTable
// GlobalTableSourceArn) and multi-Region strongly consistent (MRSC) tables.

type witnessModel struct {
	Region types.String `tfsdk:"region"`
	Status types.String `tfsdk:"status"`
}

// arnParts splits a DynamoDB table ARN into its Region and account.
func arnParts(arn string) (region, account string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "dynamodb" {
		return "", "", false
	}
	return parts[3], parts[4], true
}

// replicaAccountAndARN is a replica's account and ARN: DynamoDB's ReplicaArn when it
// reports one (multi-account global tables), else the table's own account in the
// replica's Region.
func replicaAccountAndARN(table *awstypes.TableDescription, r awstypes.ReplicaDescription) (types.String, types.String) {
	if arn := aws.ToString(r.ReplicaArn); arn != "" {
		if _, account, ok := arnParts(arn); ok {
			return types.StringValue(account), types.StringValue(arn)
		}
	}
	tableARN := aws.ToString(table.TableArn)
	region, account, ok := arnParts(tableARN)
	if !ok {
		return types.StringValue(""), types.StringValue("")
	}
	return types.StringValue(account), types.StringValue(strings.Replace(tableARN, ":"+region+":", ":"+aws.ToString(r.RegionName)+":", 1))
}

// isMultiAccount reports whether a table belongs to a multi-account global table:
// settings replication ENABLED (the only mode of multi-account tables, and not the
// mode of same-account ones, ENABLED_WITH_OVERRIDES), or a replica in another account.
func isMultiAccount(table *awstypes.TableDescription) bool {
	if table.GlobalTableSettingsReplicationMode == awstypes.GlobalTableSettingsReplicationModeEnabled {
		return true
	}
	_, own, _ := arnParts(aws.ToString(table.TableArn))
	for _, r := range table.Replicas {
		if r.GlobalTableSettingsReplicationMode == awstypes.GlobalTableSettingsReplicationModeEnabled {
			return true
		}
		if _, account, ok := arnParts(aws.ToString(r.ReplicaArn)); ok && account != own {
			return true
		}
	}
	return false
}

// globalModeOf is what the data source reports of a table's consistency mode,
// witnesses and accounts.
func globalModeOf(table *awstypes.TableDescription, legacy bool) (types.String, []witnessModel, types.Bool) {
	witnesses := []witnessModel{}
	for _, w := range table.GlobalTableWitnesses {
		witnesses = append(witnesses, witnessModel{Region: types.StringValue(aws.ToString(w.RegionName)), Status: types.StringValue(string(w.WitnessStatus))})
	}
	mode := ""
	switch {
	case table.MultiRegionConsistency != "":
		mode = string(table.MultiRegionConsistency)
	case len(table.Replicas) > 0 || legacy:
		mode = string(awstypes.MultiRegionConsistencyEventual)
	}
	return types.StringValue(mode), witnesses, types.BoolValue(isMultiAccount(table))
}

// globalModeRefusal refuses a same-account replica of an MRSC or multi-account
// global table, with what to do instead.
func globalModeRefusal(desc *awstypes.TableDescription, table string) error {
	if desc.MultiRegionConsistency == awstypes.MultiRegionConsistencyStrong {
		var regions []string
		for _, r := range desc.Replicas {
			regions = append(regions, aws.ToString(r.RegionName))
		}
		for _, w := range desc.GlobalTableWitnesses {
			regions = append(regions, aws.ToString(w.RegionName)+" (witness)")
		}
		return refuse(path.Root("table_name"), "Table %q is a multi-Region strongly consistent (MRSC) global table (other Regions: %s). "+
			"DynamoDB fixes an MRSC table's three Regions when it is created (UpdateTable with MultiRegionConsistency = STRONG and "+
			"two replica creates, or one and a witness, on an empty table) and never adds or removes its replicas one by one, so "+
			"ddbglobal_replica cannot manage them. Declare the whole table where it is created (aws_dynamodb_table with its "+
			"replica blocks and consistency_mode = \"STRONG\"), and remove this resource. To give a table that holds data "+
			"strong consistency, create an empty MRSC table and move the data with ddbglobal_live_migration (guide: "+
			"\"Moving a table that holds data into a strongly consistent global table\").", table, strings.Join(regions, ", "))
	}
	if isMultiAccount(desc) {
		return refuse(path.Root("table_name"), "Table %q belongs to a multi-account global table: each of its replicas lives in an "+
			"account of its own and DynamoDB adds none in the same account (UpdateTable ReplicaUpdates is refused). Declare the "+
			"replica with the other account's provider configuration and source_table_arn instead.", table)
	}
	return nil
}
