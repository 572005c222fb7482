package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/upgrade"
)

var (
	_ resource.Resource                = (*versionUpgradeResource)(nil)
	_ resource.ResourceWithConfigure   = (*versionUpgradeResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*versionUpgradeResource)(nil)
	_ resource.ResourceWithImportState = (*versionUpgradeResource)(nil)
)

// defaultUpgradeCreateTimeout bounds the wait for the console upgrade, which AWS says
// takes minutes to hours.
const defaultUpgradeCreateTimeout = 2 * time.Hour

// upgradePollMin is the first delay between two polls of a running upgrade; zero
// takes upgrade.DefaultPollMinDelay. A variable only so that the acceptance tests
// against the emulator can shorten it.
var upgradePollMin time.Duration

func newVersionUpgradeResource() resource.Resource {
	return &versionUpgradeResource{pollMin: upgradePollMin}
}

type versionUpgradeResource struct {
	meta *Meta
	// pollMin is the first delay between two polls of a running upgrade.
	pollMin time.Duration
}

func (r *versionUpgradeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_version_upgrade"
}

func (r *versionUpgradeResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Upgrades a legacy (2017.11.29) DynamoDB global table to version 2019.11.21 (current).\n\n" +
			"AWS performs this one-way upgrade only through the console's **Update version** action; no API does it. " +
			"This resource runs the prerequisite checks in every member Region (also during `terraform plan`), fixes " +
			"capacity and TTL when `remediate = true`, tells the operator exactly what to do in the console (a warning " +
			"and an INFO log line), then waits until every member reports 2019.11.21 and `ACTIVE`, and verifies the " +
			"result. A table that is already current succeeds at once. If the wait times out, the resource is tainted: " +
			"run `terraform apply` again and its replacement resumes waiting, keeping the `from_version`, `prerequisites` " +
			"and `remediations` recorded by the first attempt. Destroying it only removes it from the state.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The global table name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"global_table_name": schema.StringAttribute{
				MarkdownDescription: "Name of the legacy global table (the table name in every member Region).",
				Required:            true,
				Validators:          []validator.String{tableNameValidator()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Any member Region of the global table, where it is described. Defaults to the provider's Region.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{regionValidator()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()},
			},
			"remediate": schema.BoolAttribute{
				MarkdownDescription: "Fix the prerequisites that can be fixed safely before the upgrade: capacity (see " +
					"`remediation_capacity_mode`) and TTL (enabled on the same attribute in the Regions where it is " +
					"disabled). GSI and encryption differences are reported with guidance, never changed. Default `false`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"remediation_capacity_mode": schema.StringAttribute{
				MarkdownDescription: "How `remediate` brings the whole table to one capacity mode, as AWS requires (WCU " +
					"auto scaling on every replica, or on-demand on every replica): `PAY_PER_REQUEST` switches every " +
					"provisioned Region to on-demand (AWS recommends on-demand during the upgrade, since auto scaling does not " +
					"adjust capacity while it runs); `AUTOSCALING` switches on-demand Regions to provisioned capacity (that of " +
					"the provisioned Region with the most WCU) and registers WCU auto scaling on the table and every GSI where " +
					"it is missing (from the current WCU up to ten times as much, target 70% utilization). One of " +
					enumList(upgrade.CapacityModes) + ". Default `" + string(upgrade.CapacityOnDemand) + "`.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(string(upgrade.CapacityOnDemand)),
				Validators: []validator.String{stringvalidator.OneOf(upgrade.CapacityModes...)},
			},
			"restore_capacity_mode": schema.BoolAttribute{
				MarkdownDescription: "After the upgrade, switch the Regions that `remediate` moved to on-demand back to " +
					"provisioned capacity, with the read and write capacity of the table and of every GSI recorded before the " +
					"switch (`capacity_before_remediation`). Auto scaling is not re-registered: check it afterwards. AWS " +
					"limits how often a table may switch capacity mode in 24 hours. Only with `remediation_capacity_mode = " +
					"\"PAY_PER_REQUEST\"`. Default `false`: the table stays on-demand.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"capacity_before_remediation": schema.ListNestedAttribute{
				MarkdownDescription: "The provisioned capacity of each table and GSI that `remediate` switched to on-demand, " +
					"recorded before the switch (empty when nothing was switched).",
				Computed:      true,
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"region":      schema.StringAttribute{MarkdownDescription: "Region.", Computed: true},
					"index":       schema.StringAttribute{MarkdownDescription: "GSI name; empty for the table.", Computed: true},
					"read_units":  schema.Int64Attribute{MarkdownDescription: "Provisioned read capacity units.", Computed: true},
					"write_units": schema.Int64Attribute{MarkdownDescription: "Provisioned write capacity units.", Computed: true},
				}},
			},
			"acknowledge_replication_attributes_removal": schema.BoolAttribute{
				MarkdownDescription: "Must be `true`: confirms that no application depends on the `" +
					strings.Join(upgrade.ReplicationAttributes, "`, `") + "` attributes, which the current version no longer writes.",
				Required: true,
			},
			"replica_regions": schema.ListAttribute{
				MarkdownDescription: "The member Regions of the global table, sorted.",
				Computed:            true,
				ElementType:         types.StringType,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"from_version": schema.StringAttribute{
				MarkdownDescription: "The version the table had when the upgrade began: `2017.11.29`, or `2019.11.21` " +
					"when it was already current.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"version": schema.StringAttribute{
				MarkdownDescription: "The version every member reports after the upgrade: `2019.11.21`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"prerequisites": schema.ListNestedAttribute{
				MarkdownDescription: "The prerequisite checks as they stood before the upgrade (empty for a table that was " +
					"already current), one of " + enumList(upgrade.CheckNames) + " each.",
				Computed:      true,
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":   schema.StringAttribute{MarkdownDescription: "Check name.", Computed: true},
					"passed": schema.BoolAttribute{MarkdownDescription: "Whether it passed.", Computed: true},
					"detail": schema.StringAttribute{MarkdownDescription: "What every Region reported.", Computed: true},
				}},
			},
			"remediations": schema.ListAttribute{
				MarkdownDescription: "What `remediate` changed, one line per Region and change.",
				Computed:            true,
				ElementType:         types.StringType,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"upgraded_at": schema.StringAttribute{
				MarkdownDescription: "When the provider saw every member report version 2019.11.21 and `ACTIVE` (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{
				Create:            true,
				CreateDescription: "How long to wait for the console upgrade to finish, e.g. `6h`. Default `2h`.",
			}),
		},
	}
}

