package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

var (
	_ resource.Resource                   = (*liveMigrationResource)(nil)
	_ resource.ResourceWithConfigure      = (*liveMigrationResource)(nil)
	_ resource.ResourceWithImportState    = (*liveMigrationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*liveMigrationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*liveMigrationResource)(nil)
)

// Default timeouts; the user's timeouts replace them.
const (
	migrationCreateTimeout = 12 * time.Hour
	migrationUpdateTimeout = 2 * time.Hour
	migrationDeleteTimeout = 10 * time.Minute

	defaultCheckpointTable = "ddbglobal-migrations"
	defaultSegments        = 16
	// streamRetention is how long DynamoDB Streams keeps records.
	streamRetention = 24 * time.Hour
	// onDemandWriteRate is what a new on-demand table sustains at first (writes of 1 KB per second).
	onDemandWriteRate = 4000.0
)

// cutoverQuiet is how long the stream must stay empty before cutover verifies. A
// variable only so that the acceptance tests against the emulator can shorten it.
var cutoverQuiet = 5 * time.Second

// Values the enum attributes accept, shared by validators and descriptions.
var (
	syncModes   = []string{"apply", "external"}
	handOffs    = []string{string(migration.HandOffAuto), string(migration.HandOffReplay), string(migration.HandOffInsertIfAbsent)}
	verifyModes = []string{string(migration.VerifyFull), string(migration.VerifyCount), string(migration.VerifyNone)}
	phases      = []string{string(migration.PhaseBackfilling), string(migration.PhaseSyncing), string(migration.PhaseCuttingOver), string(migration.PhaseCompleted), string(migration.PhaseFailed)}
)

func newLiveMigrationResource() resource.Resource { return &liveMigrationResource{} }

type liveMigrationResource struct {
	meta *Meta
}

func (r *liveMigrationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_live_migration"
}

func (r *liveMigrationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Moves a live DynamoDB table into another table (new name, Region or account) with no " +
			"downtime and no lost item: it captures the source's stream first, backfills existing items, keeps the " +
			"target in sync from the stream, and at cutover drains the stream and verifies the target. Progress lives " +
			"in a checkpoint table in AWS, so an interrupted apply resumes where it stopped. Neither table's data is " +
			"ever deleted by this resource.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Migration id, `SOURCE_REGION/SOURCE_TABLE/TARGET_REGION/TARGET_TABLE`; the key of its entries in the checkpoint table.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"checkpoint_table": schema.StringAttribute{
				MarkdownDescription: "Table that holds checkpoints and leases, created on demand (on-demand billing) in the " +
					"target Region. Default `" + defaultCheckpointTable + "`; many migrations can share it.",
				Optional:      true,
				Computed:      true,
				Default:       stringdefault.StaticString(defaultCheckpointTable),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{tableNameValidator()},
			},
			"version_attribute": schema.StringAttribute{
				MarkdownDescription: "Number attribute that orders writes, e.g. `updatedAt`. When set, a replicated write " +
					"only replaces a target item with a lower version, so the application can already write some items " +
					"to the target directly (gradual traffic shift). Changing it starts a new migration.",
				Optional:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"overwrite_target": schema.BoolAttribute{
				MarkdownDescription: "Let the migration start into a target table that already holds items (after a " +
					"failed migration, say): once the source stream is captured, every item of the target is deleted, then " +
					"the source is copied, so the target ends equal to the source. Without it a target that holds items is " +
					"refused at plan and at create, since the backfill never replaces an item it finds. Used only when the " +
					"migration starts.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"sync": schema.StringAttribute{
				MarkdownDescription: "Who keeps the target current between applies: " + quotedList(syncModes) + ". `apply`: " +
					"every plan shows the unapplied stream records as an update and every apply catches up. " +
					"`external`: the `ddbglobal-sync` runners do the backfill and the sync: the apply that creates the migration " +
					"captures the stream and returns (phase `backfilling`), refreshes report the progress and the lag, and " +
					"`cutover = true` waits for the runners' backfill (within the update timeout) before cutting over.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString("apply"),
				Validators: []validator.String{stringvalidator.OneOf(syncModes...)},
			},
			"cutover": schema.BoolAttribute{
				MarkdownDescription: "Set to `true` once writes to the source have stopped: the apply drains the stream, " +
					"verifies as `verify` says and marks the migration `completed`. A mismatch fails the apply with counts " +
					"and sample keys.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"verify": schema.StringAttribute{
				MarkdownDescription: "Verification at cutover: " + quotedList(verifyModes) + ". `full` compares every " +
					"item canonically (sets unordered, numbers as decimals, binary exact); `count` compares item counts from full scans.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(string(migration.VerifyFull)),
				Validators: []validator.String{stringvalidator.OneOf(verifyModes...)},
			},
			"hand_off_in_use": schema.StringAttribute{
				MarkdownDescription: "The hand-off the migration uses: `replay` or `insert_if_absent` (what `auto` chose when it started; " +
					"`insert_if_absent` once a replay backfill switched to conditional writes because it would have ended more " +
					"than 12 hours after the capture).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"phase": schema.StringAttribute{
				MarkdownDescription: "Where the migration is: " + quotedList(phases) + ".",
				Computed:            true,
			},
			"stream_arn": schema.StringAttribute{
				MarkdownDescription: "The source stream the migration reads (pinned at capture).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"started_at": schema.StringAttribute{
				MarkdownDescription: "When the stream was captured (RFC 3339).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"items_copied":      schema.Int64Attribute{MarkdownDescription: "Items copied by the backfill.", Computed: true},
			"backfill_progress": backfillProgressAttribute(),
			"records_applied":   schema.Int64Attribute{MarkdownDescription: "Stream records applied to the target.", Computed: true},
			"pending_records":   schema.Int64Attribute{MarkdownDescription: "Stream records not yet applied when last read.", Computed: true},
			"lag_seconds":       schema.Int64Attribute{MarkdownDescription: "Age of the oldest unapplied record when last read, in seconds (0 when caught up).", Computed: true},
			"verification": schema.SingleNestedAttribute{
				MarkdownDescription: "The last verification.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"checked_at":             schema.StringAttribute{MarkdownDescription: "When it ran (RFC 3339).", Computed: true},
					"source_items":           schema.Int64Attribute{MarkdownDescription: "Items in the source.", Computed: true},
					"target_items":           schema.Int64Attribute{MarkdownDescription: "Items in the target.", Computed: true},
					"mismatched_items":       schema.Int64Attribute{MarkdownDescription: "Items missing, extra or different (full mode).", Computed: true},
					"sample_mismatched_keys": schema.ListAttribute{MarkdownDescription: "A few mismatched keys.", Computed: true, ElementType: types.StringType},
				},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
		Blocks: liveMigrationBlocks(),
	}
}

