package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

var (
	_ resource.Resource                   = (*replicaResource)(nil)
	_ resource.ResourceWithConfigure      = (*replicaResource)(nil)
	_ resource.ResourceWithImportState    = (*replicaResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*replicaResource)(nil)
	_ resource.ResourceWithValidateConfig = (*replicaResource)(nil)
)

// Default timeouts; the user's timeouts replace them, with no floor.
const (
	replicaCreateTimeout = 60 * time.Minute
	replicaUpdateTimeout = 30 * time.Minute
	replicaDeleteTimeout = 30 * time.Minute
)

// tableClasses are the values table_class accepts.
var tableClasses = []string{string(awstypes.TableClassStandard), string(awstypes.TableClassStandardInfrequentAccess)}

func newReplicaResource() resource.Resource { return &replicaResource{} }

type replicaResource struct {
	meta *Meta
}

func (r *replicaResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_replica"
}

func (r *replicaResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A replica of a DynamoDB table in another Region (global tables version 2019.11.21). " +
			"Creating it adds the Region to the live table and waits until the replica is `ACTIVE`; destroying it " +
			"removes the Region. Several replicas of one table in one apply are created one after another, as " +
			"DynamoDB requires. The base table itself is managed elsewhere, e.g. with `aws_dynamodb_table`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`TABLE:REGION`, e.g. `orders:ap-northeast-1`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"table_name": schema.StringAttribute{
				MarkdownDescription: "Name of the existing table to replicate. Changing it replaces the replica.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{tableNameValidator()},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Region of the replica, e.g. `ap-northeast-1`. Changing it replaces the replica.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{regionValidator()},
			},
			"source_region": schema.StringAttribute{
				MarkdownDescription: "Region of an existing member of the table, where `UpdateTable` is called. " +
					"Defaults to the provider's Region. Changing it changes nothing remotely.",
				Optional:      true,
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Validators:    []validator.String{regionValidator()},
			},
			"source_table_arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the source table in another account: the replica joins a multi-account global " +
					"table and is created in the account of this resource's provider configuration (an alias or `assume_role`). " +
					"The source account's resource-based policy must allow the replication service; the provider writes the " +
					"replica's own. Settings are shared by every replica: `kms_key_arn`, `table_class`, `read_capacity_override`, " +
					"`global_secondary_index`, `point_in_time_recovery` and `source_region` cannot be set. Changing it replaces the replica.",
				Optional:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"kms_key_arn": schema.StringAttribute{
				MarkdownDescription: "Customer managed KMS key (ARN, in the replica Region) that encrypts the replica; a key id, " +
					"alias name (`alias/...`) or alias ARN works too and is kept as written. Required when the table uses a " +
					"customer managed key, refused when it uses the AWS owned key; empty otherwise means the AWS managed key " +
					"of the replica Region. DynamoDB cannot change a replica's key: changing it replaces the replica.",
				Optional:      true,
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()},
				Validators:    []validator.String{kmsKeyValidator()},
			},
			"table_class": schema.StringAttribute{
				MarkdownDescription: "Table class of the replica: " + quotedList(tableClasses) + ". Defaults to the table's class.",
				Optional:            true,
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Validators:          []validator.String{stringvalidator.OneOf(tableClasses...)},
			},
			"read_capacity_override": schema.Int64Attribute{
				MarkdownDescription: "Read capacity units of the replica, for provisioned tables; empty means the table's.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"point_in_time_recovery": schema.BoolAttribute{
				MarkdownDescription: "Point-in-time recovery of the replica, set in the replica Region. Unset leaves it as it is.",
				Optional:            true,
				Computed:            true,
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"deletion_protection_enabled": schema.BoolAttribute{
				MarkdownDescription: "Deletion protection of the replica, set in the replica Region. Unset leaves it as " +
					"it is. A protected replica cannot be destroyed: set it to `false` first.",
				Optional:      true,
				Computed:      true,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags of the replica table, set in the replica Region (at most 50; keys of 1 to 128 " +
					"characters, values of at most 256, no key starting with `aws:`).",
				Optional:    true,
				ElementType: types.StringType,
				Validators:  tagsValidators(),
			},
			"tags_all": schema.MapAttribute{
				MarkdownDescription: "All tags of the replica table: the provider's `default_tags` merged with `tags`.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the replica table.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Replica status as the source Region reports it, e.g. `ACTIVE`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"global_table_version": schema.StringAttribute{
				MarkdownDescription: "Global table version, `2019.11.21`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"stream_arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the replica's stream, of the table's view type (a table without a stream gets a `NEW_AND_OLD_IMAGES` one with its first replica).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
		Blocks: map[string]schema.Block{
			"global_secondary_index": schema.SetNestedBlock{
				MarkdownDescription: "Read capacity override of a global secondary index in the replica.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{
						MarkdownDescription: "Index name.",
						Required:            true,
						Validators:          []validator.String{indexNameValidator()},
					},
					"read_capacity_override": schema.Int64Attribute{
						MarkdownDescription: "Read capacity units of the index in the replica.",
						Required:            true,
						Validators:          []validator.Int64{int64validator.AtLeast(1)},
					},
				}},
			},
		},
	}
}