func (r *versionUpgradeResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.meta = metaFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *versionUpgradeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State)
	var plan versionUpgradeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultUpgradeCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	name, region := plan.GlobalTableName.ValueString(), r.region(plan.Region)
	ctx = tflog.SetField(ctx, "global_table_name", name)
	ctx = tflog.SetField(ctx, "region", region)
	summary := fmt.Sprintf("upgrading DynamoDB global table (%s, %s)", name, region)
	plan.ID = types.StringValue(name)
	plan.Region = types.StringValue(region)
	plan.Remediations = types.ListValueMust(types.StringType, nil)
	plan.CapacityBeforeRemediation = types.ListValueMust(capacityType, nil)
	plan.UpgradedAt = types.StringNull()

	// The replacement of a tainted (timed-out) upgrade resumes it: it keeps what the
	// first attempt recorded.
	earlier, resumed := r.meta.takeUpgrade(name, region)

	facts, err := upgrade.GatherDuringUpgrade(ctx, r.meta.AWS, name, region, max(r.pollMin, upgrade.DefaultPollMinDelay))
	if err != nil {
		if resumed {
			r.meta.keepUpgrade(earlier)
		}
		resp.Diagnostics.AddError(summary, gatherErrorDetail(err, name, region))
		return
	}
	plan.ReplicaRegions = stringList(facts.RegionNames())
	if !facts.Legacy {
		var from *versionUpgradeModel
		if resumed {
			from = &earlier
		}
		r.finishCurrent(ctx, &plan, facts, from, summary, timeout, resp)
		return
	}
	plan.FromVersion = types.StringValue(ddb.VersionLegacy)
	var doneEarlier []string
	var recorded []upgrade.Capacity
	if resumed {
		resp.Diagnostics.Append(earlier.Remediations.ElementsAs(ctx, &doneEarlier, false)...)
		plan.Remediations = stringList(doneEarlier)
		var diags diag.Diagnostics
		recorded, diags = earlier.capacity(ctx)
		resp.Diagnostics.Append(diags...)
		resp.Diagnostics.Append(plan.setCapacity(ctx, recorded)...)
	}

	checks := upgrade.Evaluate(facts, plan.AcknowledgeReplicationAttributesRemoval.ValueBool())
	mode := upgrade.CapacityMode(plan.RemediationCapacityMode.ValueString())
	if d := blockingChecks(checks, plan.Remediate.ValueBool()); d != "" {
		resp.Diagnostics.AddError(summary, d+"\n\nNothing was changed.")
		return
	}
	if actions := upgrade.PlanRemediation(facts, checks, mode); len(actions) > 0 {
		// Recorded before any switch, so that restore_capacity_mode can undo it.
		recorded = append(recorded, upgrade.RecordCapacity(facts, actions)...)
		resp.Diagnostics.Append(plan.setCapacity(ctx, recorded)...)
		done := append([]string(nil), doneEarlier...)
		for _, a := range actions {
			tflog.Info(ctx, "remediating an upgrade prerequisite", map[string]any{"action": a.String()})
			if err := upgrade.Remediate(ctx, r.meta.AWS, name, []upgrade.Action{a}); err != nil {
				resp.Diagnostics.AddError(summary, fmt.Sprintf("Remediation failed: %s\n\nAlready done: %s. "+
					"Fix the cause and run terraform apply again: the resource is tainted, and its replacement runs the "+
					"checks again, does only what is left and keeps the list of what was done.", err, orNone(done)))
				// Saved (tainted) so that the replacement remembers what was done.
				plan.Remediations = stringList(done)
				plan.Version = types.StringValue(ddb.VersionLegacy)
				resp.Diagnostics.Append(plan.setPrerequisites(ctx, checks)...)
				resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
				return
			}
			done = append(done, a.String())
		}
		plan.Remediations = stringList(done)
		if facts, err = upgrade.Gather(ctx, r.meta.AWS, name, region); err != nil {
			resp.Diagnostics.AddError(summary, gatherErrorDetail(err, name, region))
			return
		}
		checks = upgrade.Evaluate(facts, plan.AcknowledgeReplicationAttributesRemoval.ValueBool())
		if failed := upgrade.Failed(checks); len(failed) > 0 {
			resp.Diagnostics.AddError(summary, "Remediation ran ("+strings.Join(done, "; ")+") but prerequisites still fail:\n\n"+
				checksDetail(failed, false))
			return
		}
	}
	resp.Diagnostics.Append(plan.setPrerequisites(ctx, checks)...)
	plan.Version = types.StringValue(ddb.VersionLegacy)

	instructions := upgrade.Instructions(facts)
	resp.Diagnostics.AddWarning(fmt.Sprintf("perform the console upgrade of DynamoDB global table (%s)", name),
		instructions+fmt.Sprintf("\n\nThe provider waits up to %s (timeouts.create) for every member to report version "+
			"2019.11.21 and ACTIVE.", timeout))
	tflog.Info(ctx, "prerequisites passed; waiting for the console upgrade\n\n"+instructions)

	// Saved before the wait: a timed-out create leaves this (tainted) state, and the
	// next apply replaces it with a create that resumes waiting.
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.wait(ctx, &plan, facts.RegionNames(), summary, timeout, resp)
}