func (r *liveMigrationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.meta = metaFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *liveMigrationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State)
	var plan liveMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, migrationCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan.ID = types.StringValue(migrationID(plan))
	ctx = tflog.SetField(ctx, "migration_id", plan.ID.ValueString())
	summary := fmt.Sprintf("creating DynamoDB live migration (%s)", plan.ID.ValueString())

	// The plan-time checks again: a table created in this apply exists only now.
	if _, _, err := r.checkTables(ctx, plan); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	m, err := r.engine(ctx, plan)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	// Capture, backfill and catch up. Every step resumes from the checkpoint table, so
	// an apply that is interrupted (or times out) continues where it stopped when run
	// again: nothing is saved in the state until the migration is in sync.
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"capturing the source stream", m.Start},
		{"backfilling", func(ctx context.Context) error { return finishBackfill(ctx, m, plan) }},
	}
	if plan.Sync.ValueString() == "apply" {
		steps = append(steps, struct {
			name string
			run  func(context.Context) error
		}{"catching up with the stream", m.CatchUp})
	}
	for _, s := range steps {
		tflog.Info(ctx, s.name)
		if err := s.run(ctx); err != nil {
			r.failed(ctx, summary, m, plan, err, &resp.Diagnostics, &resp.State)
			return
		}
	}
	if plan.Cutover.ValueBool() {
		if !r.cutover(ctx, summary, m, &plan, &resp.Diagnostics) {
			r.saveStatus(ctx, m, &plan, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			return
		}
	}
	r.saveStatus(ctx, m, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *liveMigrationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State, &req.State)
	var state liveMigrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m, err := r.engine(ctx, state)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("reading DynamoDB live migration (%s)", state.ID.ValueString()), err.Error())
		return
	}
	st, err := m.Status(ctx)
	var noTable *awstypes.ResourceNotFoundException
	if errors.Is(err, migration.ErrNotStarted) || errors.As(err, &noTable) {
		resp.Diagnostics.AddWarning(fmt.Sprintf("DynamoDB live migration (%s) not found", state.ID.ValueString()),
			"Its entries are gone from the checkpoint table "+state.CheckpointTable.ValueString()+"; it is dropped from the state.")
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("reading DynamoDB live migration (%s)", state.ID.ValueString()), err.Error())
		return
	}
	state.setStatus(st)
	// The lag, as of this refresh: outputs, check blocks and -refresh-only see
	// records that no apply or runner has applied yet.
	if st.Phase != migration.PhaseCompleted && st.Phase != migration.PhaseFailed {
		if p, err := m.Pending(ctx); err == nil {
			state.PendingRecords = types.Int64Value(p.Records)
			state.LagSeconds = types.Int64Value(int64(p.OldestAge.Seconds()))
		} else {
			resp.Diagnostics.AddWarning(fmt.Sprintf("DynamoDB live migration (%s): could not count unapplied records", state.ID.ValueString()), err.Error())
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *liveMigrationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	defer keepIdentity(ctx, r, resp.Identity, &resp.Diagnostics, &resp.State)
	var plan, state liveMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, migrationUpdateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan.ID = state.ID
	ctx = tflog.SetField(ctx, "migration_id", plan.ID.ValueString())
	summary := fmt.Sprintf("updating DynamoDB live migration (%s)", plan.ID.ValueString())

	m, err := r.engine(ctx, plan)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	// Start is idempotent: it checks the stored settings and re-pins the captured stream.
	if err := m.Start(ctx); err != nil {
		r.failed(ctx, summary, m, plan, err, &resp.Diagnostics, nil)
		return
	}
	st, err := m.Status(ctx)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	switch {
	case st.Phase == migration.PhaseCompleted:
		// Nothing left to do; settings changes are recorded only.
	case st.Phase == migration.PhaseBackfilling:
		// An earlier run stopped during the backfill (or the runners do it); finish it.
		if err := finishBackfill(ctx, m, plan); err != nil {
			r.failed(ctx, summary, m, plan, err, &resp.Diagnostics, nil)
			return
		}
		fallthrough
	default:
		if plan.Sync.ValueString() == "apply" && st.Phase != migration.PhaseCuttingOver {
			tflog.Info(ctx, "catching up with the stream")
			if err := m.CatchUp(ctx); err != nil {
				r.failed(ctx, summary, m, plan, err, &resp.Diagnostics, nil)
				return
			}
		}
		if plan.Cutover.ValueBool() && !r.cutover(ctx, summary, m, &plan, &resp.Diagnostics) {
			r.saveStatus(ctx, m, &plan, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			return
		}
	}
	r.saveStatus(ctx, m, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *liveMigrationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state liveMigrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, migrationDeleteTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	summary := fmt.Sprintf("deleting DynamoDB live migration (%s)", state.ID.ValueString())
	m, err := r.engine(ctx, state)
	if err == nil {
		err = m.Forget(ctx)
	}
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	left := []string{
		fmt.Sprintf("the source table %s and the target table %s with all their items", state.Source.TableName.ValueString(), state.Target.TableName.ValueString()),
		fmt.Sprintf("the checkpoint table %s in %s (other migrations may use it; delete it yourself when none does)", state.CheckpointTable.ValueString(), state.Target.Region.ValueString()),
	}
	if arn := state.StreamARN.ValueString(); arn != "" {
		left = append(left, "the source stream "+arn+", which stays enabled (disable it on the source table if nothing else reads it)")
	}
	resp.Diagnostics.AddWarning(summary,
		"The migration's checkpoint entries are deleted, so runners of this migration stop. Left untouched:\n- "+strings.Join(left, "\n- "))
}

// ImportState takes the migration id, optionally followed by ",CHECKPOINT_TABLE" when
// the migration uses another checkpoint table than the default.
func (r *liveMigrationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	defer importedIdentity(ctx, r, resp)
	if !importByIdentity(ctx, &req, &resp.Diagnostics, r.importIDFromIdentity) {
		return
	}
	id, checkpoint, _ := strings.Cut(req.ID, ",")
	if checkpoint == "" {
		checkpoint = defaultCheckpointTable
	}
	parts := strings.Split(id, "/")
	if len(parts) != 4 || !regionPattern.MatchString(parts[0]) || !regionPattern.MatchString(parts[2]) {
		resp.Diagnostics.AddError("importing DynamoDB live migration",
			fmt.Sprintf("import id %q must be SOURCE_REGION/SOURCE_TABLE/TARGET_REGION/TARGET_TABLE[,CHECKPOINT_TABLE]", req.ID))
		return
	}
	if r.meta == nil {
		resp.Diagnostics.AddError("importing DynamoDB live migration", "the provider is not configured")
		return
	}
	cfg, err := migration.LoadConfig(ctx, r.meta.AWS.DynamoDB(parts[2]), checkpoint, id)
	if err != nil {
		resp.Diagnostics.AddError("importing DynamoDB live migration", fmt.Sprintf("reading migration %s from checkpoint table %s in %s: %s", id, checkpoint, parts[2], err))
		return
	}
	m := modelFromConfig(ctx, cfg, &resp.Diagnostics)
	m.ID = types.StringValue(id)
	m.CheckpointTable = types.StringValue(checkpoint)
	m.Sync = types.StringValue("apply")
	m.Cutover = types.BoolValue(false)
	m.OverwriteTarget = types.BoolValue(false) // used only when a migration starts
	m.Verify = types.StringValue(string(migration.VerifyFull))
	m.Timeouts = timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType, "delete": types.StringType})}
	m.setStatus(migration.Status{})
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *liveMigrationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m liveMigrationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Source == nil || m.Target == nil {
		return
	}
	if sameSide(m.Source, m.Target) {
		resp.Diagnostics.AddAttributeError(path.Root("target"), "source and target are the same table",
			fmt.Sprintf("Both are %s in %s. A migration copies into another table: change target.table_name, target.region or target.role_arn.",
				m.Source.TableName.ValueString(), m.Source.Region.ValueString()))
	}
	cp := m.CheckpointTable.ValueString()
	if !m.CheckpointTable.IsUnknown() && !m.Target.Region.IsUnknown() && cp != "" &&
		(cp == m.Target.TableName.ValueString() || cp == m.Source.TableName.ValueString() && m.Source.Region.Equal(m.Target.Region)) {
		resp.Diagnostics.AddAttributeError(path.Root("checkpoint_table"), "checkpoint table is a migrated table",
			fmt.Sprintf("checkpoint_table %q names the source or target table; the checkpoint table must be a table of its own.", cp))
	}
	tr, err := m.transform(ctx)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("transform"), "invalid transform", err.Error())
	}
	validateRestoreConfig(ctx, m, &resp.Diagnostics)
	if v := m.VersionAttribute.ValueString(); v != "" && err == nil {
		if slices.Contains(tr.Drop, v) {
			resp.Diagnostics.AddAttributeError(path.Root("version_attribute"), "version attribute dropped",
				fmt.Sprintf("version_attribute %q is in transform.drop, so no target item would carry a version to compare. Keep it, or migrate without version_attribute.", v))
		}
		if to, ok := tr.Rename[v]; ok {
			resp.Diagnostics.AddAttributeError(path.Root("version_attribute"), "version attribute renamed",
				fmt.Sprintf("version_attribute %q is renamed to %q by the transform; the versions are compared on the target, so name the target attribute: version_attribute = %q.", v, to, to))
		}
	}
}