func (r *replicaResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.meta = metaFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *replicaResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State)
	var plan replicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.SourceTableARN.IsNull() {
		r.createCrossAccount(ctx, plan, resp) // replica_accounts.go
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, replicaCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	table, region, source, summary := r.names(plan, "creating")
	ctx = replicaLogContext(ctx, table, region, source)
	deadline := time.Now().Add(timeout)

	// Same checks as at plan time (the table may have changed since), and one that only
	// apply can make: a replica being replaced still exists while the plan is made.
	// The plan may have cached the table as missing: it is often created in this apply.
	r.meta.Tables.InvalidateTable(table)
	err := r.checkCanAddReplica(ctx, table, region, source)
	if err == nil {
		err = r.checkNoReplicaYet(ctx, table, region, source, false)
	}
	if err == nil {
		err = r.checkReplicaRules(ctx, table, region, source, r.configuredKey(ctx, req.Config, &resp.Diagnostics))
	}
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}

	create := &awstypes.CreateReplicationGroupMemberAction{
		RegionName:                    aws.String(region),
		KMSMasterKeyId:                optionalString(plan.KMSKeyARN),
		TableClassOverride:            awstypes.TableClass(plan.TableClass.ValueString()),
		GlobalSecondaryIndexes:        expandGSIOverrides(plan.GSIs),
		ProvisionedThroughputOverride: readCapacityOverride(plan.ReadCapacityOverride),
	}
	sent := false
	err = r.withTableLock(ctx, table, region, "creating", func() error {
		deadline = time.Now().Add(timeout) // the timeout runs from this replica's turn
		client := r.meta.AWS.DynamoDB(source)
		if err := sendReplicaUpdate(ctx, client, table, awstypes.ReplicationGroupUpdate{Create: create}, deadline); err != nil {
			return err
		}
		sent = true
		tflog.Info(ctx, "replica create requested; waiting for ACTIVE")
		_, err = ddb.WaitReplicaActive(ctx, client, table, region, deadline, r.poll(ctx))
		return err
	})
	r.meta.Tables.InvalidateTable(table)
	var (
		failed   *ddb.ReplicaFailedError
		timedOut *ddb.WaitTimeoutError
	)
	switch {
	case errors.As(err, &failed):
		resp.Diagnostics.AddError(summary, err.Error()+"\n\nFix the cause and apply again: the failed replica "+
			"is deleted and created anew.")
		r.saveUnfinished(ctx, resp, plan, source, string(failed.Status))
		return
	case errors.As(err, &timedOut) && !sent:
		// The table stayed busy with another change: DynamoDB never took the create, so
		// there is nothing to wait for or untaint, and nothing is saved.
		resp.Diagnostics.AddError(summary, fmt.Sprintf("%s (timeouts.create = %s)", err, timeout)+"\n\nDynamoDB did not "+
			"take the create, so nothing was created. Apply again once the table's other change is done, or with a "+
			"longer timeouts.create.")
		return
	case errors.As(err, &timedOut):
		resp.Diagnostics.AddError(summary, fmt.Sprintf("%s (timeouts.create = %s)", err, timeout)+"\n\nDynamoDB goes on creating the replica. To wait for "+
			"it rather than replace it, run `terraform untaint` on this resource and apply again, with a longer "+
			"timeouts.create if needed.")
		r.saveUnfinished(ctx, resp, plan, source, createdStatus(timedOut.Last))
		return
	case err != nil:
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}

	if err := r.applyRegionSettings(ctx, plan, nil, deadline); err != nil {
		resp.Diagnostics.AddError(summary, "the replica is ACTIVE, but setting it up in its Region failed: "+err.Error())
	}
	plan.ID = types.StringValue(replicaID(table, region))
	plan.SourceRegion = types.StringValue(source)
	found, d := r.read(ctx, &plan, false)
	resp.Diagnostics.Append(d...)
	if !found {
		resp.Diagnostics.AddError(summary, "the replica disappeared right after it became ACTIVE")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *replicaResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State, &req.State)
	var state replicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// An imported replica has no configuration to go by yet: its overrides are read
	// all, so that a configuration that sets them plans no change.
	imported, d := req.Private.GetKey(ctx, privateImported)
	resp.Diagnostics.Append(d...)
	var found bool
	if !state.SourceTableARN.IsNull() {
		found, d = r.readCrossAccount(ctx, &state) // replica_accounts.go
	} else {
		found, d = r.read(ctx, &state, imported != nil)
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, nil)...)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !found {
		resp.Diagnostics.AddWarning(
			fmt.Sprintf("DynamoDB replica (%s, %s) not found", state.TableName.ValueString(), state.Region.ValueString()),
			"The replica was removed outside Terraform; it is dropped from the state and the next apply creates it again.")
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *replicaResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State)
	var plan, state replicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, replicaUpdateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.SourceTableARN.IsNull() {
		r.updateCrossAccount(ctx, plan, state, time.Now().Add(timeout), resp) // replica_accounts.go
		return
	}
	// The mark of a planned replacement has no use once the plan is applied.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateReplacing, nil)...)
	table, region, source, summary := r.names(plan, "updating")
	ctx = replicaLogContext(ctx, table, region, source)
	deadline := time.Now().Add(timeout)

	// A replica left unfinished by an earlier apply (status not ACTIVE) is waited for here.
	update := replicaUpdateAction(plan, state)
	if update != nil || state.Status.ValueString() != string(awstypes.ReplicaStatusActive) {
		err := r.withTableLock(ctx, table, region, "updating", func() error {
			deadline = time.Now().Add(timeout) // the timeout runs from this replica's turn
			client := r.meta.AWS.DynamoDB(source)
			if update != nil {
				if err := sendReplicaUpdate(ctx, client, table, awstypes.ReplicationGroupUpdate{Update: update}, deadline); err != nil {
					return err
				}
			}
			_, err := ddb.WaitReplicaActive(ctx, client, table, region, deadline, r.poll(ctx))
			return err
		})
		r.meta.Tables.InvalidateTable(table)
		if err != nil {
			resp.Diagnostics.AddError(summary, err.Error())
			return
		}
	}
	if err := r.applyRegionSettings(ctx, plan, &state, deadline); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	// The plan kept status ACTIVE: a change in the replica Region may show as UPDATING
	// for a while.
	if _, err := ddb.WaitReplicaActive(ctx, r.meta.AWS.DynamoDB(source), table, region, deadline, r.poll(ctx)); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	plan.SourceRegion = types.StringValue(source)
	found, d := r.read(ctx, &plan, false)
	resp.Diagnostics.Append(d...)
	if !found {
		resp.Diagnostics.AddError(summary, "the replica is gone")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *replicaResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state replicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !state.SourceTableARN.IsNull() {
		r.deleteCrossAccount(ctx, state, resp) // replica_accounts.go
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, replicaDeleteTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	table, region, source, summary := r.names(state, "deleting")
	ctx = replicaLogContext(ctx, table, region, source)
	deadline := time.Now().Add(timeout)

	err := r.withTableLock(ctx, table, region, "deleting", func() error {
		deadline = time.Now().Add(timeout) // the timeout runs from this replica's turn
		client := r.meta.AWS.DynamoDB(source)
		err := ddb.RetryWhileBusy(ctx, deadline, func() error {
			_, rep, err := ddb.FindReplicaByTwoPartKey(ctx, client, table, region)
			if err != nil {
				return err
			}
			if rep.ReplicaStatus == awstypes.ReplicaStatusDeleting {
				return nil
			}
			_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
				TableName:      aws.String(table),
				ReplicaUpdates: []awstypes.ReplicationGroupUpdate{{Delete: &awstypes.DeleteReplicationGroupMemberAction{RegionName: aws.String(region)}}},
			})
			return err
		})
		if ddb.IsNotFound(err) {
			return nil // already gone: delete is idempotent
		}
		if err != nil {
			return err
		}
		tflog.Info(ctx, "replica delete requested; waiting until it is gone")
		if err := ddb.WaitReplicaDeleted(ctx, client, table, region, deadline, r.poll(ctx)); err != nil {
			return err
		}
		// Done only when the replica's table is gone too, so that a replacement can start.
		return ddb.WaitTableDeleted(ctx, r.meta.AWS.DynamoDB(region), table, deadline, r.poll(ctx))
	})
	r.meta.Tables.InvalidateTable(table)
	if err != nil {
		detail := err.Error()
		if isSourceHold(err) {
			detail = r.explainSourceHold(ctx, table, region, source, err)
		}
		if strings.Contains(strings.ToLower(detail), "deletion protection") {
			detail += "\n\nSet deletion_protection_enabled = false on the replica and apply, then destroy it."
		}
		resp.Diagnostics.AddError(summary, detail)
	}
}