func (r *versionUpgradeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State, &req.State)
	var state versionUpgradeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name, region := state.GlobalTableName.ValueString(), state.Region.ValueString()
	_, err := ddb.FindTableByName(ctx, r.meta.AWS.DynamoDB(region), name)
	if ddb.IsNotFound(err) {
		resp.Diagnostics.AddWarning(fmt.Sprintf("DynamoDB global table (%s, %s) not found", name, region),
			"The table no longer exists, so its upgrade is removed from the Terraform state.")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("reading DynamoDB global table (%s, %s)", name, region), err.Error())
	}
}

func (r *versionUpgradeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State)
	// Only remediate, remediation_capacity_mode, the acknowledgement and timeouts can
	// change in place; they matter before an upgrade, which is over by now.
	var plan versionUpgradeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *versionUpgradeResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state versionUpgradeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.meta != nil && state.UpgradedAt.IsNull() && state.FromVersion.ValueString() == ddb.VersionLegacy {
		// An unfinished upgrade: its replacement, next in this apply, resumes it.
		r.meta.keepUpgrade(state)
	}
	resp.Diagnostics.AddWarning(
		fmt.Sprintf("removing DynamoDB global table upgrade (%s) from the state only", state.GlobalTableName.ValueString()),
		"The upgrade to version 2019.11.21 is one-way: the table stays as it is. Only the Terraform state forgets "+
			"this resource. (A replacement of an unfinished upgrade resumes waiting.)")
}