// ModifyPlan refuses at plan time what would fail, estimates the backfill, and in sync
// = "apply" mode plans an update when the stream holds unapplied records.
func (r *liveMigrationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.meta == nil || req.Plan.Raw.IsNull() {
		return
	}
	var plan liveMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Source == nil || plan.Target == nil || !plan.known() {
		return
	}
	if req.State.Raw.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), migrationID(plan))...)
		r.planCreate(ctx, plan, resp)
		return
	}
	var state liveMigrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || state.Phase.ValueString() == string(migration.PhaseCompleted) {
		return
	}
	r.planPending(ctx, plan, state, resp)
	if state.Phase.ValueString() == string(migration.PhaseBackfilling) && state.HandOffInUse.ValueString() == string(migration.HandOffReplay) &&
		!resp.Plan.Raw.Equal(req.State.Raw) {
		// A replay backfill may switch to conditional writes during the update.
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("hand_off_in_use"), types.StringUnknown())...)
	}
}

func (r *liveMigrationResource) planCreate(ctx context.Context, plan liveMigrationModel, resp *resource.ModifyPlanResponse) {
	summary := fmt.Sprintf("planning DynamoDB live migration (%s)", migrationID(plan))
	if tr, err := plan.transform(ctx); err == nil {
		resp.Diagnostics.AddWarning(summary+": transform", "Every item, backfilled or streamed, is written to the target with this transform: "+
			transformText(tr)+".")
	}
	resp.Diagnostics.AddWarning(summary+": IAM actions", iamSummary(plan))
	src, _, err := r.checkTables(ctx, plan)
	if err != nil {
		// A table created in the same apply does not exist yet: warned, checked in Create.
		addCheckResult(&resp.Diagnostics, missingSidePath(err, plan), summary, err)
		return
	}
	if plan.restore(ctx) {
		r.planRestore(ctx, plan, resp)
		return
	}
	if err := r.checkTargetEmpty(ctx, plan); err != nil {
		addCheckResult(&resp.Diagnostics, path.Root("overwrite_target"), summary, err)
		return
	}
	if m, err := r.engine(ctx, plan); err == nil {
		cfg := m.Config()
		h, why := cfg.ResolveHandOff(cfg.EstimateBackfill(aws.ToInt64(src.ItemCount), aws.ToInt64(src.TableSizeBytes)))
		resp.Diagnostics.AddWarning(summary+": hand-off "+string(h), "The backfill hand-off will be "+string(h)+" ("+
			string(cfg.HandOff)+"): "+why+". It is chosen when the migration starts, from what DynamoDB reports then "+
			"(ItemCount and TableSizeBytes are refreshed about every six hours).")
	}
	if msg := backfillEstimate(src, plan); msg != "" {
		if estimateBackfill(src, plan) > streamRetention*3/4 {
			resp.Diagnostics.AddWarning(summary+": the backfill approaches the stream's 24-hour retention", msg+
				" The migration reads the stream during the backfill, so it keeps up, but a stop of more than a few hours "+
				"(a failed apply left alone, no runner) can lose stream records and force a new backfill. Raise "+
				"max_write_units_per_second (and the target's capacity, or pre-warm it) or run the ddbglobal-sync runner "+
				"with sync = \"external\" so that the stream is read all along.")
		} else {
			resp.Diagnostics.AddWarning(summary+": estimated backfill", msg)
		}
	}
}

