package provider

import (
	"context"
	"fmt"
	"sync"
	"time"

	awsbase "github.com/hashicorp/aws-sdk-go-base/v2"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

var _ provider.Provider = (*ddbglobalProvider)(nil)

// New returns the provider factory for a release version and commit.
func New(version, commit string) func() provider.Provider {
	return func() provider.Provider {
		return &ddbglobalProvider{version: version, commit: commit}
	}
}

type ddbglobalProvider struct {
	version string
	commit  string
}

// Meta is what Configure hands to every resource and data source.
type Meta struct {
	AWS *awsclient.Client
	// Tables shares DescribeTable results between resources during one refresh.
	Tables *ddb.DescribeCache
	// TableLocks serializes replica changes per table inside this provider process.
	TableLocks *ddb.KeyedMutex
	// DefaultTags are the provider block's default_tags, merged into every replica's tags.
	DefaultTags map[string]string
	// upgrades carries what a tainted ddbglobal_version_upgrade recorded (keyed by table
	// and Region) from its Delete to the Create of its replacement, which Terraform
	// runs in the same apply and the same provider process.
	upgrades sync.Map
}

// describeCacheTTL is how long a DescribeTable result is shared: long enough to cover
// one refresh of many resources, short enough to see outside changes on the next one.
const describeCacheTTL = 10 * time.Second

func (p *ddbglobalProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "ddbglobal"
	resp.Version = p.version
}

func (p *ddbglobalProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages DynamoDB global tables declaratively: add Regions to live tables, upgrade " +
			"legacy (2017.11.29) global tables, and migrate live tables without downtime. Credentials are " +
			"resolved as the AWS provider resolves them.",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				MarkdownDescription: "Default AWS Region, e.g. `us-east-1`. Falls back to `AWS_REGION`, " +
					"`AWS_DEFAULT_REGION`, then the shared config profile.",
				Optional:   true,
				Validators: []validator.String{regionValidator()},
			},
			"profile": schema.StringAttribute{
				MarkdownDescription: "Named profile of the shared config and credentials files. Falls back to `AWS_PROFILE`.",
				Optional:            true,
			},
			"shared_config_files": schema.ListAttribute{
				MarkdownDescription: "Shared config files to read instead of `~/.aws/config`.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"shared_credentials_files": schema.ListAttribute{
				MarkdownDescription: "Shared credentials files to read instead of `~/.aws/credentials`.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: "Static access key id. Prefer profiles, environment variables or roles.",
				Optional:            true,
				Sensitive:           true,
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: "Static secret access key.",
				Optional:            true,
				Sensitive:           true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Session token for temporary static credentials.",
				Optional:            true,
				Sensitive:           true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Attempts per AWS call before it fails (retryable errors only). Default %d. "+
					"The client-side retry quota is off, so many parallel waits never exhaust it.", awsclient.DefaultMaxRetries),
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"skip_credentials_validation": schema.BoolAttribute{
				MarkdownDescription: "Skip the STS GetCallerIdentity call that checks the credentials. Useful with local emulators.",
				Optional:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"assume_role": schema.ListNestedBlock{
				MarkdownDescription: "A role to assume after the base credentials are resolved.",
				Validators:          []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"role_arn": schema.StringAttribute{
							MarkdownDescription: "ARN of the role to assume.",
							Required:            true,
							Validators:          []validator.String{arnValidator()},
						},
						"session_name": schema.StringAttribute{
							MarkdownDescription: "Session name recorded in CloudTrail.",
							Optional:            true,
						},
						"external_id": schema.StringAttribute{
							MarkdownDescription: "External id the role's trust policy requires.",
							Optional:            true,
						},
						"duration": schema.StringAttribute{
							MarkdownDescription: "Session duration as a Go duration, e.g. `1h`; between 15m and 12h.",
							Optional:            true,
							Validators:          []validator.String{durationValidator(15*time.Minute, 12*time.Hour)},
						},
					},
				},
			},
			"default_tags": schema.ListNestedBlock{
				MarkdownDescription: "Tags set on every replica this provider manages, as the AWS provider's `default_tags`: " +
					"a replica's own `tags` win over them, and its `tags_all` shows the result.",
				Validators: []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"tags": schema.MapAttribute{
							MarkdownDescription: "The tags (same limits as a replica's `tags`).",
							Optional:            true,
							ElementType:         types.StringType,
							Validators:          tagsValidators(),
						},
					},
				},
			},
			"endpoints": schema.ListNestedBlock{
				MarkdownDescription: "Service URLs to use instead of AWS's, e.g. a local emulator. The " +
					"`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_DYNAMODB_STREAMS`, " +
					"`AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING` and `AWS_ENDPOINT_URL_STS` environment variables work too.",
				Validators: []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"dynamodb":               endpointAttribute("DynamoDB"),
						"dynamodbstreams":        endpointAttribute("DynamoDB Streams"),
						"applicationautoscaling": endpointAttribute("Application Auto Scaling"),
						"kms":                    endpointAttribute("KMS (customer managed keys of replicas are described there)"),
						"sts":                    endpointAttribute("STS"),
					},
				},
			},
		},
	}
}

func endpointAttribute(service string) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "URL of the " + service + " endpoint, e.g. `http://127.0.0.1:8765`.",
		Optional:            true,
		Validators:          []validator.String{endpointValidator()},
	}
}