func (r *versionUpgradeResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		if !req.State.Raw.IsNull() {
			resp.Diagnostics.AddWarning("destroying ddbglobal_version_upgrade only forgets it",
				"The upgrade is one-way: the table keeps version 2019.11.21; the resource is only removed from the state.")
		}
		return
	}
	if !req.State.Raw.IsNull() || r.meta == nil {
		return
	}
	var plan versionUpgradeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.GlobalTableName.IsUnknown() {
		return
	}
	// A region the configuration sets but that is not known yet stays unknown (the
	// plan must match the configuration); the checks then run at apply.
	var configRegion types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("region"), &configRegion)...)
	if resp.Diagnostics.HasError() || configRegion.IsUnknown() {
		return
	}
	if plan.Region.IsUnknown() || plan.Region.IsNull() {
		plan.Region = types.StringValue(r.meta.AWS.Region())
	}
	name, region := plan.GlobalTableName.ValueString(), plan.Region.ValueString()
	plan.ID = types.StringValue(name)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	if plan.AcknowledgeReplicationAttributesRemoval.IsUnknown() || plan.Remediate.IsUnknown() || plan.RemediationCapacityMode.IsUnknown() {
		return
	}

	summary := fmt.Sprintf("upgrading DynamoDB global table (%s, %s)", name, region)
	if plan.RestoreCapacityMode.ValueBool() && plan.RemediationCapacityMode.ValueString() != string(upgrade.CapacityOnDemand) {
		resp.Diagnostics.AddAttributeError(path.Root("restore_capacity_mode"), summary,
			"restore_capacity_mode = true restores what a switch to on-demand changed; it needs remediation_capacity_mode = \"PAY_PER_REQUEST\".")
		return
	}
	facts, err := upgrade.Gather(ctx, r.meta.AWS, name, region)
	var notGlobal *upgrade.NotGlobalError
	switch {
	case errors.As(err, &notGlobal) && notGlobal.UpgradeUnderWay():
		resp.Diagnostics.AddWarning(summary+": prerequisites not checked during plan", fmt.Sprintf("Table %q in %s "+
			"is %s and reports version %q but lists no replicas yet: an upgrade seems to be under way. Apply waits "+
			"until the members are listed.", name, region, notGlobal.TableStatus, notGlobal.Version))
		return
	case errors.As(err, &notGlobal):
		resp.Diagnostics.AddError(summary, gatherErrorDetail(err, name, region))
		return
	case err != nil && ddb.IsNotFound(err) && !errors.As(err, new(*upgrade.ReadError)):
		// The table may come from the same apply; the checks run again then.
		resp.Diagnostics.AddWarning(summary+": prerequisites not checked during plan",
			gatherErrorDetail(err, name, region)+"\n\nThe checks run again during apply.")
		return
	case err != nil:
		// Any other failure to read (a refused permission, an unreachable Region) is an
		// error: a plan that cannot check the prerequisites must not pass.
		resp.Diagnostics.AddError(summary, gatherErrorDetail(err, name, region))
		return
	case !facts.Legacy:
		return
	}
	checks := upgrade.Evaluate(facts, plan.AcknowledgeReplicationAttributesRemoval.ValueBool())
	if d := blockingChecks(checks, plan.Remediate.ValueBool()); d != "" {
		resp.Diagnostics.AddError(summary, d)
		return
	}
	if actions := upgrade.PlanRemediation(facts, checks, upgrade.CapacityMode(plan.RemediationCapacityMode.ValueString())); len(actions) > 0 {
		resp.Diagnostics.AddWarning(fmt.Sprintf("remediate = true will change DynamoDB global table (%s)", name),
			remediationWarning(facts, checks, actions, plan.RestoreCapacityMode.ValueBool()))
	}
	resp.Diagnostics.AddWarning(fmt.Sprintf("the upgrade of DynamoDB global table (%s) needs an operator", name),
		"After the prerequisites pass, apply waits while someone performs the upgrade in the console:\n\n"+upgrade.Instructions(facts))
}