func (r *replicaResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	defer importedIdentity(ctx, r, resp)
	if !importByIdentity(ctx, &req, &resp.Diagnostics, r.importIDFromIdentity) {
		return
	}
	table, region, ok := strings.Cut(req.ID, ":")
	if r2, sourceARN, cross := strings.Cut(region, ":"); cross && strings.HasPrefix(sourceARN, "arn:") {
		// TABLE:REGION:SOURCE_TABLE_ARN, a replica in this account of another account's table.
		region = r2
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("source_table_arn"), sourceARN)...)
	}
	if !ok || table == "" || !regionPattern.MatchString(region) {
		resp.Diagnostics.AddError("importing DynamoDB replica",
			fmt.Sprintf("import id %q must be TABLE:REGION, e.g. orders:ap-northeast-1", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), replicaID(table, region))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("table_name"), table)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("region"), region)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateImported, []byte("true"))...)
}

func (r *replicaResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m replicaModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	validateCrossAccount(m, &resp.Diagnostics) // replica_accounts.go
	if kr := kmsKeyRegion(m.KMSKeyARN.ValueString()); kr != "" && !m.Region.IsUnknown() && kr != m.Region.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("kms_key_arn"), "KMS key in another Region",
			fmt.Sprintf("kms_key_arn is a key in %s, but the replica is in %s: a replica is encrypted with a key of its own "+
				"Region. Use a key (or a multi-Region key's replica) in %s.", kr, m.Region.ValueString(), m.Region.ValueString()))
	}
	seen := map[string]bool{}
	for _, g := range m.GSIs {
		if g.Name.IsUnknown() || g.Name.IsNull() {
			continue
		}
		if name := g.Name.ValueString(); seen[name] {
			resp.Diagnostics.AddAttributeError(path.Root("global_secondary_index"), "duplicate global secondary index",
				fmt.Sprintf("Index %q has more than one global_secondary_index block; give each index one block with its "+
					"read_capacity_override.", name))
		} else {
			seen[name] = true
		}
	}
	if !m.Region.IsUnknown() && !m.SourceRegion.IsUnknown() && !m.SourceRegion.IsNull() && m.Region.Equal(m.SourceRegion) {
		resp.Diagnostics.AddAttributeError(path.Root("source_region"), "replica Region equals source Region",
			fmt.Sprintf("region and source_region are both %s: a table cannot replicate into its own Region. "+
				"Set region to the new Region and source_region to a Region the table is already in.", m.Region.ValueString()))
	}
}

