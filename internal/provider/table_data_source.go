package provider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

var (
	_ datasource.DataSource              = (*tableDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*tableDataSource)(nil)
)

func newTableDataSource() datasource.DataSource { return &tableDataSource{} }

type tableDataSource struct {
	meta *Meta
}

func (d *tableDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_table"
}

func (d *tableDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A DynamoDB table as a global table sees it: its key schema, billing mode and stream, " +
			"the global table version, and every replica with its status.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Table name.",
				Required:            true,
				Validators:          []validator.String{tableNameValidator()},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Region to describe the table in. Defaults to the provider's Region.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{regionValidator()},
			},
			"arn":          schema.StringAttribute{MarkdownDescription: "Table ARN.", Computed: true},
			"status":       schema.StringAttribute{MarkdownDescription: "Table status, e.g. `ACTIVE` or `UPDATING`.", Computed: true},
			"billing_mode": schema.StringAttribute{MarkdownDescription: "`PAY_PER_REQUEST` or `PROVISIONED`.", Computed: true},
			"key_schema": schema.ListNestedAttribute{
				MarkdownDescription: "Primary key: the partition (`HASH`) key, then the sort (`RANGE`) key if any.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"attribute_name": schema.StringAttribute{MarkdownDescription: "Attribute name.", Computed: true},
					"attribute_type": schema.StringAttribute{MarkdownDescription: "`S`, `N` or `B`.", Computed: true},
					"key_type":       schema.StringAttribute{MarkdownDescription: "`HASH` or `RANGE`.", Computed: true},
				}},
			},
			"stream": schema.SingleNestedAttribute{
				MarkdownDescription: "The table's DynamoDB stream.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"enabled":   schema.BoolAttribute{MarkdownDescription: "Whether the stream is on.", Computed: true},
					"view_type": schema.StringAttribute{MarkdownDescription: "`NEW_AND_OLD_IMAGES`, `NEW_IMAGE`, `OLD_IMAGE` or `KEYS_ONLY`; empty when off.", Computed: true},
					"arn":       schema.StringAttribute{MarkdownDescription: "The latest stream's ARN; empty when the table never had a stream.", Computed: true},
				},
			},
			"global_table_version": schema.StringAttribute{
				MarkdownDescription: "`2019.11.21` (current) or `2017.11.29` (legacy); empty for a table with no replicas.",
				Computed:            true,
			},
			"is_legacy_global_table": schema.BoolAttribute{
				MarkdownDescription: "True when the table belongs to a legacy (2017.11.29) global table, which " +
					"`ddbglobal_version_upgrade` upgrades.",
				Computed: true,
			},
			"replicas": schema.ListNestedAttribute{
				MarkdownDescription: "Other Regions holding a replica of this table (current global tables).",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"region":      schema.StringAttribute{MarkdownDescription: "Replica Region.", Computed: true},
					"status":      schema.StringAttribute{MarkdownDescription: "Replica status, e.g. `ACTIVE`, `CREATING`.", Computed: true},
					"kms_key_arn": schema.StringAttribute{MarkdownDescription: "Customer managed KMS key of the replica, if any.", Computed: true},
					"table_class": schema.StringAttribute{MarkdownDescription: "Replica table class, if reported.", Computed: true},
					"account_id": schema.StringAttribute{MarkdownDescription: "AWS account of the replica: another account's for a " +
						"replica of a multi-account global table, else the table's own.", Computed: true},
					"arn": schema.StringAttribute{MarkdownDescription: "ARN of the replica table (DynamoDB's `ReplicaArn` when it " +
						"reports one, else built from the Region and the account).", Computed: true},
				}},
			},
			"consistency_mode": schema.StringAttribute{
				MarkdownDescription: "`STRONG` for a multi-Region strongly consistent (MRSC) global table, `EVENTUAL` for " +
					"another global table (MREC), empty for a table with no replicas.",
				Computed: true,
			},
			"witnesses": schema.ListNestedAttribute{
				MarkdownDescription: "Witness Regions of an MRSC global table (two replicas and a witness).",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"region": schema.StringAttribute{MarkdownDescription: "Witness Region.", Computed: true},
					"status": schema.StringAttribute{MarkdownDescription: "`CREATING`, `ACTIVE` or `DELETING`.", Computed: true},
				}},
			},
			"multi_account": schema.BoolAttribute{
				MarkdownDescription: "True when the table belongs to a multi-account global table (its replicas live in " +
					"other accounts and share every setting).",
				Computed: true,
			},
		},
	}
}

