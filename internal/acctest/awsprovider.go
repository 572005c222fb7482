package acctest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
)

// The test-only "aws" provider: the part of hashicorp/aws's aws_dynamodb_table that the
// acceptance tests need (name, keys, attributes, billing, stream, deletion protection),
// backed by the same DynamoDB endpoint as the tests. It lets the tests write HCL the way
// users do — a base table and ddbglobal resources composed in one configuration, one
// apply — without the public registry. Attribute names and defaults follow the AWS
// provider's resource (internal/service/dynamodb/table.go: billing_mode defaults to
// PROVISIONED; replica is a set managed elsewhere here, so only accepted for
// lifecycle.ignore_changes).
//
// With no endpoints block, the provider talks to the tests' backend; region defaults to
// Region. Terraform reattaches every configuration of an in-process provider (aliases
// included) to one server, so the last configured Region would win for all of them:
// tables therefore take the per-resource region argument (as hashicorp/aws 6 does)
// rather than provider aliases.

func newAWSProvider() provider.Provider { return &awsProvider{} }

type awsProvider struct{}

type awsProviderModel struct {
	Region                    types.String          `tfsdk:"region"`
	AccessKey                 types.String          `tfsdk:"access_key"`
	SecretKey                 types.String          `tfsdk:"secret_key"`
	SkipCredentialsValidation types.Bool            `tfsdk:"skip_credentials_validation"`
	SkipRequestingAccountID   types.Bool            `tfsdk:"skip_requesting_account_id"`
	SkipMetadataAPICheck      types.Bool            `tfsdk:"skip_metadata_api_check"`
	Endpoints                 []awsEndpointsModel   `tfsdk:"endpoints"`
	DefaultTags               []awsDefaultTagsModel `tfsdk:"default_tags"`
}

type awsEndpointsModel struct {
	DynamoDB types.String `tfsdk:"dynamodb"`
}

type awsDefaultTagsModel struct {
	Tags types.Map `tfsdk:"tags"`
}

func (p *awsProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "aws"
}

func (p *awsProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{
		Attributes: map[string]pschema.Attribute{
			"region":                      pschema.StringAttribute{Optional: true},
			"access_key":                  pschema.StringAttribute{Optional: true, Sensitive: true},
			"secret_key":                  pschema.StringAttribute{Optional: true, Sensitive: true},
			"skip_credentials_validation": pschema.BoolAttribute{Optional: true},
			"skip_requesting_account_id":  pschema.BoolAttribute{Optional: true},
			"skip_metadata_api_check":     pschema.BoolAttribute{Optional: true},
		},
		Blocks: map[string]pschema.Block{
			"endpoints": pschema.ListNestedBlock{NestedObject: pschema.NestedBlockObject{Attributes: map[string]pschema.Attribute{
				"dynamodb": pschema.StringAttribute{Optional: true},
			}}},
			"default_tags": pschema.ListNestedBlock{NestedObject: pschema.NestedBlockObject{Attributes: map[string]pschema.Attribute{
				"tags": pschema.MapAttribute{Optional: true, ElementType: types.StringType},
			}}},
		},
	}
}

func (p *awsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m awsProviderModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := awsclient.Config{Region: Region, SkipCredentialsValidation: true}
	if r := m.Region.ValueString(); r != "" {
		cfg.Region = r
	}
	if !RealAWS() {
		cfg.AccessKey, cfg.SecretKey = localAccessKey, localSecretKey
		cfg.Endpoints.DynamoDB = backend.Endpoint
	}
	if m.AccessKey.ValueString() != "" {
		cfg.AccessKey, cfg.SecretKey = m.AccessKey.ValueString(), m.SecretKey.ValueString()
	}
	if len(m.Endpoints) == 1 && m.Endpoints[0].DynamoDB.ValueString() != "" {
		cfg.Endpoints.DynamoDB = m.Endpoints[0].DynamoDB.ValueString()
	}
	c, err := awsclient.New(ctx, cfg)
	if err != nil {
		resp.Diagnostics.AddError("configuring the test aws provider", err.Error())
		return
	}
	resp.ResourceData = c
}

func (p *awsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &awsTable{} }, func() resource.Resource { return &awsResourcePolicy{} }}
}