// ModifyPlan refuses, at plan time and before anything changes, a replica that DynamoDB
// would refuse or that would never work.
func (r *replicaResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.meta == nil || req.Plan.Raw.IsNull() {
		return // unconfigured provider, or destroy
	}
	r.planTagsAll(ctx, resp)
	if !req.State.Raw.IsNull() {
		// Terraform plans a replacement (-replace, a changed table_name or region) by
		// planning again with a null prior state, handing over this plan's private
		// data: the mark tells that second plan the existing replica is this one.
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateReplacing, []byte("true"))...)
		// An existing replica that is not ACTIVE (an apply timed out) gets an update
		// that waits for it.
		var status types.String
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("status"), &status)...)
		if status.ValueString() != string(awstypes.ReplicaStatusActive) {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
		}
		return
	}
	var plan replicaModel
	var configSource types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("source_region"), &configSource)...)
	if resp.Diagnostics.HasError() || plan.TableName.IsUnknown() || plan.Region.IsUnknown() || configSource.IsUnknown() || plan.SourceTableARN.IsUnknown() {
		return // checked at apply time instead
	}
	if !plan.SourceTableARN.IsNull() {
		r.planCrossAccount(ctx, plan, resp) // replica_accounts.go
		return
	}
	table, region, source, summary := r.names(plan, "planning")
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("source_region"), source)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), replicaID(table, region))...)
	ctx = replicaLogContext(ctx, table, region, source)
	err := r.checkCanAddReplica(ctx, table, region, source)
	if err == nil {
		err = r.checkReplicaRules(ctx, table, region, source, r.configuredKey(ctx, req.Config, &resp.Diagnostics))
	}
	addCheckResult(&resp.Diagnostics, path.Root("table_name"), summary, err)
	if err == nil {
		replacing, d := req.Private.GetKey(ctx, privateReplacing)
		resp.Diagnostics.Append(d...)
		if replacing == nil {
			r.warnReplicaOutsideState(ctx, &resp.Diagnostics, table, region, source)
		}
	}
	resp.Diagnostics.Append(r.checkPlannedSettings(ctx, plan, source)...)
}

// planTagsAll plans tags_all: the provider's default tags, overridden by the replica's.
func (r *replicaResource) planTagsAll(ctx context.Context, resp *resource.ModifyPlanResponse) {
	var tags types.Map
	resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, path.Root("tags"), &tags)...)
	if resp.Diagnostics.HasError() {
		return
	}
	all := map[string]string{}
	for k, v := range r.meta.DefaultTags {
		all[k] = v
	}
	known := !tags.IsUnknown()
	for k, v := range tags.Elements() {
		s, ok := v.(types.String)
		known = known && ok && !s.IsUnknown()
		all[k] = s.ValueString()
	}
	if !known {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("tags_all"), types.MapUnknown(types.StringType))...)
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("tags_all"), all)...)
}

// privateReplacing is the private-state key that marks the create half of a
// replacement planned from an existing state.
const privateReplacing = "replacing"