// planPending marks the sync attributes unknown when the stream holds records the
// target has not received, so that `terraform plan` shows the catch-up as an update.
func (r *liveMigrationResource) planPending(ctx context.Context, plan, state liveMigrationModel, resp *resource.ModifyPlanResponse) {
	m, err := r.engine(ctx, state)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("planning DynamoDB live migration (%s)", state.ID.ValueString()), err.Error())
		return
	}
	p, err := m.Pending(ctx)
	if err != nil {
		resp.Diagnostics.AddWarning(fmt.Sprintf("DynamoDB live migration (%s): could not count unapplied records", state.ID.ValueString()), err.Error())
		return
	}
	more := ""
	if !p.Complete {
		more = " at least"
	}
	if p.Records == 0 && !plan.Cutover.ValueBool() {
		return
	}
	if plan.Sync.ValueString() == "external" {
		resp.Diagnostics.AddWarning(fmt.Sprintf("DynamoDB live migration (%s) lags", state.ID.ValueString()),
			fmt.Sprintf("The stream holds%s %d records the target has not received; the oldest is %s old. With sync = \"external\" "+
				"the ddbglobal-sync runner applies them: check that it runs.", more, p.Records, p.OldestAge.Round(time.Second)))
		if !plan.Cutover.ValueBool() {
			return
		}
	} else if p.Records > 0 {
		resp.Diagnostics.AddWarning(fmt.Sprintf("DynamoDB live migration (%s) has changes to apply", state.ID.ValueString()),
			fmt.Sprintf("The stream holds%s %d records the target has not received; the oldest is %s old. Apply to catch up.",
				more, p.Records, p.OldestAge.Round(time.Second)))
	}
	for _, a := range []string{"pending_records", "lag_seconds", "records_applied"} {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(a), types.Int64Unknown())...)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("phase"), types.StringUnknown())...)
	if plan.Cutover.ValueBool() {
		// The cutover verifies (again, after a failed verification): its result is
		// known only after the apply.
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("verification"), types.ObjectUnknown(verificationAttrTypes))...)
	}
}

