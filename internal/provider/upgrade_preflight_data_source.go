package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/upgrade"
)

var (
	_ datasource.DataSource              = (*upgradePreflightDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*upgradePreflightDataSource)(nil)
)

func newUpgradePreflightDataSource() datasource.DataSource { return &upgradePreflightDataSource{} }

type upgradePreflightDataSource struct {
	meta *Meta
}

func (d *upgradePreflightDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_upgrade_preflight"
}

func (d *upgradePreflightDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The prerequisite report for upgrading a legacy (2017.11.29) global table to version " +
			"2019.11.21, exactly as `ddbglobal_version_upgrade` checks it, with what `remediate = true` would change " +
			"and the console instructions. It changes nothing.",
		Attributes: map[string]schema.Attribute{
			"global_table_name": schema.StringAttribute{
				MarkdownDescription: "Name of the global table.",
				Required:            true,
				Validators:          []validator.String{tableNameValidator()},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Any member Region of the global table. Defaults to the provider's Region.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{regionValidator()},
			},
			"acknowledge_replication_attributes_removal": schema.BoolAttribute{
				MarkdownDescription: "Whether to report the `" + upgrade.CheckReplicationAttributes + "` check as passed: " +
					"`true` confirms that no application depends on the `" + strings.Join(upgrade.ReplicationAttributes, "`, `") +
					"` attributes. Default `false`.",
				Optional: true,
			},
			"remediation_capacity_mode": schema.StringAttribute{
				MarkdownDescription: "The capacity remediation to report in `remediation`, as in `ddbglobal_version_upgrade`: " +
					"one of " + enumList(upgrade.CapacityModes) + ". Default `" + string(upgrade.CapacityOnDemand) + "`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(upgrade.CapacityModes...)},
			},
			"version": schema.StringAttribute{
				MarkdownDescription: "`2017.11.29` for a legacy global table, `2019.11.21` for a current one.",
				Computed:            true,
			},
			"upgrade_needed": schema.BoolAttribute{
				MarkdownDescription: "True when the table is a legacy global table.",
				Computed:            true,
			},
			"replica_regions": schema.ListAttribute{
				MarkdownDescription: "The member Regions, sorted.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"ready": schema.BoolAttribute{
				MarkdownDescription: "True when every prerequisite passes (and for a table that is already current).",
				Computed:            true,
			},
			"ready_after_remediation": schema.BoolAttribute{
				MarkdownDescription: "True when every failed prerequisite is one that `remediate = true` fixes.",
				Computed:            true,
			},
			"prerequisites": schema.ListNestedAttribute{
				MarkdownDescription: "One entry per check, in this order: " + enumList(upgrade.CheckNames) + ". Empty " +
					"for a table that is already current.",
				Computed: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":     schema.StringAttribute{MarkdownDescription: "Check name.", Computed: true},
					"title":    schema.StringAttribute{MarkdownDescription: "Readable check name, e.g. `TTL`.", Computed: true},
					"passed":   schema.BoolAttribute{MarkdownDescription: "Whether it passed.", Computed: true},
					"fixable":  schema.BoolAttribute{MarkdownDescription: "Whether `remediate = true` fixes it when it fails.", Computed: true},
					"detail":   schema.StringAttribute{MarkdownDescription: "What every Region reported, e.g. `enabled on attribute expiresAt in us-east-1; disabled in eu-west-1`.", Computed: true},
					"guidance": schema.StringAttribute{MarkdownDescription: "What to do when it fails; empty when it passed.", Computed: true},
				}},
			},
			"remediation": schema.ListAttribute{
				MarkdownDescription: "What `remediate = true` would change, one line per Region and change.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"instructions": schema.StringAttribute{
				MarkdownDescription: "The console steps, Regions and IAM permission for the upgrade; empty for a current table.",
				Computed:            true,
			},
		},
	}
}

func (d *upgradePreflightDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.meta = metaFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *upgradePreflightDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m upgradePreflightModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name, region := m.GlobalTableName.ValueString(), m.Region.ValueString()
	if region == "" {
		region = d.meta.AWS.Region()
	}
	ctx = tflog.SetField(ctx, "global_table_name", name)
	ctx = tflog.SetField(ctx, "region", region)
	facts, err := upgrade.Gather(ctx, d.meta.AWS, name, region)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("reading DynamoDB global table upgrade prerequisites (%s, %s)", name, region),
			gatherErrorDetail(err, name, region))
		return
	}
	mode := upgrade.CapacityOnDemand
	if v := m.RemediationCapacityMode.ValueString(); v != "" {
		mode = upgrade.CapacityMode(v)
	}
	m.Region = types.StringValue(region)
	m.ReplicaRegions = stringList(facts.RegionNames())
	m.UpgradeNeeded = types.BoolValue(facts.Legacy)
	m.Prerequisites = []preflightCheckModel{}
	m.Remediation = stringList(nil)
	m.Instructions = types.StringValue("")
	if !facts.Legacy {
		m.Version = types.StringValue(ddb.VersionCurrent)
		m.Ready = types.BoolValue(true)
		m.ReadyAfterRemediation = types.BoolValue(true)
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
		return
	}
	checks := upgrade.Evaluate(facts, m.AcknowledgeReplicationAttributesRemoval.ValueBool())
	m.Version = types.StringValue(ddb.VersionLegacy)
	m.Ready = types.BoolValue(len(upgrade.Failed(checks)) == 0)
	m.ReadyAfterRemediation = types.BoolValue(len(upgrade.Unfixable(checks)) == 0)
	for _, c := range checks {
		m.Prerequisites = append(m.Prerequisites, preflightCheckModel{
			Name: types.StringValue(c.Name), Title: types.StringValue(c.Title), Passed: types.BoolValue(c.Passed),
			Fixable: types.BoolValue(c.Fixable), Detail: types.StringValue(c.Detail), Guidance: types.StringValue(c.Guidance),
		})
	}
	var lines []string
	for _, a := range upgrade.PlanRemediation(facts, checks, mode) {
		lines = append(lines, a.String())
	}
	m.Remediation = stringList(lines)
	m.Instructions = types.StringValue(upgrade.Instructions(facts))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

type upgradePreflightModel struct {
	GlobalTableName                         types.String          `tfsdk:"global_table_name"`
	Region                                  types.String          `tfsdk:"region"`
	AcknowledgeReplicationAttributesRemoval types.Bool            `tfsdk:"acknowledge_replication_attributes_removal"`
	RemediationCapacityMode                 types.String          `tfsdk:"remediation_capacity_mode"`
	Version                                 types.String          `tfsdk:"version"`
	UpgradeNeeded                           types.Bool            `tfsdk:"upgrade_needed"`
	ReplicaRegions                          types.List            `tfsdk:"replica_regions"`
	Ready                                   types.Bool            `tfsdk:"ready"`
	ReadyAfterRemediation                   types.Bool            `tfsdk:"ready_after_remediation"`
	Prerequisites                           []preflightCheckModel `tfsdk:"prerequisites"`
	Remediation                             types.List            `tfsdk:"remediation"`
	Instructions                            types.String          `tfsdk:"instructions"`
}

type preflightCheckModel struct {
	Name     types.String `tfsdk:"name"`
	Title    types.String `tfsdk:"title"`
	Passed   types.Bool   `tfsdk:"passed"`
	Fixable  types.Bool   `tfsdk:"fixable"`
	Detail   types.String `tfsdk:"detail"`
	Guidance types.String `tfsdk:"guidance"`
}