// checkCanAddReplica returns nil when the replica can be added, a *refusal when it
// cannot, a *tableMissingError when the table does not exist, or the error of a check
// that failed.
func (r *replicaResource) checkCanAddReplica(ctx context.Context, table, region, source string) error {
	if region == source {
		return refuse(path.Root("region"), "The replica Region %s is the source Region: a table cannot replicate into its own Region. "+
			"Set source_region (or the provider's region) to a Region the table is already in.", region)
	}
	client := r.meta.AWS.DynamoDB(source)
	desc, err := r.meta.Tables.FindTable(ctx, client, table)
	if ddb.IsNotFound(err) {
		return &tableMissingError{Table: table, Region: source, Hint: "Create it first (e.g. with aws_dynamodb_table " +
			"referenced by table_name), or set source_region to a Region it exists in."}
	}
	if err != nil {
		return err
	}
	if _, err := ddb.FindLegacyGlobalTable(ctx, client, table); err == nil {
		return refuse(path.Root("table_name"), "Table %q is a legacy (2017.11.29) global table; replicas of legacy tables are managed "+
			"with UpdateGlobalTable. Upgrade it to 2019.11.21 first with the ddbglobal_version_upgrade resource, then add replicas.", table)
	} else if !ddb.IsNotFound(err) {
		return err
	}
	if err := globalModeRefusal(desc, table); err != nil { // replica_accounts.go: MRSC and multi-account tables
		return err
	}
	// A stream of any view type is fine: DynamoDB adds the replica and keeps the view
	// type (hashicorp/aws's TestAccDynamoDBTable_Replica_singleStreamSpecification,
	// a KEYS_ONLY stream with a replica on AWS).
	if billingMode(desc) == awstypes.BillingModeProvisioned {
		ok, err := r.hasWriteAutoScaling(ctx, source, "table/"+table, aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits)
		if err != nil {
			return err
		}
		if !ok {
			return refuse(path.Root("table_name"), "Table %q uses provisioned capacity without write capacity auto scaling in %s; DynamoDB "+
				"requires it before adding a replica. Add an aws_appautoscaling_target (service_namespace = \"dynamodb\", "+
				"resource_id = \"table/%s\", scalable_dimension = \"dynamodb:table:WriteCapacityUnits\") with an "+
				"aws_appautoscaling_policy, or switch the table to PAY_PER_REQUEST.", table, source, table)
		}
		// DynamoDB asks the same of every global secondary index of a provisioned table
		// ("Table write capacity should either be Pay-Per-Request or AutoScaled").
		for _, g := range desc.GlobalSecondaryIndexes {
			index := aws.ToString(g.IndexName)
			ok, err := r.hasWriteAutoScaling(ctx, source, "table/"+table+"/index/"+index, aastypes.ScalableDimensionDynamoDBIndexWriteCapacityUnits)
			if err != nil {
				return err
			}
			if !ok {
				return refuse(path.Root("table_name"), "Index %q of table %q has provisioned capacity without write capacity auto scaling "+
					"in %s; DynamoDB requires it on every index before adding a replica. Add an aws_appautoscaling_target "+
					"(service_namespace = \"dynamodb\", resource_id = \"table/%s/index/%s\", scalable_dimension = "+
					"\"dynamodb:index:WriteCapacityUnits\") with an aws_appautoscaling_policy, or switch the table to PAY_PER_REQUEST.",
					index, table, source, table, index)
			}
		}
	}
	return nil
}

func (r *replicaResource) hasWriteAutoScaling(ctx context.Context, region, resourceID string, dimension aastypes.ScalableDimension) (bool, error) {
	out, err := r.meta.AWS.AutoScaling(region).DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace:  aastypes.ServiceNamespaceDynamodb,
		ResourceIds:       []string{resourceID},
		ScalableDimension: dimension,
	})
	if err != nil || len(out.ScalableTargets) == 0 {
		return false, wrapAutoScalingErr(err, resourceID, region)
	}
	policies, err := r.meta.AWS.AutoScaling(region).DescribeScalingPolicies(ctx, &applicationautoscaling.DescribeScalingPoliciesInput{
		ServiceNamespace:  aastypes.ServiceNamespaceDynamodb,
		ResourceId:        aws.String(resourceID),
		ScalableDimension: dimension,
	})
	if err != nil {
		return false, wrapAutoScalingErr(err, resourceID, region)
	}
	return len(policies.ScalingPolicies) > 0, nil
}

func wrapAutoScalingErr(err error, resourceID, region string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("checking write capacity auto scaling of %s in %s: %w", resourceID, region, err)
}

// privateImported marks a replica that was just imported, for the Read that follows.
const privateImported = "imported"