// engine builds the migration engine for a model.
func (r *liveMigrationResource) engine(ctx context.Context, m liveMigrationModel) (*migration.Migration, error) {
	tr, err := m.transform(ctx)
	if err != nil {
		return nil, err
	}
	src, dst := r.side(m.Source), r.side(m.Target)
	srcRegion, dstRegion := m.Source.Region.ValueString(), m.Target.Region.ValueString()
	cfg := migration.Config{
		ID: migrationID(m),
		Source: migration.Endpoint{Table: m.Source.TableName.ValueString(), Region: srcRegion, RoleARN: m.Source.RoleARN.ValueString(),
			DynamoDB: src.DynamoDB(srcRegion), Streams: src.Streams(srcRegion)},
		Target: migration.Endpoint{Table: m.Target.TableName.ValueString(), Region: dstRegion, RoleARN: m.Target.RoleARN.ValueString(),
			DynamoDB: dst.DynamoDB(dstRegion)},
		CheckpointTable:  m.CheckpointTable.ValueString(),
		Segments:         defaultSegments,
		VersionAttribute: m.VersionAttribute.ValueString(),
		OverwriteTarget:  m.OverwriteTarget.ValueBool(),
		Transform:        tr,
		Logger:           tflogLogger{ctx: ctx},
	}
	cfg.HandOff, cfg.RestoreMargin = migration.HandOffAuto, restoreMargin
	if b := m.backfill(ctx); b != nil {
		cfg.Segments = int(b.Segments.ValueInt64())
		if h := b.HandOff.ValueString(); h != "" {
			cfg.HandOff = migration.HandOff(h)
		}
		cfg.MaxReadUnits = b.MaxReadUnits.ValueFloat64()
		cfg.MaxWriteUnits = b.MaxWriteUnits.ValueFloat64()
		cfg.Backfill = migration.BackfillMethod(b.Method.ValueString())
	}
	return migration.New(cfg)
}

// side is the client set for one table: the provider's, or an assumed role's.
func (r *liveMigrationResource) side(s *tableSideModel) *awsclient.Client {
	return r.meta.AWS.AssumingRole(s.RoleARN.ValueString(), "terraform-ddbglobal-migration")
}

// cutover drains, verifies and completes; false (with an error added) when it did not.
func (r *liveMigrationResource) cutover(ctx context.Context, summary string, m *migration.Migration, plan *liveMigrationModel, diags *diag.Diagnostics) bool {
	tflog.Info(ctx, "cutting over: draining the stream and verifying", map[string]any{"verify": plan.Verify.ValueString()})
	rep, err := m.Cutover(ctx, migration.CutoverOptions{Quiet: cutoverQuiet, Verify: migration.VerifyMode(plan.Verify.ValueString())})
	if errors.Is(err, migration.ErrVerificationFailed) {
		diags.AddError(summary, fmt.Sprintf("Verification found differences: %d source items, %d target items, %d mismatched "+
			"(%d missing in the target, %d extra, %d different). Sample keys:\n- %s\n\nThe migration stays in cutting_over; "+
			"fix the cause and apply again to re-verify, or restart from scratch with terraform apply -replace.",
			rep.SourceItems, rep.TargetItems, rep.Mismatched, rep.Missing, rep.Extra, rep.Different, strings.Join(rep.SampleMismatchedKeys, "\n- ")))
		return false
	}
	if err != nil {
		diags.AddError(summary, err.Error())
		return false
	}
	return true
}

// failed reports an engine error. Data loss fails the migration for good (a new
// backfill is needed): it is recorded in the state so that the next apply replaces it.
// Anything else is left to resume: a Create saves no state, so the next apply picks up
// from the checkpoint table.
func (r *liveMigrationResource) failed(ctx context.Context, summary string, m *migration.Migration, plan liveMigrationModel, err error, diags *diag.Diagnostics, state stateSetter) {
	if errors.Is(err, migration.ErrRebackfillRequired) {
		diags.AddError(summary, err.Error()+"\n\nStream data the target needed is gone, so the target can no longer be "+
			"made equal to the source by syncing. Restart the migration from scratch: set overwrite_target = true (the "+
			"target still holds the old copy) and run terraform apply -replace=<this resource>; the new migration deletes "+
			"the target's items after capturing the stream, then copies the source again.")
		if state != nil {
			r.saveStatus(ctx, m, &plan, diags)
			diags.Append(state.Set(ctx, &plan)...)
		}
		return
	}
	diags.AddError(summary, err.Error()+"\n\nProgress is kept in the checkpoint table: apply again to continue from here.")
}

type stateSetter interface {
	Set(context.Context, any) diag.Diagnostics
}

// saveStatus copies the checkpoint table's view of the migration into the model.
func (r *liveMigrationResource) saveStatus(ctx context.Context, m *migration.Migration, plan *liveMigrationModel, diags *diag.Diagnostics) {
	st, err := m.Status(ctx)
	if err != nil {
		diags.AddWarning("reading the migration's status", err.Error())
	}
	plan.setStatus(st)
	// With sync = "external" too: outputs, check blocks and -refresh-only see the lag.
	if st.Phase != migration.PhaseCompleted && st.Phase != migration.PhaseFailed {
		if p, err := m.Pending(ctx); err == nil {
			plan.PendingRecords = types.Int64Value(p.Records)
			plan.LagSeconds = types.Int64Value(int64(p.OldestAge.Seconds()))
		}
	}
}

