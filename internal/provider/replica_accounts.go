package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"

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

// A replica in another account: the resource is declared with the replica
// account's provider configuration and source_table_arn, the ARN of the table in
// the source account. DynamoDB creates it with CreateTable GlobalTableSourceArn in
// the replica's account and Region; the replica's own resource-based policy, which
// must let the replication service replicate with every other replica, is written
// by the provider. The source's policy is the source account's to write.

// crossAccountReplicaPolicy is the replica's resource-based policy: the replication
// service may replicate this table for the given accounts (AWS's multi-account
// tutorial, V2globaltables_MA.tutorial.html).
func crossAccountReplicaPolicy(replicaARN string, accounts []string) string {
	quoted := make([]string, len(accounts))
	for i, a := range accounts {
		quoted[i] = `"` + a + `"`
	}
	return `{"Version":"2012-10-17","Statement":[{"Sid":"DynamoDBActionsNeededForSteadyStateReplication","Effect":"Allow",` +
		`"Principal":{"Service":["replication.dynamodb.amazonaws.com"]},` +
		`"Action":["dynamodb:ReadDataForReplication","dynamodb:WriteDataForReplication","dynamodb:ReplicateSettings"],` +
		`"Resource":"` + replicaARN + `","Condition":{"StringEquals":{"aws:SourceAccount":[` + strings.Join(quoted, ",") + `]}}}]}`
}

// crossAccountSettings names the attributes a multi-account replica cannot set: its
// settings are the global table's, shared by every replica.
func crossAccountSettings(m replicaModel) []string {
	var set []string
	if !m.KMSKeyARN.IsNull() && !m.KMSKeyARN.IsUnknown() {
		set = append(set, "kms_key_arn")
	}
	if !m.TableClass.IsNull() && !m.TableClass.IsUnknown() {
		set = append(set, "table_class")
	}
	if !m.ReadCapacityOverride.IsNull() {
		set = append(set, "read_capacity_override")
	}
	if len(m.GSIs) > 0 {
		set = append(set, "global_secondary_index")
	}
	if !m.PointInTimeRecovery.IsNull() && !m.PointInTimeRecovery.IsUnknown() {
		set = append(set, "point_in_time_recovery")
	}
	if !m.SourceRegion.IsNull() && !m.SourceRegion.IsUnknown() {
		set = append(set, "source_region")
	}
	return set
}

// validateCrossAccount checks what the configuration alone tells.
func validateCrossAccount(m replicaModel, diags *diag.Diagnostics) {
	if m.SourceTableARN.IsNull() || m.SourceTableARN.IsUnknown() {
		return
	}
	arn := m.SourceTableARN.ValueString()
	region, _, ok := arnParts(arn)
	name := ""
	if i := strings.Index(arn, ":table/"); i >= 0 {
		name = arn[i+len(":table/"):]
	}
	if !ok || name == "" || strings.Contains(name, "/") {
		diags.AddAttributeError(path.Root("source_table_arn"), "invalid source table ARN",
			fmt.Sprintf("source_table_arn %q is not a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME).", arn))
		return
	}
	if !m.TableName.IsUnknown() && m.TableName.ValueString() != name {
		diags.AddAttributeError(path.Root("table_name"), "replica name differs from the source table's",
			fmt.Sprintf("table_name is %q but source_table_arn names table %q: every replica of a global table has the table's name.", m.TableName.ValueString(), name))
	}
	if !m.Region.IsUnknown() && m.Region.ValueString() == region {
		diags.AddAttributeError(path.Root("region"), "replica in the source's Region",
			fmt.Sprintf("The source table is in %s too: a global table has one replica per Region. Choose another Region.", region))
	}
	if set := crossAccountSettings(m); len(set) > 0 {
		diags.AddAttributeError(path.Root("source_table_arn"), "setting of a multi-account replica",
			fmt.Sprintf("With source_table_arn the replica belongs to a multi-account global table, whose settings are shared by "+
				"every replica and cannot be overridden per replica (and whose source Region is the ARN's): remove %s.", strings.Join(set, ", ")))
	}
}