// read refreshes m from AWS; false when the replica does not exist. Overrides are read
// when m has them, or all of them with allOverrides.
func (r *replicaResource) read(ctx context.Context, m *replicaModel, allOverrides bool) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	table, region, source, summary := r.names(*m, "reading")

	desc, err := r.meta.Tables.FindTable(ctx, r.meta.AWS.DynamoDB(source), table)
	if ddb.IsNotFound(err) {
		return false, diags
	}
	if err != nil {
		diags.AddError(summary, err.Error())
		return false, diags
	}
	rep := ddb.FindReplica(desc, region)
	if rep == nil {
		return false, diags
	}
	m.ID = types.StringValue(replicaID(table, region))
	m.SourceRegion = types.StringValue(source)
	m.Status = types.StringValue(string(rep.ReplicaStatus))
	m.GlobalTableVersion = types.StringValue(aws.ToString(desc.GlobalTableVersion))
	// Settings that live in the replica Region are read there. A replica that failed
	// (or is still being created) may have no table there yet: it stays in the state
	// with its status, so the next apply replaces or waits for it.
	local, err := r.meta.Tables.FindTable(ctx, r.meta.AWS.DynamoDB(region), table)
	if ddb.IsNotFound(err) && rep.ReplicaStatus != awstypes.ReplicaStatusActive {
		fillUnknowns(m)
		return true, diags
	}
	if ddb.IsNotFound(err) {
		return false, diags
	}
	if err != nil {
		diags.AddError(summary, err.Error())
		return false, diags
	}
	m.ARN = types.StringValue(aws.ToString(local.TableArn))
	m.StreamARN = types.StringValue(aws.ToString(local.LatestStreamArn))
	reportedKey := ""
	if sse := local.SSEDescription; sse != nil && sse.SSEType == awstypes.SSETypeKms {
		reportedKey = aws.ToString(sse.KMSMasterKeyArn)
	}
	m.KMSKeyARN = kmsKeyState(m.KMSKeyARN, reportedKey)
	m.TableClass = types.StringValue(string(awstypes.TableClassStandard))
	if s := rep.ReplicaTableClassSummary; s != nil && s.TableClass != "" {
		m.TableClass = types.StringValue(string(s.TableClass))
	} else if s := local.TableClassSummary; s != nil && s.TableClass != "" {
		m.TableClass = types.StringValue(string(s.TableClass))
	}
	// Otherwise overrides are read only when configured: an unset override follows the table.
	if pt := rep.ProvisionedThroughputOverride; (allOverrides || !m.ReadCapacityOverride.IsNull()) && pt != nil && pt.ReadCapacityUnits != nil {
		m.ReadCapacityOverride = types.Int64Value(*pt.ReadCapacityUnits)
	}
	if allOverrides || len(m.GSIs) > 0 {
		m.GSIs = flattenGSIOverrides(rep.GlobalSecondaryIndexes)
	}
	m.DeletionProtectionEnabled = types.BoolValue(aws.ToBool(local.DeletionProtectionEnabled))

	regional := r.meta.AWS.DynamoDB(region)
	backups, err := regional.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	if settingsUnreadable(err, rep.ReplicaStatus) {
		fillUnknowns(m) // read again once the replica is ACTIVE
		return true, diags
	}
	if err != nil {
		diags.AddError(summary, "reading point-in-time recovery in "+region+": "+err.Error())
		return false, diags
	}
	m.PointInTimeRecovery = types.BoolValue(backups.ContinuousBackupsDescription != nil &&
		backups.ContinuousBackupsDescription.PointInTimeRecoveryDescription != nil &&
		backups.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == awstypes.PointInTimeRecoveryStatusEnabled)

	tags, err := listTags(ctx, regional, aws.ToString(local.TableArn))
	if settingsUnreadable(err, rep.ReplicaStatus) {
		if m.TagsAll.IsUnknown() {
			m.TagsAll = types.MapValueMust(types.StringType, map[string]attr.Value{})
		}
		return true, diags
	}
	if err != nil {
		diags.AddError(summary, "reading tags in "+region+": "+err.Error())
		return false, diags
	}
	all, d := types.MapValueFrom(ctx, types.StringType, tags)
	diags.Append(d...)
	m.TagsAll = all
	// tags holds the replica's own tags: a tag that only repeats a default tag belongs
	// to tags_all alone, unless the replica sets it too.
	prior := map[string]string{}
	if !m.Tags.IsNull() && !m.Tags.IsUnknown() {
		diags.Append(m.Tags.ElementsAs(ctx, &prior, false)...)
	}
	own := map[string]string{}
	for k, v := range tags {
		if dv, isDefault := r.meta.DefaultTags[k]; isDefault && dv == v {
			if pv, set := prior[k]; !set || pv != v {
				continue
			}
		}
		own[k] = v
	}
	if len(own) == 0 && m.Tags.IsNull() {
		return true, diags
	}
	tv, d := types.MapValueFrom(ctx, types.StringType, own)
	diags.Append(d...)
	m.Tags = tv
	return true, diags
}

// applyRegionSettings sets PITR, deletion protection and tags in the replica Region where
// the plan differs from old (nil old: everything the plan sets).
func (r *replicaResource) applyRegionSettings(ctx context.Context, plan replicaModel, old *replicaModel, deadline time.Time) error {
	table, region := plan.TableName.ValueString(), plan.Region.ValueString()
	client := r.meta.AWS.DynamoDB(region)
	defer r.meta.Tables.Invalidate(region, table)
	changed := func(p, o types.Bool) bool { return !p.IsNull() && !p.IsUnknown() && (old == nil || !p.Equal(o)) }

	if changed(plan.PointInTimeRecovery, oldBool(old, func(m *replicaModel) types.Bool { return m.PointInTimeRecovery })) {
		if err := setPITR(ctx, client, table, plan.PointInTimeRecovery.ValueBool(), deadline); err != nil {
			return fmt.Errorf("setting point-in-time recovery in %s: %w", region, err)
		}
	}
	if changed(plan.DeletionProtectionEnabled, oldBool(old, func(m *replicaModel) types.Bool { return m.DeletionProtectionEnabled })) {
		if err := setDeletionProtection(ctx, client, table, plan.DeletionProtectionEnabled.ValueBool(), deadline); err != nil {
			return fmt.Errorf("setting deletion protection in %s: %w", region, err)
		}
	}
	if old == nil && len(plan.TagsAll.Elements()) == 0 || old != nil && plan.TagsAll.Equal(old.TagsAll) {
		return nil
	}
	desc, err := ddb.FindTableByName(ctx, client, table)
	if err != nil {
		return err
	}
	want := map[string]string{}
	if !plan.TagsAll.IsNull() {
		if d := plan.TagsAll.ElementsAs(ctx, &want, false); d.HasError() {
			return fmt.Errorf("reading planned tags")
		}
	}
	return syncTags(ctx, client, aws.ToString(desc.TableArn), want)
}