func migrationID(m liveMigrationModel) string {
	return strings.Join([]string{m.Source.Region.ValueString(), m.Source.TableName.ValueString(), m.Target.Region.ValueString(), m.Target.TableName.ValueString()}, "/")
}

func sameSide(a, b *tableSideModel) bool {
	return a.TableName.Equal(b.TableName) && a.Region.Equal(b.Region) && a.RoleARN.ValueString() == b.RoleARN.ValueString() &&
		!a.TableName.IsUnknown() && !a.Region.IsUnknown()
}

// keyMappingProblem explains why the transform cannot turn source keys into target
// keys one to one, or returns "". Every source key attribute must land, with its type,
// on a target key attribute, and every target key attribute must come from one:
// anything else either fails on write or merges distinct source items into one.
func keyMappingProblem(src, dst *awstypes.TableDescription, tr migration.Transform) string {
	types := func(t *awstypes.TableDescription) map[string]awstypes.ScalarAttributeType {
		out := map[string]awstypes.ScalarAttributeType{}
		for _, a := range t.AttributeDefinitions {
			out[aws.ToString(a.AttributeName)] = a.AttributeType
		}
		return out
	}
	srcTypes, dstTypes := types(src), types(dst)
	dropped := map[string]bool{}
	for _, d := range tr.Drop {
		dropped[d] = true
	}
	mapped := map[string]string{} // target key name → source key name
	var problems []string
	typeProblems := 0
	for _, k := range ddb.OrderedKeySchema(src.KeySchema) {
		name := aws.ToString(k.AttributeName)
		if dropped[name] {
			problems = append(problems, fmt.Sprintf("the source key attribute %q is dropped", name))
			continue
		}
		to := name
		if r, ok := tr.Rename[name]; ok {
			to = r
		}
		mapped[to] = name
	}
	for _, k := range ddb.OrderedKeySchema(dst.KeySchema) {
		name := aws.ToString(k.AttributeName)
		from, ok := mapped[name]
		switch {
		case tr.Set[name] != nil:
			problems = append(problems, fmt.Sprintf("the target key attribute %q is set to a constant, which would merge every item into one", name))
		case !ok:
			problems = append(problems, fmt.Sprintf("no source key attribute becomes the target key attribute %q", name))
		case srcTypes[from] != dstTypes[name]:
			problems = append(problems, fmt.Sprintf("source key %q is of type %s but target key %q is of type %s", from, srcTypes[from], name, dstTypes[name]))
			typeProblems++
		}
		delete(mapped, name)
	}
	for to, from := range mapped {
		problems = append(problems, fmt.Sprintf("the source key attribute %q becomes %q, which is not part of the target key (distinct source items would collide)", from, to))
	}
	if len(problems) == 0 {
		return ""
	}
	sort.Strings(problems)
	hint := "Express a key-schema change with transform.rename, e.g. rename = { id = \"pk\" }."
	if typeProblems == len(problems) {
		// The names line up: a rename would not help. Key values are copied as they are.
		hint = "A migration copies key values unchanged and cannot convert their type: create the target table with " +
			"the same key attribute types as the source."
	}
	return fmt.Sprintf("The source key (%s) does not map onto the target key (%s): %s. %s", keyText(src), keyText(dst), strings.Join(problems, "; "), hint)
}

func keyText(t *awstypes.TableDescription) string {
	var parts []string
	for _, k := range ddb.OrderedKeySchema(t.KeySchema) {
		parts = append(parts, aws.ToString(k.AttributeName))
	}
	return strings.Join(parts, ", ")
}

// estimateBackfill is how long copying the source takes at the configured rates (or,
// unlimited, at what a new on-demand target sustains): one write unit per KB per item,
// and a consistent scan reads 4 KB per unit.
func estimateBackfill(src *awstypes.TableDescription, plan liveMigrationModel) time.Duration {
	items := float64(aws.ToInt64(src.ItemCount))
	size := float64(aws.ToInt64(src.TableSizeBytes))
	if items == 0 {
		return 0
	}
	kbPerItem := math.Max(1, math.Ceil(size/items/1024))
	writeRate, readRate := onDemandWriteRate, 0.0
	if b := plan.backfill(context.Background()); b != nil {
		if v := b.MaxWriteUnits.ValueFloat64(); v > 0 {
			writeRate = v
		}
		readRate = b.MaxReadUnits.ValueFloat64()
	}
	secs := items * kbPerItem / writeRate
	if readRate > 0 {
		secs = math.Max(secs, size/4096/readRate)
	}
	return time.Duration(secs * float64(time.Second))
}

func backfillEstimate(src *awstypes.TableDescription, plan liveMigrationModel) string {
	d := estimateBackfill(src, plan)
	if d < time.Minute {
		return ""
	}
	return fmt.Sprintf("The source holds about %d items (%d bytes, as DynamoDB last reported). At the configured rates the "+
		"backfill takes about %s.", aws.ToInt64(src.ItemCount), aws.ToInt64(src.TableSizeBytes), d.Round(time.Minute))
}

// tflogLogger hands the engine's progress to Terraform's log (TF_LOG=INFO shows it).
type tflogLogger struct{ ctx context.Context }