func (p *awsProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

type awsTable struct{ client *awsclient.Client }

type awsTableModel struct {
	ID                        types.String     `tfsdk:"id"`
	Region                    types.String     `tfsdk:"region"`
	Name                      types.String     `tfsdk:"name"`
	HashKey                   types.String     `tfsdk:"hash_key"`
	RangeKey                  types.String     `tfsdk:"range_key"`
	BillingMode               types.String     `tfsdk:"billing_mode"`
	ReadCapacity              types.Int64      `tfsdk:"read_capacity"`
	WriteCapacity             types.Int64      `tfsdk:"write_capacity"`
	StreamEnabled             types.Bool       `tfsdk:"stream_enabled"`
	StreamViewType            types.String     `tfsdk:"stream_view_type"`
	DeletionProtectionEnabled types.Bool       `tfsdk:"deletion_protection_enabled"`
	Attributes                []awsAttrModel   `tfsdk:"attribute"`
	GSIs                      []awsGSIModel    `tfsdk:"global_secondary_index"`
	Replicas                  []awsReplicaStub `tfsdk:"replica"`
	ARN                       types.String     `tfsdk:"arn"`
	StreamARN                 types.String     `tfsdk:"stream_arn"`
}

type awsAttrModel struct {
	Name types.String `tfsdk:"name"`
	Type types.String `tfsdk:"type"`
}

type awsGSIModel struct {
	Name           types.String `tfsdk:"name"`
	HashKey        types.String `tfsdk:"hash_key"`
	ProjectionType types.String `tfsdk:"projection_type"`
	ReadCapacity   types.Int64  `tfsdk:"read_capacity"`
	WriteCapacity  types.Int64  `tfsdk:"write_capacity"`
}

type awsReplicaStub struct {
	RegionName types.String `tfsdk:"region_name"`
}

func (t *awsTable) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dynamodb_table"
}

func (t *awsTable) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"region": schema.StringAttribute{Optional: true, Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()}},
			"name":      schema.StringAttribute{Required: true, PlanModifiers: replace},
			"hash_key":  schema.StringAttribute{Required: true, PlanModifiers: replace},
			"range_key": schema.StringAttribute{Optional: true, PlanModifiers: replace},
			"billing_mode": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: replace,
				Default: stringdefault.StaticString(string(ddbtypes.BillingModeProvisioned))},
			"read_capacity":    schema.Int64Attribute{Optional: true},
			"write_capacity":   schema.Int64Attribute{Optional: true},
			"stream_enabled":   schema.BoolAttribute{Optional: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}},
			"stream_view_type": schema.StringAttribute{Optional: true, PlanModifiers: replace},
			"deletion_protection_enabled": schema.BoolAttribute{Optional: true, Computed: true,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()}},
			"arn":        schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"stream_arn": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		},
		Blocks: map[string]schema.Block{
			"attribute": schema.SetNestedBlock{
				PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true},
					"type": schema.StringAttribute{Required: true},
				}},
			},
			"global_secondary_index": schema.SetNestedBlock{
				PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name":            schema.StringAttribute{Required: true},
					"hash_key":        schema.StringAttribute{Required: true},
					"projection_type": schema.StringAttribute{Required: true},
					"read_capacity":   schema.Int64Attribute{Optional: true},
					"write_capacity":  schema.Int64Attribute{Optional: true},
				}},
			},
			// Replicas are ddbglobal_replica's; the block exists so that configurations can
			// write lifecycle { ignore_changes = [replica] } as they do with hashicorp/aws.
			"replica": schema.SetNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"region_name": schema.StringAttribute{Required: true},
			}}},
		},
	}
}

func (t *awsTable) Configure(_ context.Context, req resource.ConfigureRequest, _ *resource.ConfigureResponse) {
	if c, ok := req.ProviderData.(*awsclient.Client); ok {
		t.client = c
	}
}

func (t *awsTable) ddb(m awsTableModel) *dynamodb.Client {
	if r := m.Region.ValueString(); r != "" && !m.Region.IsUnknown() {
		return t.client.DynamoDB(r)
	}
	return t.client.DynamoDB(t.client.Region())
}