func oldBool(old *replicaModel, get func(*replicaModel) types.Bool) types.Bool {
	if old == nil {
		return types.BoolNull()
	}
	return get(old)
}

func listTags(ctx context.Context, client *dynamodb.Client, arn string) (map[string]string, error) {
	tags := map[string]string{}
	p := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
	for {
		out, err := client.ListTagsOfResource(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if out.NextToken == nil {
			return tags, nil
		}
		p.NextToken = out.NextToken
	}
}

func syncTags(ctx context.Context, client *dynamodb.Client, arn string, want map[string]string) error {
	have, err := listTags(ctx, client, arn)
	if err != nil {
		return err
	}
	var remove []string
	for k := range have {
		if _, ok := want[k]; !ok {
			remove = append(remove, k)
		}
	}
	if len(remove) > 0 {
		if _, err := client.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: remove}); err != nil {
			return fmt.Errorf("removing tags: %w", err)
		}
	}
	var add []awstypes.Tag
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			add = append(add, awstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	if len(add) > 0 {
		if _, err := client.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: add}); err != nil {
			return fmt.Errorf("tagging: %w", err)
		}
	}
	return nil
}

// replicaUpdateAction is the ReplicaUpdates Update for what changed between state and
// plan, or nil when nothing the source Region owns changed.
func replicaUpdateAction(plan, state replicaModel) *awstypes.UpdateReplicationGroupMemberAction {
	u := &awstypes.UpdateReplicationGroupMemberAction{RegionName: aws.String(plan.Region.ValueString())}
	changed := false
	if !plan.TableClass.IsUnknown() && !plan.TableClass.IsNull() && !plan.TableClass.Equal(state.TableClass) {
		u.TableClassOverride = awstypes.TableClass(plan.TableClass.ValueString())
		changed = true
	}
	if !plan.ReadCapacityOverride.IsNull() && !plan.ReadCapacityOverride.Equal(state.ReadCapacityOverride) {
		u.ProvisionedThroughputOverride = readCapacityOverride(plan.ReadCapacityOverride)
		changed = true
	}
	if !gsiOverridesEqual(plan.GSIs, state.GSIs) && len(plan.GSIs) > 0 {
		u.GlobalSecondaryIndexes = expandGSIOverrides(plan.GSIs)
		changed = true
	}
	if !changed {
		return nil
	}
	return u
}

// sendReplicaUpdate sends one ReplicaUpdates change, retrying while another change to
// the table is in progress.
func sendReplicaUpdate(ctx context.Context, client *dynamodb.Client, table string, u awstypes.ReplicationGroupUpdate, deadline time.Time) error {
	return ddb.RetryWhileBusy(ctx, deadline, func() error {
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:      aws.String(table),
			ReplicaUpdates: []awstypes.ReplicationGroupUpdate{u},
		})
		if err != nil && ddb.IsTableBusy(err) {
			tflog.Info(ctx, "table busy with another change; retrying", map[string]any{"cause": err.Error()})
		}
		return err
	})
}

// names returns the table, the replica Region, the source Region and the summary of
// a diagnostic, such as "creating DynamoDB replica (orders, eu-west-1)".
func (r *replicaResource) names(m replicaModel, verb string) (table, region, source, summary string) {
	table, region = m.TableName.ValueString(), m.Region.ValueString()
	return table, region, r.sourceRegion(m), fmt.Sprintf("%s DynamoDB replica (%s, %s)", verb, table, region)
}

func (r *replicaResource) sourceRegion(m replicaModel) string {
	if !m.SourceRegion.IsNull() && !m.SourceRegion.IsUnknown() && m.SourceRegion.ValueString() != "" {
		return m.SourceRegion.ValueString()
	}
	return r.meta.AWS.Region()
}

// withTableLock runs fn while holding the provider-wide lock of table: DynamoDB takes one
// replica change per table at a time. A wait for another replica's change is logged at
// INFO, naming that change; fn starts the resource's timeout once its turn has come.
func (r *replicaResource) withTableLock(ctx context.Context, table, region, action string, fn func() error) error {
	unlock := r.meta.TableLocks.LockAs(table, action+" the replica in "+region, func(heldBy string) {
		tflog.Info(ctx, "waiting for another replica change of this table to finish (DynamoDB takes one at a time); "+
			"this replica's timeout starts when it is done", map[string]any{"waiting_for": heldBy})
	})
	defer unlock()
	return fn()
}

// createdStatus is the status saved for a replica whose create was sent but did not
// finish: the last DynamoDB status seen, or CREATING when the replica was not listed yet.
func createdStatus(last string) string {
	for _, s := range awstypes.ReplicaStatus("").Values() {
		if string(s) == last {
			return last
		}
	}
	return string(awstypes.ReplicaStatusCreating)
}

// poll logs replica progress at INFO as it changes.
func (r *replicaResource) poll(ctx context.Context) ddb.Poll {
	p := ddb.DefaultPoll
	last := ""
	p.Progress = func(status, percent string) {
		if cur := status + " " + percent; cur != last {
			last = cur
			tflog.Info(ctx, "replica status", map[string]any{"status": status, "percent_progress": percent})
		}
	}
	return p
}