func fields(args []any) map[string]any {
	f := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		f[fmt.Sprint(args[i])] = args[i+1]
	}
	return f
}

func (l tflogLogger) Debug(msg string, args ...any) { tflog.Debug(l.ctx, msg, fields(args)) }
func (l tflogLogger) Info(msg string, args ...any)  { tflog.Info(l.ctx, msg, fields(args)) }
func (l tflogLogger) Warn(msg string, args ...any)  { tflog.Warn(l.ctx, msg, fields(args)) }
func (l tflogLogger) Error(msg string, args ...any) { tflog.Error(l.ctx, msg, fields(args)) }

type liveMigrationModel struct {
	ID               types.String    `tfsdk:"id"`
	Source           *tableSideModel `tfsdk:"source"`
	Target           *tableSideModel `tfsdk:"target"`
	CheckpointTable  types.String    `tfsdk:"checkpoint_table"`
	Backfill         types.Object    `tfsdk:"backfill"`
	VersionAttribute types.String    `tfsdk:"version_attribute"`
	OverwriteTarget  types.Bool      `tfsdk:"overwrite_target"`
	HandOffInUse     types.String    `tfsdk:"hand_off_in_use"`
	Transform        *transformModel `tfsdk:"transform"`
	Sync             types.String    `tfsdk:"sync"`
	Cutover          types.Bool      `tfsdk:"cutover"`
	Verify           types.String    `tfsdk:"verify"`
	Phase            types.String    `tfsdk:"phase"`
	StreamARN        types.String    `tfsdk:"stream_arn"`
	StartedAt        types.String    `tfsdk:"started_at"`
	ItemsCopied      types.Int64     `tfsdk:"items_copied"`
	BackfillProgress types.Object    `tfsdk:"backfill_progress"`
	RecordsApplied   types.Int64     `tfsdk:"records_applied"`
	PendingRecords   types.Int64     `tfsdk:"pending_records"`
	LagSeconds       types.Int64     `tfsdk:"lag_seconds"`
	Verification     types.Object    `tfsdk:"verification"`
	Timeouts         timeouts.Value  `tfsdk:"timeouts"`
}

type tableSideModel struct {
	TableName types.String `tfsdk:"table_name"`
	Region    types.String `tfsdk:"region"`
	RoleARN   types.String `tfsdk:"role_arn"`
}

type backfillModel struct {
	Method        types.String  `tfsdk:"method"`
	HandOff       types.String  `tfsdk:"hand_off"`
	Segments      types.Int64   `tfsdk:"segments"`
	MaxReadUnits  types.Float64 `tfsdk:"max_read_units_per_second"`
	MaxWriteUnits types.Float64 `tfsdk:"max_write_units_per_second"`
}

type transformModel struct {
	Rename types.Map `tfsdk:"rename"`
	Drop   types.Set `tfsdk:"drop"`
	Set    types.Map `tfsdk:"set"`
}

var backfillAttrTypes = map[string]attr.Type{
	"segments": types.Int64Type, "max_read_units_per_second": types.Float64Type, "max_write_units_per_second": types.Float64Type,
	"hand_off": types.StringType, "method": types.StringType,
}

var verificationAttrTypes = map[string]attr.Type{
	"checked_at": types.StringType, "source_items": types.Int64Type, "target_items": types.Int64Type,
	"mismatched_items": types.Int64Type, "sample_mismatched_keys": types.ListType{ElemType: types.StringType},
}