// remediationWarning is the plan's account of what remediate = true will change, with
// the side effects of each step.
func remediationWarning(facts *upgrade.Facts, checks []upgrade.Check, actions []upgrade.Action, restore bool) string {
	return "These prerequisites fail:\n\n" + checksDetail(upgrade.Failed(checks), false) +
		"\n\nApply fixes them first, Region by Region:\n" + upgrade.DescribeRemediation(facts, actions, restore)
}

// finishCurrent completes a create for a table that is not legacy: already current
// (or finishing an upgrade begun earlier).
//
// earlier is the unfinished upgrade this create resumes, if any: the console upgrade
// happened after it recorded the table as legacy, so its version, checks and
// remediations are what this upgrade reports. It is saved before the wait, so a
// second timeout keeps it for the next replacement.
func (r *versionUpgradeResource) finishCurrent(ctx context.Context, plan *versionUpgradeModel, facts *upgrade.Facts, earlier *versionUpgradeModel, summary string, timeout time.Duration, resp *resource.CreateResponse) {
	plan.FromVersion = types.StringValue(ddb.VersionCurrent)
	plan.Version = types.StringValue(ddb.VersionCurrent)
	resp.Diagnostics.Append(plan.setPrerequisites(ctx, nil)...)
	if earlier != nil {
		plan.FromVersion, plan.Prerequisites, plan.Remediations = earlier.FromVersion, earlier.Prerequisites, earlier.Remediations
		plan.CapacityBeforeRemediation = earlier.CapacityBeforeRemediation
		plan.Version = types.StringValue(ddb.VersionLegacy)
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	tflog.Info(ctx, "the global table is not legacy; checking that every member is current")
	r.wait(ctx, plan, facts.RegionNames(), summary, timeout, resp)
}

// wait follows the console upgrade until every member is current and ACTIVE, then
// verifies the table and saves the final state.
func (r *versionUpgradeResource) wait(ctx context.Context, plan *versionUpgradeModel, members []string, summary string, timeout time.Duration, resp *resource.CreateResponse) {
	name := plan.GlobalTableName.ValueString()
	progress, err := upgrade.Wait(ctx, r.meta.AWS, name, members, upgrade.WaitOptions{
		MinDelay: r.pollMin,
		OnPoll: func(p upgrade.Progress) {
			tflog.Info(ctx, "waiting for the console upgrade to version 2019.11.21", map[string]any{"members": p.String()})
		},
	})
	if errors.Is(err, context.DeadlineExceeded) {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Timed out after %s waiting for every member to report version "+
			"2019.11.21 and ACTIVE. Last seen: %s.\n\nIf nobody has performed the upgrade yet, do it in the console (see "+
			"the instructions in the warning). Run terraform apply again to resume waiting: this resource is now tainted, "+
			"and its replacement resumes: it keeps what this attempt recorded, runs the checks again if the table is still "+
			"legacy, and waits (raise timeouts.create if needed).", timeout, progress))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(summary, "Waiting for the upgrade: "+err.Error())
		return
	}
	if err := upgrade.Verify(progress); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	if plan.RestoreCapacityMode.ValueBool() {
		r.restoreCapacity(ctx, plan, resp)
	}
	plan.Version = types.StringValue(ddb.VersionCurrent)
	plan.UpgradedAt = types.StringValue(time.Now().UTC().Format(time.RFC3339))
	tflog.Info(ctx, "global table upgraded to version 2019.11.21", map[string]any{"members": progress.String()})
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// ImportState takes over a global table that is already current (version 2019.11.21):
// the id is GLOBAL_TABLE_NAME, or GLOBAL_TABLE_NAME:REGION for a member Region other
// than the provider's. A legacy table has no finished upgrade to import.
func (r *versionUpgradeResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	defer importedIdentity(ctx, r, resp)
	if !importByIdentity(ctx, &req, &resp.Diagnostics, r.importIDFromIdentity) {
		return
	}
	const summary = "importing DynamoDB global table upgrade"
	name, region, _ := strings.Cut(req.ID, ":")
	if !tableNamePattern.MatchString(name) || region != "" && !regionPattern.MatchString(region) {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("import id %q must be GLOBAL_TABLE_NAME or GLOBAL_TABLE_NAME:REGION, e.g. orders or orders:eu-west-1", req.ID))
		return
	}
	if r.meta == nil {
		resp.Diagnostics.AddError(summary, "the provider is not configured")
		return
	}
	region = r.region(types.StringValue(region))
	facts, err := upgrade.Gather(ctx, r.meta.AWS, name, region)
	if err != nil {
		resp.Diagnostics.AddError(summary, gatherErrorDetail(err, name, region))
		return
	}
	if facts.Legacy {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Global table %q is still a legacy (2017.11.29) global table: there is "+
			"no finished upgrade to import. Configure the resource and apply it: it checks the prerequisites and waits for the upgrade.", name))
		return
	}
	m := versionUpgradeModel{
		ID:                                      types.StringValue(name),
		GlobalTableName:                         types.StringValue(name),
		Region:                                  types.StringValue(region),
		Remediate:                               types.BoolValue(false),
		RemediationCapacityMode:                 types.StringValue(string(upgrade.CapacityOnDemand)),
		AcknowledgeReplicationAttributesRemoval: types.BoolValue(true), // a current table no longer writes them
		ReplicaRegions:                          stringList(facts.RegionNames()),
		FromVersion:                             types.StringValue(ddb.VersionCurrent),
		Version:                                 types.StringValue(ddb.VersionCurrent),
		Remediations:                            types.ListValueMust(types.StringType, nil),
		UpgradedAt:                              types.StringNull(),
		RestoreCapacityMode:                     types.BoolValue(false),
		CapacityBeforeRemediation:               types.ListValueMust(capacityType, nil),
		Timeouts:                                timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType})},
	}
	resp.Diagnostics.Append(m.setPrerequisites(ctx, nil)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// keepUpgrade remembers an unfinished upgrade for the replacement that resumes it.
func (m *Meta) keepUpgrade(state versionUpgradeModel) {
	m.upgrades.Store(upgradeKey(state.GlobalTableName.ValueString(), state.Region.ValueString()), state)
}

// takeUpgrade returns (and forgets) the unfinished upgrade of a table, if any.
func (m *Meta) takeUpgrade(name, region string) (versionUpgradeModel, bool) {
	v, ok := m.upgrades.LoadAndDelete(upgradeKey(name, region))
	if !ok {
		return versionUpgradeModel{}, false
	}
	return v.(versionUpgradeModel), true
}

func upgradeKey(name, region string) string { return region + "/" + name }

// restoreCapacity switches the Regions that remediation moved to on-demand back to the
// provisioned capacity recorded before. The upgrade is done by then, so a failure is a
// warning that says what is left to do, not an error that would taint the upgrade.
func (r *versionUpgradeResource) restoreCapacity(ctx context.Context, plan *versionUpgradeModel, resp *resource.CreateResponse) {
	recorded, diags := plan.capacity(ctx)
	resp.Diagnostics.Append(diags...)
	if len(recorded) == 0 {
		return
	}
	name := plan.GlobalTableName.ValueString()
	done, err := upgrade.RestoreCapacity(ctx, r.meta.AWS, name, recorded)
	var all []string
	resp.Diagnostics.Append(plan.Remediations.ElementsAs(ctx, &all, false)...)
	plan.Remediations = stringList(append(all, done...))
	if err != nil {
		resp.Diagnostics.AddWarning(fmt.Sprintf("restoring the capacity mode of DynamoDB global table (%s)", name),
			fmt.Sprintf("The upgrade is done, but switching back to provisioned capacity failed: %s\n\nThe capacity recorded "+
				"before remediation is in capacity_before_remediation; switch the table back yourself (UpdateTable "+
				"BillingMode PROVISIONED, or billing_mode in aws_dynamodb_table).", err))
	}
}

func (r *versionUpgradeResource) region(v types.String) string {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return r.meta.AWS.Region()
	}
	return v.ValueString()
}