// saveUnfinished records a replica whose create did not finish, so Terraform knows it
// exists: it is tainted by the error, and the next apply replaces it (or, once
// untainted, waits for it).
func (r *replicaResource) saveUnfinished(ctx context.Context, resp *resource.CreateResponse, plan replicaModel, source, status string) {
	plan.ID = types.StringValue(replicaID(plan.TableName.ValueString(), plan.Region.ValueString()))
	plan.SourceRegion = types.StringValue(source)
	fillUnknowns(&plan)
	plan.Status = types.StringValue(status)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// fillUnknowns sets computed values that could not be read to empty values, so a
// partial state can be saved.
func fillUnknowns(m *replicaModel) {
	for _, s := range []*types.String{&m.KMSKeyARN, &m.TableClass, &m.ARN, &m.Status, &m.GlobalTableVersion, &m.StreamARN} {
		if s.IsUnknown() {
			*s = types.StringValue("")
		}
	}
	for _, b := range []*types.Bool{&m.PointInTimeRecovery, &m.DeletionProtectionEnabled} {
		if b.IsUnknown() {
			*b = types.BoolValue(false)
		}
	}
	if m.TagsAll.IsUnknown() {
		m.TagsAll = types.MapValueMust(types.StringType, map[string]attr.Value{})
	}
}

func replicaID(table, region string) string { return table + ":" + region }

func replicaLogContext(ctx context.Context, table, region, source string) context.Context {
	return tflog.SetField(tflog.SetField(tflog.SetField(ctx, "table_name", table), "region", region), "source_region", source)
}

func billingMode(t *awstypes.TableDescription) awstypes.BillingMode {
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode != "" {
		return t.BillingModeSummary.BillingMode
	}
	return awstypes.BillingModeProvisioned
}

func optionalString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return nil
	}
	return aws.String(v.ValueString())
}

func readCapacityOverride(v types.Int64) *awstypes.ProvisionedThroughputOverride {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return &awstypes.ProvisionedThroughputOverride{ReadCapacityUnits: aws.Int64(v.ValueInt64())}
}

func expandGSIOverrides(gsis []gsiOverrideModel) []awstypes.ReplicaGlobalSecondaryIndex {
	var out []awstypes.ReplicaGlobalSecondaryIndex
	for _, g := range gsis {
		out = append(out, awstypes.ReplicaGlobalSecondaryIndex{
			IndexName:                     aws.String(g.Name.ValueString()),
			ProvisionedThroughputOverride: readCapacityOverride(g.ReadCapacityOverride),
		})
	}
	return out
}

func flattenGSIOverrides(gsis []awstypes.ReplicaGlobalSecondaryIndexDescription) []gsiOverrideModel {
	var out []gsiOverrideModel
	for _, g := range gsis {
		if g.ProvisionedThroughputOverride == nil || g.ProvisionedThroughputOverride.ReadCapacityUnits == nil {
			continue
		}
		out = append(out, gsiOverrideModel{
			Name:                 types.StringValue(aws.ToString(g.IndexName)),
			ReadCapacityOverride: types.Int64Value(*g.ProvisionedThroughputOverride.ReadCapacityUnits),
		})
	}
	return out
}

func gsiOverridesEqual(a, b []gsiOverrideModel) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int64{}
	for _, g := range b {
		seen[g.Name.ValueString()] = g.ReadCapacityOverride.ValueInt64()
	}
	for _, g := range a {
		if v, ok := seen[g.Name.ValueString()]; !ok || v != g.ReadCapacityOverride.ValueInt64() {
			return false
		}
	}
	return true
}

func quotedList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "`" + v + "`"
	}
	return strings.Join(q, ", ")
}

type replicaModel struct {
	ID                        types.String       `tfsdk:"id"`
	TableName                 types.String       `tfsdk:"table_name"`
	Region                    types.String       `tfsdk:"region"`
	SourceRegion              types.String       `tfsdk:"source_region"`
	KMSKeyARN                 types.String       `tfsdk:"kms_key_arn"`
	TableClass                types.String       `tfsdk:"table_class"`
	ReadCapacityOverride      types.Int64        `tfsdk:"read_capacity_override"`
	GSIs                      []gsiOverrideModel `tfsdk:"global_secondary_index"`
	PointInTimeRecovery       types.Bool         `tfsdk:"point_in_time_recovery"`
	DeletionProtectionEnabled types.Bool         `tfsdk:"deletion_protection_enabled"`
	Tags                      types.Map          `tfsdk:"tags"`
	TagsAll                   types.Map          `tfsdk:"tags_all"`
	ARN                       types.String       `tfsdk:"arn"`
	Status                    types.String       `tfsdk:"status"`
	GlobalTableVersion        types.String       `tfsdk:"global_table_version"`
	StreamARN                 types.String       `tfsdk:"stream_arn"`
	SourceTableARN            types.String       `tfsdk:"source_table_arn"`
	Timeouts                  timeouts.Value     `tfsdk:"timeouts"`
}

type gsiOverrideModel struct {
	Name                 types.String `tfsdk:"name"`
	ReadCapacityOverride types.Int64  `tfsdk:"read_capacity_override"`
}