// known reports whether every input that planning reads is known.
func (m liveMigrationModel) known() bool {
	for _, v := range []attr.Value{m.Source.TableName, m.Source.Region, m.Source.RoleARN, m.Target.TableName, m.Target.Region, m.Target.RoleARN, m.CheckpointTable} {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

func (m liveMigrationModel) backfill(ctx context.Context) *backfillModel {
	if m.Backfill.IsNull() || m.Backfill.IsUnknown() {
		return nil
	}
	var b backfillModel
	if d := m.Backfill.As(ctx, &b, basetypes.ObjectAsOptions{}); d.HasError() {
		return nil
	}
	if b.Segments.IsNull() || b.Segments.IsUnknown() {
		b.Segments = types.Int64Value(defaultSegments)
	}
	return &b
}

// transform converts the declarative transform into the engine's.
func (m liveMigrationModel) transform(ctx context.Context) (migration.Transform, error) {
	var t migration.Transform
	if m.Transform == nil {
		return t, nil
	}
	if !m.Transform.Rename.IsNull() && !m.Transform.Rename.IsUnknown() {
		t.Rename = map[string]string{}
		if d := m.Transform.Rename.ElementsAs(ctx, &t.Rename, false); d.HasError() {
			return t, errors.New("transform.rename must map names to names")
		}
	}
	if !m.Transform.Drop.IsNull() && !m.Transform.Drop.IsUnknown() {
		if d := m.Transform.Drop.ElementsAs(ctx, &t.Drop, false); d.HasError() {
			return t, errors.New("transform.drop must list names")
		}
		sort.Strings(t.Drop)
	}
	if !m.Transform.Set.IsNull() && !m.Transform.Set.IsUnknown() {
		raw := map[string]string{}
		if d := m.Transform.Set.ElementsAs(ctx, &raw, false); d.HasError() {
			return t, errors.New("transform.set must map names to DynamoDB JSON strings")
		}
		t.Set = map[string]awstypes.AttributeValue{}
		for _, k := range sortedStringKeys(raw) {
			av, err := ddb.ParseAttributeValueJSON(raw[k])
			if err != nil {
				return t, fmt.Errorf("transform.set[%q]: %w", k, err)
			}
			t.Set[k] = av
		}
	}
	return t, t.Validate()
}

func sortedStringKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// setStatus copies an engine status into the computed attributes.
func (m *liveMigrationModel) setStatus(st migration.Status) {
	m.Phase = types.StringValue(string(st.Phase))
	m.StreamARN = types.StringValue(st.StreamARN)
	m.StartedAt = types.StringValue("")
	if !st.StartedAt.IsZero() && st.StartedAt.Unix() > 0 {
		m.StartedAt = types.StringValue(st.StartedAt.UTC().Format(time.RFC3339))
	}
	m.ItemsCopied = types.Int64Value(st.ItemsCopied)
	m.BackfillProgress = backfillProgressValue(st)
	m.RecordsApplied = types.Int64Value(st.RecordsApplied)
	if m.PendingRecords.IsUnknown() || m.PendingRecords.IsNull() {
		m.PendingRecords = types.Int64Value(0)
	}
	if m.LagSeconds.IsUnknown() || m.LagSeconds.IsNull() {
		m.LagSeconds = types.Int64Value(0)
	}
	if st.Phase == migration.PhaseCompleted {
		m.PendingRecords, m.LagSeconds = types.Int64Value(0), types.Int64Value(0)
	}
	// backfill is a block: absent in the configuration, it stays null in the state.
	if st.HandOff != "" {
		m.HandOffInUse = types.StringValue(string(st.HandOff))
	} else if m.HandOffInUse.IsUnknown() {
		m.HandOffInUse = types.StringNull()
	}
	m.Verification = types.ObjectNull(verificationAttrTypes)
	if v := st.Verification; v != nil {
		keys := make([]attr.Value, len(v.SampleMismatchedKeys))
		for i, k := range v.SampleMismatchedKeys {
			keys[i] = types.StringValue(k)
		}
		m.Verification = types.ObjectValueMust(verificationAttrTypes, map[string]attr.Value{
			"checked_at":             types.StringValue(v.CheckedAt.UTC().Format(time.RFC3339)),
			"source_items":           types.Int64Value(v.SourceItems),
			"target_items":           types.Int64Value(v.TargetItems),
			"mismatched_items":       types.Int64Value(v.Mismatched),
			"sample_mismatched_keys": types.ListValueMust(types.StringType, keys),
		})
	}
}

// modelFromConfig rebuilds the inputs of an imported migration from its stored config.
func modelFromConfig(ctx context.Context, cfg migration.Config, diags *diag.Diagnostics) liveMigrationModel {
	side := func(e migration.Endpoint) *tableSideModel {
		s := &tableSideModel{TableName: types.StringValue(e.Table), Region: types.StringValue(e.Region), RoleARN: types.StringNull()}
		if e.RoleARN != "" {
			s.RoleARN = types.StringValue(e.RoleARN)
		}
		return s
	}
	m := liveMigrationModel{Source: side(cfg.Source), Target: side(cfg.Target), VersionAttribute: types.StringNull()}
	if cfg.VersionAttribute != "" {
		m.VersionAttribute = types.StringValue(cfg.VersionAttribute)
	}
	rate := func(v float64) types.Float64 {
		if v == 0 {
			return types.Float64Null()
		}
		return types.Float64Value(v)
	}
	m.Backfill = types.ObjectNull(backfillAttrTypes) // an absent block: every setting at its default
	if cfg.Segments != defaultSegments || cfg.MaxReadUnits != 0 || cfg.MaxWriteUnits != 0 || cfg.HandOff != migration.HandOffAuto ||
		cmp.Or(cfg.Backfill, migration.BackfillScan) != migration.BackfillScan {
		m.Backfill = types.ObjectValueMust(backfillAttrTypes, map[string]attr.Value{
			"segments": types.Int64Value(int64(cfg.Segments)), "max_read_units_per_second": rate(cfg.MaxReadUnits), "max_write_units_per_second": rate(cfg.MaxWriteUnits),
			"hand_off": types.StringValue(string(cfg.HandOff)), "method": types.StringValue(string(cmp.Or(cfg.Backfill, migration.BackfillScan))),
		})
	}
	if !cfg.Transform.IsZero() {
		t := &transformModel{Rename: types.MapNull(types.StringType), Drop: types.SetNull(types.StringType), Set: types.MapNull(types.StringType)}
		if len(cfg.Transform.Rename) > 0 {
			v, d := types.MapValueFrom(ctx, types.StringType, cfg.Transform.Rename)
			diags.Append(d...)
			t.Rename = v
		}
		if len(cfg.Transform.Drop) > 0 {
			v, d := types.SetValueFrom(ctx, types.StringType, cfg.Transform.Drop)
			diags.Append(d...)
			t.Drop = v
		}
		if len(cfg.Transform.Set) > 0 {
			raw := map[string]string{}
			for k, av := range cfg.Transform.Set {
				s, err := ddb.FormatAttributeValueJSON(av)
				if err != nil {
					diags.AddError("importing the transform", err.Error())
				}
				raw[k] = s
			}
			v, d := types.MapValueFrom(ctx, types.StringType, raw)
			diags.Append(d...)
			t.Set = v
		}
		m.Transform = t
	}
	return m
}