// blockingChecks describes the failed checks that stop the upgrade: those remediation
// cannot fix, and the fixable ones when remediate is off. It returns "" when none.
func blockingChecks(checks []upgrade.Check, remediate bool) string {
	blocking := upgrade.Unfixable(checks)
	if !remediate {
		blocking = upgrade.Failed(checks)
	}
	if len(blocking) == 0 {
		return ""
	}
	return "The global table does not meet the upgrade prerequisites:\n\n" + checksDetail(blocking, !remediate)
}

// checksDetail renders failed checks with their guidance.
func checksDetail(checks []upgrade.Check, suggestRemediate bool) string {
	parts := make([]string, 0, len(checks))
	for _, c := range checks {
		s := c.String()
		if c.Guidance != "" {
			s += "\n  " + c.Guidance
		}
		if c.Fixable && suggestRemediate {
			s += " Set remediate = true to let the provider fix it."
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n\n")
}

func gatherErrorDetail(err error, name, region string) string {
	var notGlobal *upgrade.NotGlobalError
	switch {
	case errors.As(err, &notGlobal):
		return fmt.Sprintf("Table %q in %s is neither a legacy (2017.11.29) global table nor a current global table "+
			"with replicas, so there is nothing to upgrade. To add Regions to it, use ddbglobal_replica.", name, region)
	case ddb.IsNotFound(err):
		return fmt.Sprintf("%s. Check global_table_name and region (any member Region of the global table).", err)
	}
	return err.Error()
}

var prerequisiteType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "passed": types.BoolType, "detail": types.StringType,
}}