func (t *awsTable) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m awsTableModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in := &dynamodb.CreateTableInput{
		TableName:                 aws.String(m.Name.ValueString()),
		BillingMode:               ddbtypes.BillingMode(m.BillingMode.ValueString()),
		KeySchema:                 []ddbtypes.KeySchemaElement{{AttributeName: aws.String(m.HashKey.ValueString()), KeyType: ddbtypes.KeyTypeHash}},
		DeletionProtectionEnabled: aws.Bool(m.DeletionProtectionEnabled.ValueBool()),
	}
	if m.RangeKey.ValueString() != "" {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(m.RangeKey.ValueString()), KeyType: ddbtypes.KeyTypeRange})
	}
	for _, a := range m.Attributes {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.Name.ValueString()), AttributeType: ddbtypes.ScalarAttributeType(a.Type.ValueString())})
	}
	provisioned := in.BillingMode == ddbtypes.BillingModeProvisioned
	if provisioned {
		in.ProvisionedThroughput = &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(m.ReadCapacity.ValueInt64()), WriteCapacityUnits: aws.Int64(m.WriteCapacity.ValueInt64())}
	}
	for _, g := range m.GSIs {
		gsi := ddbtypes.GlobalSecondaryIndex{
			IndexName:  aws.String(g.Name.ValueString()),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String(g.HashKey.ValueString()), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(g.ProjectionType.ValueString())},
		}
		if provisioned {
			gsi.ProvisionedThroughput = &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(g.ReadCapacity.ValueInt64()), WriteCapacityUnits: aws.Int64(g.WriteCapacity.ValueInt64())}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	if m.StreamEnabled.ValueBool() {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(m.StreamViewType.ValueString())}
	}
	if _, err := t.ddb(m).CreateTable(ctx, in); err != nil {
		resp.Diagnostics.AddError("creating DynamoDB table", err.Error())
		return
	}
	w := dynamodb.NewTableExistsWaiter(t.ddb(m), func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 2*time.Minute)
	if err != nil {
		resp.Diagnostics.AddError("waiting for DynamoDB table", err.Error())
		return
	}
	fillTable(&m, out.Table)
	m.Region = types.StringValue(t.regionOf(m))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (t *awsTable) regionOf(m awsTableModel) string {
	if r := m.Region.ValueString(); r != "" && !m.Region.IsUnknown() {
		return r
	}
	return t.client.Region()
}

func fillTable(m *awsTableModel, d *ddbtypes.TableDescription) {
	m.ID = types.StringValue(aws.ToString(d.TableName))
	m.ARN = types.StringValue(aws.ToString(d.TableArn))
	m.StreamARN = types.StringValue(aws.ToString(d.LatestStreamArn))
	m.DeletionProtectionEnabled = types.BoolValue(aws.ToBool(d.DeletionProtectionEnabled))
}

func (t *awsTable) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m awsTableModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := t.ddb(m).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(m.Name.ValueString())})
	var nf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("reading DynamoDB table", err.Error())
		return
	}
	fillTable(&m, out.Table)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (t *awsTable) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m awsTableModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.DeletionProtectionEnabled.IsUnknown() {
		if _, err := t.ddb(m).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(m.Name.ValueString()),
			DeletionProtectionEnabled: aws.Bool(m.DeletionProtectionEnabled.ValueBool())}); err != nil {
			resp.Diagnostics.AddError("updating DynamoDB table", err.Error())
			return
		}
	}
	out, err := t.ddb(m).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(m.Name.ValueString())})
	if err != nil {
		resp.Diagnostics.AddError("reading DynamoDB table", err.Error())
		return
	}
	fillTable(&m, out.Table)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (t *awsTable) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m awsTableModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := m.Name
	if _, err := t.ddb(m).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name.ValueString())}); err != nil {
		var nf *ddbtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			resp.Diagnostics.AddError("deleting DynamoDB table", err.Error())
		}
		return
	}
	w := dynamodb.NewTableNotExistsWaiter(t.ddb(m), func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name.ValueString())}, 2*time.Minute); err != nil {
		resp.Diagnostics.AddError("waiting for DynamoDB table deletion", fmt.Sprint(err))
	}
}