// planCrossAccount checks, at plan time and with the replica account's credentials,
// what can be checked of the source: it must be readable by ARN for that (the
// source's resource-based policy granting this account dynamodb:DescribeTable and
// dynamodb:GetResourcePolicy); what is not readable is named in a warning and
// checked by DynamoDB at apply.
func (r *replicaResource) planCrossAccount(ctx context.Context, plan replicaModel, resp *resource.ModifyPlanResponse) {
	arn := plan.SourceTableARN.ValueString()
	srcRegion, srcAccount, _ := arnParts(arn)
	table, region := plan.TableName.ValueString(), plan.Region.ValueString()
	summary := fmt.Sprintf("planning DynamoDB replica (%s, %s) of %s", table, region, arn)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("source_region"), srcRegion)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), replicaID(table, region))...)
	at := path.Root("source_table_arn")
	// The source by its bare name is this account's own table when the ARN names this account.
	if own, err := r.meta.AWS.DynamoDB(srcRegion).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err == nil && aws.ToString(own.Table.TableArn) == arn {
		resp.Diagnostics.AddAttributeError(at, summary, fmt.Sprintf("%s is a table of the account this provider configuration signs in to: "+
			"a multi-account replica lives in another account. Use the other account's provider configuration (an alias or "+
			"assume_role), or drop source_table_arn and use source_region for a replica in this account.", arn))
		return
	}
	desc, err := r.meta.AWS.DynamoDB(srcRegion).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(arn)})
	switch {
	case notFound(err):
		resp.Diagnostics.AddAttributeWarning(at, summary, fmt.Sprintf("The source table %s was not found with this account's "+
			"credentials (it may be created in this apply). DynamoDB checks it at apply.", arn))
		return
	case isAccessDenied(err):
		resp.Diagnostics.AddAttributeWarning(at, summary, fmt.Sprintf("The source table %s cannot be read from this account "+
			"(its resource-based policy does not grant dynamodb:DescribeTable to account or role of this provider "+
			"configuration), so its version, consistency mode and replicas are not checked at plan; DynamoDB checks them "+
			"at apply. Grant dynamodb:DescribeTable and dynamodb:GetResourcePolicy to this account in the source's policy "+
			"to have them checked here.", arn))
		return
	case err != nil:
		addPlanCheckError(&resp.Diagnostics, at, summary, err)
		return
	}
	t := desc.Table
	if t.MultiRegionConsistency == awstypes.MultiRegionConsistencyStrong {
		resp.Diagnostics.AddAttributeError(at, summary, fmt.Sprintf("%s is a multi-Region strongly consistent (MRSC) global table: "+
			"multi-account global tables are eventually consistent (MREC) only.", arn))
		return
	}
	if len(t.Replicas) > 0 && !isMultiAccount(t) {
		resp.Diagnostics.AddAttributeError(at, summary, fmt.Sprintf("%s already has replicas in its own account (a same-account "+
			"global table): a multi-account global table starts from a single-Region table. Remove those replicas first.", arn))
		return
	}
	if s := t.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) && s.StreamViewType != awstypes.StreamViewTypeNewAndOldImages {
		resp.Diagnostics.AddAttributeError(at, summary, fmt.Sprintf("%s has a stream of view type %s; replication needs "+
			"NEW_AND_OLD_IMAGES (or no stream, and DynamoDB enables one).", arn, s.StreamViewType))
		return
	}
	for _, rep := range t.Replicas {
		if aws.ToString(rep.RegionName) == region && rep.ReplicaStatus == awstypes.ReplicaStatusActive {
			resp.Diagnostics.AddAttributeError(path.Root("region"), summary, fmt.Sprintf("The global table already has a replica in %s "+
				"(%s); a global table has one replica per Region. Import it if it is this one: terraform import <address> %s:%s:%s",
				region, aws.ToString(rep.ReplicaArn), table, region, arn))
			return
		}
	}
	pol, err := r.meta.AWS.DynamoDB(srcRegion).GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	switch {
	case isCode(err, "PolicyNotFoundException"):
		resp.Diagnostics.AddAttributeError(at, summary, fmt.Sprintf("%s has no resource-based policy: the source account must "+
			"allow replication.dynamodb.amazonaws.com dynamodb:ReadDataForReplication, dynamodb:WriteDataForReplication and "+
			"dynamodb:ReplicateSettings for aws:SourceAccount %s and this replica's account (see the replica documentation).", arn, srcAccount))
	case isAccessDenied(err):
		resp.Diagnostics.AddAttributeWarning(at, summary, fmt.Sprintf("The resource-based policy of %s cannot be read from this "+
			"account; whether it allows replication to this account is checked by DynamoDB at apply.", arn))
	case err == nil && !strings.Contains(aws.ToString(pol.Policy), "replication.dynamodb.amazonaws.com"):
		resp.Diagnostics.AddAttributeError(at, summary, fmt.Sprintf("The resource-based policy of %s does not name "+
			"replication.dynamodb.amazonaws.com: it must allow that service dynamodb:ReadDataForReplication, "+
			"dynamodb:WriteDataForReplication and dynamodb:ReplicateSettings for every replica's account.", arn))
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

func notFound(err error) bool {
	return ddb.IsNotFound(err) || isCode(err, "ResourceNotFoundException")
}

func isAccessDenied(err error) bool {
	return isCode(err, "AccessDeniedException") || isCode(err, "AccessDenied")
}

// createCrossAccount creates the replica table in this account with
// GlobalTableSourceArn and waits until it is ACTIVE.
func (r *replicaResource) createCrossAccount(ctx context.Context, plan replicaModel, resp *resource.CreateResponse) {
	timeout, d := plan.Timeouts.Create(ctx, replicaCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	deadline := time.Now().Add(timeout)
	arn := plan.SourceTableARN.ValueString()
	srcRegion, srcAccount, _ := arnParts(arn)
	table, region := plan.TableName.ValueString(), plan.Region.ValueString()
	summary := fmt.Sprintf("creating DynamoDB replica (%s, %s) of %s", table, region, arn)
	client := r.meta.AWS.DynamoDB(region)
	// The replica's policy lets every member replicate with it: the source's account,
	// the accounts of the source's other replicas when readable, and its own.
	accounts := []string{srcAccount}
	if desc, err := r.meta.AWS.DynamoDB(srcRegion).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(arn)}); err == nil {
		for _, rep := range desc.Table.Replicas {
			if _, a, ok := arnParts(aws.ToString(rep.ReplicaArn)); ok {
				accounts = append(accounts, a)
			}
		}
	}
	err := ddb.RetryWhileBusy(ctx, deadline, func() error {
		var err error
		_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:                          aws.String(table),
			GlobalTableSourceArn:               aws.String(arn),
			GlobalTableSettingsReplicationMode: awstypes.GlobalTableSettingsReplicationModeEnabled,
			ResourcePolicy:                     aws.String(crossAccountReplicaPolicy(r.ownTableARN(ctx, region, table), append(accounts, r.ownAccount(ctx)))),
		})
		return err
	})
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error()+"\n\nThe source account's resource-based policy on "+arn+" must allow "+
			"replication.dynamodb.amazonaws.com dynamodb:ReadDataForReplication, dynamodb:WriteDataForReplication and "+
			"dynamodb:ReplicateSettings for this account (aws:SourceAccount); the source must be an eventually consistent "+
			"single-Region table or a multi-account global table with no replica in this account or Region.")
		return
	}
	for {
		d, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err == nil && d.Table.TableStatus == awstypes.TableStatusActive {
			break
		}
		if time.Now().After(deadline) {
			resp.Diagnostics.AddError(summary, fmt.Sprintf("the replica did not turn ACTIVE before the timeout (%v)", err))
			return
		}
		select {
		case <-ctx.Done():
			resp.Diagnostics.AddError(summary, ctx.Err().Error())
			return
		case <-time.After(ddb.DefaultPoll.First):
		}
	}
	if err := r.applyCrossAccountSettings(ctx, plan, nil, deadline); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
	}
	plan.SourceRegion = types.StringValue(srcRegion)
	if found, d := r.readCrossAccount(ctx, &plan); !found {
		resp.Diagnostics.Append(d...)
		resp.Diagnostics.AddError(summary, "the replica table disappeared right after it was created")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// applyCrossAccountSettings sets what a multi-account replica keeps of its own:
// deletion protection and tags.
func (r *replicaResource) applyCrossAccountSettings(ctx context.Context, plan replicaModel, old *replicaModel, deadline time.Time) error {
	table, region := plan.TableName.ValueString(), plan.Region.ValueString()
	client := r.meta.AWS.DynamoDB(region)
	if dp := plan.DeletionProtectionEnabled; !dp.IsNull() && !dp.IsUnknown() && (old == nil || !old.DeletionProtectionEnabled.Equal(dp)) {
		if err := setDeletionProtection(ctx, client, table, dp.ValueBool(), deadline); err != nil {
			return fmt.Errorf("setting deletion protection: %w", err)
		}
	}
	if !plan.TagsAll.IsUnknown() && (old == nil || !old.TagsAll.Equal(plan.TagsAll)) {
		if err := syncTags(ctx, client, r.ownTableARN(ctx, region, table), stringMap(plan.TagsAll)); err != nil {
			return fmt.Errorf("tagging the replica: %w", err)
		}
	}
	return nil
}

func (r *replicaResource) updateCrossAccount(ctx context.Context, plan, state replicaModel, deadline time.Time, resp *resource.UpdateResponse) {
	summary := fmt.Sprintf("updating DynamoDB replica (%s, %s)", plan.TableName.ValueString(), plan.Region.ValueString())
	if err := r.applyCrossAccountSettings(ctx, plan, &state, deadline); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	if found, d := r.readCrossAccount(ctx, &plan); !found || d.HasError() {
		resp.Diagnostics.Append(d...)
		resp.Diagnostics.AddError(summary, "the replica table is gone")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// ownTableARN is the ARN the replica table has in this account (STS GetCallerIdentity).
func (r *replicaResource) ownTableARN(ctx context.Context, region, table string) string {
	return "arn:aws:dynamodb:" + region + ":" + r.ownAccount(ctx) + ":table/" + table
}

func (r *replicaResource) ownAccount(ctx context.Context) string {
	if id, err := r.meta.AWS.AccountID(ctx); err == nil {
		return id
	}
	return "*"
}

// readCrossAccount refreshes the model from the replica table in this account; false
// when the table is gone or no longer a replica.
func (r *replicaResource) readCrossAccount(ctx context.Context, m *replicaModel) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	table, region := m.TableName.ValueString(), m.Region.ValueString()
	client := r.meta.AWS.DynamoDB(region)
	d, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if notFound(err) {
		return false, diags
	}
	if err != nil {
		diags.AddError(fmt.Sprintf("reading DynamoDB replica (%s, %s)", table, region), err.Error())
		return true, diags
	}
	t := d.Table
	if aws.ToString(t.GlobalTableVersion) == "" {
		diags.AddWarning(fmt.Sprintf("DynamoDB replica (%s, %s) left its global table", table, region),
			"The table is there but is no longer a replica; it is dropped from the state. Delete the table (or import it "+
				"elsewhere) before the next apply creates the replica again.")
		return false, diags
	}
	srcRegion, _, _ := arnParts(m.SourceTableARN.ValueString())
	m.ID = types.StringValue(replicaID(table, region))
	m.SourceRegion = types.StringValue(srcRegion)
	m.ARN = types.StringValue(aws.ToString(t.TableArn))
	m.Status = types.StringValue(string(t.TableStatus))
	m.GlobalTableVersion = types.StringValue(aws.ToString(t.GlobalTableVersion))
	m.StreamARN = types.StringValue(aws.ToString(t.LatestStreamArn))
	m.KMSKeyARN = types.StringValue("")
	m.TableClass = types.StringValue(string(awstypes.TableClassStandard))
	if t.TableClassSummary != nil && t.TableClassSummary.TableClass != "" {
		m.TableClass = types.StringValue(string(t.TableClassSummary.TableClass))
	}
	m.DeletionProtectionEnabled = types.BoolValue(aws.ToBool(t.DeletionProtectionEnabled))
	m.PointInTimeRecovery = types.BoolValue(false)
	if cb, err := client.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)}); err == nil &&
		cb.ContinuousBackupsDescription != nil && cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription != nil {
		st := cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
		m.PointInTimeRecovery = types.BoolValue(st == awstypes.PointInTimeRecoveryStatusEnabled)
	}
	tags, err := listTags(ctx, client, aws.ToString(t.TableArn))
	if err != nil {
		diags.AddError(fmt.Sprintf("reading the tags of DynamoDB replica (%s, %s)", table, region), err.Error())
		return true, diags
	}
	m.TagsAll, _ = types.MapValueFrom(ctx, types.StringType, tags)
	return true, diags
}

// deleteCrossAccount deletes the replica table in this account: a member of a
// multi-account global table leaves by DeleteTable in its own account.
func (r *replicaResource) deleteCrossAccount(ctx context.Context, state replicaModel, resp *resource.DeleteResponse) {
	timeout, d := state.Timeouts.Delete(ctx, replicaDeleteTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	deadline := time.Now().Add(timeout)
	table, region := state.TableName.ValueString(), state.Region.ValueString()
	client := r.meta.AWS.DynamoDB(region)
	err := ddb.RetryWhileBusy(ctx, deadline, func() error {
		_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		return err
	})
	if err == nil || notFound(err) {
		err = ddb.WaitTableDeleted(ctx, client, table, deadline, r.poll(ctx))
	}
	if err != nil && !notFound(err) {
		resp.Diagnostics.AddError(fmt.Sprintf("deleting DynamoDB replica (%s, %s)", table, region), err.Error())
	}
}

func stringMap(m types.Map) map[string]string {
	out := map[string]string{}
	for k, v := range m.Elements() {
		if s, ok := v.(types.String); ok {
			out[k] = s.ValueString()
		}
	}
	return out
}