func (m *versionUpgradeModel) setPrerequisites(ctx context.Context, checks []upgrade.Check) diag.Diagnostics {
	out := make([]prerequisiteModel, 0, len(checks))
	for _, c := range checks {
		out = append(out, prerequisiteModel{Name: types.StringValue(c.Name), Passed: types.BoolValue(c.Passed), Detail: types.StringValue(c.Detail)})
	}
	var diags diag.Diagnostics
	m.Prerequisites, diags = types.ListValueFrom(ctx, prerequisiteType, out)
	return diags
}

func stringList(values []string) types.List {
	elems := make([]attr.Value, 0, len(values))
	for _, v := range values {
		elems = append(elems, types.StringValue(v))
	}
	return types.ListValueMust(types.StringType, elems)
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "nothing"
	}
	return strings.Join(items, "; ")
}

// enumList renders allowed values for a description: `A`, `B`.
func enumList(values []string) string {
	return "`" + strings.Join(values, "`, `") + "`"
}

type versionUpgradeModel struct {
	ID                                      types.String   `tfsdk:"id"`
	GlobalTableName                         types.String   `tfsdk:"global_table_name"`
	Region                                  types.String   `tfsdk:"region"`
	Remediate                               types.Bool     `tfsdk:"remediate"`
	RemediationCapacityMode                 types.String   `tfsdk:"remediation_capacity_mode"`
	AcknowledgeReplicationAttributesRemoval types.Bool     `tfsdk:"acknowledge_replication_attributes_removal"`
	ReplicaRegions                          types.List     `tfsdk:"replica_regions"`
	FromVersion                             types.String   `tfsdk:"from_version"`
	Version                                 types.String   `tfsdk:"version"`
	Prerequisites                           types.List     `tfsdk:"prerequisites"`
	Remediations                            types.List     `tfsdk:"remediations"`
	RestoreCapacityMode                     types.Bool     `tfsdk:"restore_capacity_mode"`
	CapacityBeforeRemediation               types.List     `tfsdk:"capacity_before_remediation"`
	UpgradedAt                              types.String   `tfsdk:"upgraded_at"`
	Timeouts                                timeouts.Value `tfsdk:"timeouts"`
}