func (p *ddbglobalProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := awsclient.Config{
		Region:                    m.Region.ValueString(),
		Profile:                   m.Profile.ValueString(),
		AccessKey:                 m.AccessKey.ValueString(),
		SecretKey:                 m.SecretKey.ValueString(),
		Token:                     m.Token.ValueString(),
		MaxRetries:                int(m.MaxRetries.ValueInt64()),
		SkipCredentialsValidation: m.SkipCredentialsValidation.ValueBool(),
		UserAgent: awsbase.UserAgentProducts{
			{Name: "terraform-provider-ddbglobal", Version: p.version, Comment: p.commit},
		},
	}
	resp.Diagnostics.Append(m.SharedConfigFiles.ElementsAs(ctx, &cfg.SharedConfigFiles, false)...)
	resp.Diagnostics.Append(m.SharedCredentialsFiles.ElementsAs(ctx, &cfg.SharedCredentialsFiles, false)...)
	if len(m.AssumeRole) == 1 {
		ar := m.AssumeRole[0]
		cfg.AssumeRole = &awsclient.AssumeRole{
			RoleARN:     ar.RoleARN.ValueString(),
			SessionName: ar.SessionName.ValueString(),
			ExternalID:  ar.ExternalID.ValueString(),
		}
		if d := ar.Duration.ValueString(); d != "" {
			cfg.AssumeRole.Duration, _ = time.ParseDuration(d) // checked by the validator
		}
	}
	if len(m.Endpoints) == 1 {
		e := m.Endpoints[0]
		cfg.Endpoints = awsclient.Endpoints{
			DynamoDB:               e.DynamoDB.ValueString(),
			DynamoDBStreams:        e.DynamoDBStreams.ValueString(),
			ApplicationAutoScaling: e.ApplicationAutoScaling.ValueString(),
			KMS:                    e.KMS.ValueString(),
			STS:                    e.STS.ValueString(),
		}
	}
	defaultTags := map[string]string{}
	if len(m.DefaultTags) == 1 && !m.DefaultTags[0].Tags.IsNull() && !m.DefaultTags[0].Tags.IsUnknown() {
		resp.Diagnostics.Append(m.DefaultTags[0].Tags.ElementsAs(ctx, &defaultTags, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	client, err := awsclient.New(ctx, cfg)
	if err != nil {
		resp.Diagnostics.AddError("configuring the ddbglobal provider",
			err.Error()+"\n\nCheck the provider block (region, profile, credentials, assume_role, endpoints) "+
				"and the AWS_* environment variables.")
		return
	}
	tflog.Info(ctx, "ddbglobal provider configured", map[string]any{"region": client.Region()})
	meta := &Meta{AWS: client, Tables: ddb.NewDescribeCache(describeCacheTTL), TableLocks: &ddb.KeyedMutex{}, DefaultTags: defaultTags}
	resp.DataSourceData = meta
	resp.ResourceData = meta
}

func (p *ddbglobalProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newReplicaResource,
		newLiveMigrationResource,
		newVersionUpgradeResource,
	}
}

func (p *ddbglobalProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newTableDataSource,
		newUpgradePreflightDataSource,
	}
}

// metaFrom extracts Meta in a resource's or data source's Configure. It returns nil
// (without error) before the provider is configured, which the framework does during
// validation.
func metaFrom(providerData any, diags interface {
	AddError(summary, detail string)
}) *Meta {
	if providerData == nil {
		return nil
	}
	m, ok := providerData.(*Meta)
	if !ok {
		diags.AddError("unexpected provider data", fmt.Sprintf("expected *provider.Meta, got %T; please report this issue", providerData))
		return nil
	}
	return m
}

type providerModel struct {
	Region                    types.String       `tfsdk:"region"`
	Profile                   types.String       `tfsdk:"profile"`
	SharedConfigFiles         types.List         `tfsdk:"shared_config_files"`
	SharedCredentialsFiles    types.List         `tfsdk:"shared_credentials_files"`
	AccessKey                 types.String       `tfsdk:"access_key"`
	SecretKey                 types.String       `tfsdk:"secret_key"`
	Token                     types.String       `tfsdk:"token"`
	MaxRetries                types.Int64        `tfsdk:"max_retries"`
	SkipCredentialsValidation types.Bool         `tfsdk:"skip_credentials_validation"`
	AssumeRole                []assumeRoleModel  `tfsdk:"assume_role"`
	Endpoints                 []endpointsModel   `tfsdk:"endpoints"`
	DefaultTags               []defaultTagsModel `tfsdk:"default_tags"`
}

type defaultTagsModel struct {
	Tags types.Map `tfsdk:"tags"`
}

type assumeRoleModel struct {
	RoleARN     types.String `tfsdk:"role_arn"`
	SessionName types.String `tfsdk:"session_name"`
	ExternalID  types.String `tfsdk:"external_id"`
	Duration    types.String `tfsdk:"duration"`
}

type endpointsModel struct {
	DynamoDB               types.String `tfsdk:"dynamodb"`
	DynamoDBStreams        types.String `tfsdk:"dynamodbstreams"`
	ApplicationAutoScaling types.String `tfsdk:"applicationautoscaling"`
	KMS                    types.String `tfsdk:"kms"`
	STS                    types.String `tfsdk:"sts"`
}