func (d *tableDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.meta = metaFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *tableDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m tableDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := m.Name.ValueString()
	region := m.Region.ValueString()
	if region == "" {
		region = d.meta.AWS.Region()
	}
	ctx = tflog.SetField(ctx, "table_name", name)
	ctx = tflog.SetField(ctx, "region", region)
	summary := fmt.Sprintf("reading DynamoDB table (%s, %s)", name, region)

	client := d.meta.AWS.DynamoDB(region)
	table, err := ddb.FindTableByName(ctx, client, name)
	if ddb.IsNotFound(err) {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("Table %q does not exist in %s. Check the name and the Region "+
			"(the data source's region, else the provider's).", name, region))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	legacy, err := ddb.FindLegacyGlobalTable(ctx, client, name)
	if err != nil && !ddb.IsNotFound(err) {
		resp.Diagnostics.AddError(summary, "checking for a legacy global table: "+err.Error())
		return
	}

	m.Region = types.StringValue(region)
	m.ARN = types.StringValue(aws.ToString(table.TableArn))
	m.Status = types.StringValue(string(table.TableStatus))
	m.BillingMode = types.StringValue(string(awstypes.BillingModeProvisioned))
	if table.BillingModeSummary != nil && table.BillingModeSummary.BillingMode != "" {
		m.BillingMode = types.StringValue(string(table.BillingModeSummary.BillingMode))
	}
	attrTypes := map[string]string{}
	for _, a := range table.AttributeDefinitions {
		attrTypes[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	m.KeySchema = nil
	for _, k := range ddb.OrderedKeySchema(table.KeySchema) {
		name := aws.ToString(k.AttributeName)
		m.KeySchema = append(m.KeySchema, keySchemaModel{
			AttributeName: types.StringValue(name),
			AttributeType: types.StringValue(attrTypes[name]),
			KeyType:       types.StringValue(string(k.KeyType)),
		})
	}
	m.Stream = &streamModel{
		Enabled:  types.BoolValue(false),
		ViewType: types.StringValue(""),
		ARN:      types.StringValue(aws.ToString(table.LatestStreamArn)),
	}
	if s := table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		m.Stream.Enabled = types.BoolValue(true)
		m.Stream.ViewType = types.StringValue(string(s.StreamViewType))
	}
	m.GlobalTableVersion = types.StringValue(aws.ToString(table.GlobalTableVersion))
	m.IsLegacyGlobalTable = types.BoolValue(legacy != nil)
	if legacy != nil && m.GlobalTableVersion.ValueString() == "" {
		m.GlobalTableVersion = types.StringValue(ddb.VersionLegacy)
	}
	m.Replicas = []replicaSummaryModel{}
	replicas := table.Replicas
	if legacy != nil && len(replicas) == 0 {
		// DescribeTable lists no replicas for a legacy member, as AWS documents
		// Replicas for 2019.11.21 tables only: the other members come from
		// DescribeGlobalTable's replication group.
		for _, r := range legacy.ReplicationGroup {
			if aws.ToString(r.RegionName) == region {
				continue
			}
			if r.ReplicaStatus == "" {
				r.ReplicaStatus = awstypes.ReplicaStatus(legacy.GlobalTableStatus)
			}
			replicas = append(replicas, r)
		}
	}
	for _, r := range replicas {
		rm := replicaSummaryModel{
			Region:     types.StringValue(aws.ToString(r.RegionName)),
			Status:     types.StringValue(string(r.ReplicaStatus)),
			KMSKeyARN:  types.StringValue(aws.ToString(r.KMSMasterKeyId)),
			TableClass: types.StringValue(""),
		}
		if r.ReplicaTableClassSummary != nil {
			rm.TableClass = types.StringValue(string(r.ReplicaTableClassSummary.TableClass))
		}
		rm.AccountID, rm.ARN = replicaAccountAndARN(table, r) // replica_accounts.go
		m.Replicas = append(m.Replicas, rm)
	}
	m.ConsistencyMode, m.Witnesses, m.MultiAccount = globalModeOf(table, legacy != nil) // replica_accounts.go
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

type tableDataSourceModel struct {
	Name                types.String          `tfsdk:"name"`
	Region              types.String          `tfsdk:"region"`
	ARN                 types.String          `tfsdk:"arn"`
	Status              types.String          `tfsdk:"status"`
	BillingMode         types.String          `tfsdk:"billing_mode"`
	KeySchema           []keySchemaModel      `tfsdk:"key_schema"`
	Stream              *streamModel          `tfsdk:"stream"`
	GlobalTableVersion  types.String          `tfsdk:"global_table_version"`
	IsLegacyGlobalTable types.Bool            `tfsdk:"is_legacy_global_table"`
	Replicas            []replicaSummaryModel `tfsdk:"replicas"`
	ConsistencyMode     types.String          `tfsdk:"consistency_mode"`
	Witnesses           []witnessModel        `tfsdk:"witnesses"`
	MultiAccount        types.Bool            `tfsdk:"multi_account"`
}

type keySchemaModel struct {
	AttributeName types.String `tfsdk:"attribute_name"`
	AttributeType types.String `tfsdk:"attribute_type"`
	KeyType       types.String `tfsdk:"key_type"`
}

type streamModel struct {
	Enabled  types.Bool   `tfsdk:"enabled"`
	ViewType types.String `tfsdk:"view_type"`
	ARN      types.String `tfsdk:"arn"`
}

type replicaSummaryModel struct {
	Region     types.String `tfsdk:"region"`
	Status     types.String `tfsdk:"status"`
	KMSKeyARN  types.String `tfsdk:"kms_key_arn"`
	TableClass types.String `tfsdk:"table_class"`
	AccountID  types.String `tfsdk:"account_id"`
	ARN        types.String `tfsdk:"arn"`
}