type capacityModel struct {
	Region     types.String `tfsdk:"region"`
	Index      types.String `tfsdk:"index"`
	ReadUnits  types.Int64  `tfsdk:"read_units"`
	WriteUnits types.Int64  `tfsdk:"write_units"`
}

var capacityType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"region": types.StringType, "index": types.StringType, "read_units": types.Int64Type, "write_units": types.Int64Type,
}}

func (m *versionUpgradeModel) setCapacity(ctx context.Context, caps []upgrade.Capacity) diag.Diagnostics {
	out := make([]capacityModel, 0, len(caps))
	for _, c := range caps {
		out = append(out, capacityModel{Region: types.StringValue(c.Region), Index: types.StringValue(c.Index),
			ReadUnits: types.Int64Value(c.ReadUnits), WriteUnits: types.Int64Value(c.WriteUnits)})
	}
	var diags diag.Diagnostics
	m.CapacityBeforeRemediation, diags = types.ListValueFrom(ctx, capacityType, out)
	return diags
}

func (m *versionUpgradeModel) capacity(ctx context.Context) ([]upgrade.Capacity, diag.Diagnostics) {
	var in []capacityModel
	if m.CapacityBeforeRemediation.IsNull() || m.CapacityBeforeRemediation.IsUnknown() {
		return nil, nil
	}
	diags := m.CapacityBeforeRemediation.ElementsAs(ctx, &in, false)
	out := make([]upgrade.Capacity, 0, len(in))
	for _, c := range in {
		out = append(out, upgrade.Capacity{Region: c.Region.ValueString(), Index: c.Index.ValueString(),
			ReadUnits: c.ReadUnits.ValueInt64(), WriteUnits: c.WriteUnits.ValueInt64()})
	}
	return out, diags
}

type prerequisiteModel struct {
	Name   types.String `tfsdk:"name"`
	Passed types.Bool   `tfsdk:"passed"`
	Detail types.String `tfsdk:"detail"`
}
