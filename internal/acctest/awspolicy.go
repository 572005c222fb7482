package acctest

import (
	"context"
	"errors"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
)

// aws_dynamodb_resource_policy of the test-only "aws" provider, as hashicorp/aws has
// it (internal/service/dynamodb/resource_policy.go: resource_arn, policy,
// confirm_remove_self_resource_access, revision_id; id is the resource ARN). The
// Region is the resource ARN's.
type awsResourcePolicy struct{ client *awsclient.Client }

type awsResourcePolicyModel struct {
	ID                              types.String `tfsdk:"id"`
	ResourceARN                     types.String `tfsdk:"resource_arn"`
	Policy                          types.String `tfsdk:"policy"`
	ConfirmRemoveSelfResourceAccess types.Bool   `tfsdk:"confirm_remove_self_resource_access"`
	RevisionID                      types.String `tfsdk:"revision_id"`
}

func (p *awsResourcePolicy) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_dynamodb_resource_policy"
}

func (p *awsResourcePolicy) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":                                  schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"resource_arn":                        schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
		"policy":                              schema.StringAttribute{Required: true},
		"confirm_remove_self_resource_access": schema.BoolAttribute{Optional: true},
		"revision_id":                         schema.StringAttribute{Computed: true},
	}}
}

func (p *awsResourcePolicy) Configure(_ context.Context, req resource.ConfigureRequest, _ *resource.ConfigureResponse) {
	if c, ok := req.ProviderData.(*awsclient.Client); ok {
		p.client = c
	}
}

func (p *awsResourcePolicy) ddb(arn string) *dynamodb.Client {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		return p.client.DynamoDB(parts[3])
	}
	return p.client.DynamoDB(p.client.Region())
}

func (p *awsResourcePolicy) put(ctx context.Context, m *awsResourcePolicyModel) error {
	out, err := p.ddb(m.ResourceARN.ValueString()).PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{
		ResourceArn: aws.String(m.ResourceARN.ValueString()), Policy: aws.String(m.Policy.ValueString()),
		ConfirmRemoveSelfResourceAccess: m.ConfirmRemoveSelfResourceAccess.ValueBool(),
	})
	if err != nil {
		return err
	}
	m.ID, m.RevisionID = m.ResourceARN, types.StringValue(aws.ToString(out.RevisionId))
	return nil
}

func (p *awsResourcePolicy) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	p.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

// apply puts the planned policy and records it (Create and Update alike).
func (p *awsResourcePolicy) apply(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var m awsResourcePolicyModel
	diags.Append(plan.Get(ctx, &m)...)
	if diags.HasError() {
		return
	}
	if err := p.put(ctx, &m); err != nil {
		diags.AddError("putting the resource policy", err.Error())
		return
	}
	diags.Append(state.Set(ctx, &m)...)
}

func (p *awsResourcePolicy) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m awsResourcePolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := p.ddb(m.ResourceARN.ValueString()).GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(m.ResourceARN.ValueString())})
	var nf *ddbtypes.ResourceNotFoundException
	var ae smithy.APIError
	if errors.As(err, &nf) || (errors.As(err, &ae) && ae.ErrorCode() == "PolicyNotFoundException") {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("reading the resource policy", err.Error())
		return
	}
	m.Policy, m.RevisionID = types.StringValue(aws.ToString(out.Policy)), types.StringValue(aws.ToString(out.RevisionId))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (p *awsResourcePolicy) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	p.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (p *awsResourcePolicy) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m awsResourcePolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := p.ddb(m.ResourceARN.ValueString()).DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: aws.String(m.ResourceARN.ValueString())})
	var nf *ddbtypes.ResourceNotFoundException
	var ae smithy.APIError
	if err != nil && !errors.As(err, &nf) && !(errors.As(err, &ae) && ae.ErrorCode() == "PolicyNotFoundException") {
		resp.Diagnostics.AddError("deleting the resource policy", err.Error())
	}
}
