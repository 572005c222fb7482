// Package awsclient turns the provider configuration into AWS SDK clients.
//
// Credentials are resolved the way the AWS provider resolves them (through
// hashicorp/aws-sdk-go-base/v2): static keys, profile and shared files, environment,
// container and instance roles, then an optional assumed role. Clients are made on
// first use and kept, one per Region and service.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	awsbase "github.com/hashicorp/aws-sdk-go-base/v2"
	basediag "github.com/hashicorp/aws-sdk-go-base/v2/diag"
)

// DefaultMaxRetries is the number of attempts an SDK call makes before giving up, when
// the configuration does not say.
const DefaultMaxRetries = 25

// MaxIdleConnsPerHost is how many idle connections a client keeps per endpoint:
// more than a migration ever has in flight to one (up to 32 × its write
// concurrency of single-item writes, 512 by default, plus its scans and
// batches), so that a steady load reuses its connections as requests finish
// instead of opening (on AWS, TLS-handshaking) new ones. The SDK keeps 10.
const MaxIdleConnsPerHost = 1024

// maxBackoff caps the delay between two attempts of one SDK call.
const maxBackoff = 20 * time.Second

// Endpoints override service URLs, for local emulators and private endpoints. Empty
// fields fall back to AWS_ENDPOINT_URL_<SERVICE> and then to AWS's own endpoints.
type Endpoints struct {
	DynamoDB               string
	DynamoDBStreams        string
	ApplicationAutoScaling string
	KMS                    string
	STS                    string
}

// AssumeRole describes a role to assume after the base credentials are resolved.
type AssumeRole struct {
	RoleARN     string
	SessionName string
	ExternalID  string
	Duration    time.Duration
}

// Config is the provider configuration, already validated for shape.
type Config struct {
	Region                    string
	Profile                   string
	AccessKey                 string
	SecretKey                 string
	Token                     string
	SharedConfigFiles         []string
	SharedCredentialsFiles    []string
	AssumeRole                *AssumeRole
	Endpoints                 Endpoints
	MaxRetries                int
	SkipCredentialsValidation bool
	// UserAgent is appended to the SDK's User-Agent, e.g. "terraform-provider-ddbglobal/1.2.3".
	UserAgent awsbase.UserAgentProducts
}

// Client hands out SDK clients for any Region.
type Client struct {
	cfg       aws.Config
	endpoints Endpoints

	mu          sync.Mutex
	dynamo      map[string]*dynamodb.Client
	streams     map[string]*dynamodbstreams.Client
	autoscaling map[string]*applicationautoscaling.Client
	kms         map[string]*kms.Client

	accountOnce sync.Once
	account     string
	accountErr  error
}

// ValidateEndpoint reports whether s is an absolute http(s) URL.
func ValidateEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http:// or https:// URL", s)
	}
	return nil
}

// New resolves credentials and the default Region. It fails when credentials cannot be
// found or, unless SkipCredentialsValidation, when STS does not accept them.
func New(ctx context.Context, c Config) (*Client, error) {
	if c.MaxRetries < 0 {
		return nil, fmt.Errorf("max_retries must be 0 or more, got %d", c.MaxRetries)
	}
	for name, e := range map[string]string{"dynamodb": c.Endpoints.DynamoDB, "dynamodbstreams": c.Endpoints.DynamoDBStreams, "applicationautoscaling": c.Endpoints.ApplicationAutoScaling, "kms": c.Endpoints.KMS, "sts": c.Endpoints.STS} {
		if e == "" {
			continue
		}
		if err := ValidateEndpoint(e); err != nil {
			return nil, fmt.Errorf("endpoints.%s: %w", name, err)
		}
	}
	maxRetries := c.MaxRetries
	if maxRetries == 0 {
		maxRetries = DefaultMaxRetries
	}
	base := &awsbase.Config{
		Region:                 c.Region,
		Profile:                c.Profile,
		AccessKey:              c.AccessKey,
		SecretKey:              c.SecretKey,
		Token:                  c.Token,
		SharedConfigFiles:      c.SharedConfigFiles,
		SharedCredentialsFiles: c.SharedCredentialsFiles,
		MaxRetries:             maxRetries,
		MaxBackoff:             maxBackoff,
		SkipCredsValidation:    c.SkipCredentialsValidation,
		// No account id is needed, and asking for it costs an STS/IAM call per configure.
		SkipRequestingAccountId: true,
		StsEndpoint:             c.Endpoints.STS,
		CallerName:              "DynamoDB global tables provider",
		CallerDocumentationURL:  "https://registry.terraform.io/providers/ddbglobal/ddbglobal/latest/docs",
		UserAgent:               c.UserAgent,
		// TokenBucketRateLimiterCapacity stays 0: aws-sdk-go-base then turns the SDK's
		// client-side retry quota off, so many parallel waiters never see "retry quota exceeded".
	}
	if c.AssumeRole != nil {
		base.AssumeRole = []awsbase.AssumeRole{{
			RoleARN:     c.AssumeRole.RoleARN,
			SessionName: c.AssumeRole.SessionName,
			ExternalID:  c.AssumeRole.ExternalID,
			Duration:    c.AssumeRole.Duration,
		}}
	}
	_, cfg, diags := awsbase.GetAwsConfig(ctx, base)
	if err := diagsError(diags); err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New(`no Region: set "region" in the provider block, or AWS_REGION, or a region in the shared config profile`)
	}
	cfg.HTTPClient = KeepConnections(cfg.HTTPClient)
	return newClient(cfg, c.Endpoints), nil
}

// KeepConnections returns c (nil: the SDK's default client) keeping up to
// MaxIdleConnsPerHost idle connections per endpoint. A client the SDK did not
// build is returned as it is.
func KeepConnections(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	bc, ok := c.(*awshttp.BuildableClient)
	if !ok {
		return c
	}
	return bc.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 0 // no limit across endpoints
		t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	})
}

func newClient(cfg aws.Config, endpoints Endpoints) *Client {
	return &Client{
		cfg:         cfg,
		endpoints:   endpoints,
		dynamo:      map[string]*dynamodb.Client{},
		streams:     map[string]*dynamodbstreams.Client{},
		autoscaling: map[string]*applicationautoscaling.Client{},
		kms:         map[string]*kms.Client{},
	}
}

func diagsError(diags basediag.Diagnostics) error {
	var errs []error
	for _, d := range diags.Errors() {
		errs = append(errs, fmt.Errorf("%s: %s", d.Summary(), d.Detail()))
	}
	return errors.Join(errs...)
}

// Region is the default Region.
func (c *Client) Region() string { return c.cfg.Region }

// Config is the resolved SDK configuration (credentials, retryer, default Region).
func (c *Client) Config() aws.Config { return c.cfg }

func (c *Client) region(r string) string {
	if r == "" {
		return c.cfg.Region
	}
	return r
}

// cached returns m[region], making it with mk on first use.
func cached[T any](c *Client, m map[string]*T, region string, mk func() *T) *T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := m[region]; ok {
		return v
	}
	v := mk()
	m[region] = v
	return v
}

// DynamoDB is the DynamoDB client for a Region ("" = the default Region).
func (c *Client) DynamoDB(region string) *dynamodb.Client {
	region = c.region(region)
	return cached(c, c.dynamo, region, func() *dynamodb.Client {
		return dynamodb.NewFromConfig(c.cfg, func(o *dynamodb.Options) {
			o.Region = region
			if c.endpoints.DynamoDB != "" {
				o.BaseEndpoint = aws.String(c.endpoints.DynamoDB)
			}
		})
	})
}

// Streams is the DynamoDB Streams client for a Region ("" = the default Region).
func (c *Client) Streams(region string) *dynamodbstreams.Client {
	region = c.region(region)
	return cached(c, c.streams, region, func() *dynamodbstreams.Client {
		return dynamodbstreams.NewFromConfig(c.cfg, func(o *dynamodbstreams.Options) {
			o.Region = region
			if c.endpoints.DynamoDBStreams != "" {
				o.BaseEndpoint = aws.String(c.endpoints.DynamoDBStreams)
			}
		})
	})
}

// AutoScaling is the Application Auto Scaling client for a Region ("" = the default Region).
func (c *Client) AutoScaling(region string) *applicationautoscaling.Client {
	region = c.region(region)
	return cached(c, c.autoscaling, region, func() *applicationautoscaling.Client {
		return applicationautoscaling.NewFromConfig(c.cfg, func(o *applicationautoscaling.Options) {
			o.Region = region
			if c.endpoints.ApplicationAutoScaling != "" {
				o.BaseEndpoint = aws.String(c.endpoints.ApplicationAutoScaling)
			}
		})
	})
}

// KMS is the KMS client for a Region ("" = the default Region); the provider only
// describes keys with it.
func (c *Client) KMS(region string) *kms.Client {
	region = c.region(region)
	return cached(c, c.kms, region, func() *kms.Client {
		return kms.NewFromConfig(c.cfg, func(o *kms.Options) {
			o.Region = region
			if c.endpoints.KMS != "" {
				o.BaseEndpoint = aws.String(c.endpoints.KMS)
			}
		})
	})
}

// accountLookupTimeout bounds the one GetCallerIdentity call AccountID makes, so that
// an unreachable STS (a local endpoint without it, say) delays nothing for long.
const accountLookupTimeout = 15 * time.Second

// AccountID is the AWS account of the credentials, from STS GetCallerIdentity, asked at
// most once per client (the answer, or the error, is kept).
func (c *Client) AccountID(ctx context.Context) (string, error) {
	c.accountOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, accountLookupTimeout)
		defer cancel()
		out, err := c.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
			o.RetryMaxAttempts = 3
		})
		switch {
		case err != nil:
			c.accountErr = fmt.Errorf("STS GetCallerIdentity: %w", err)
		case aws.ToString(out.Account) == "":
			c.accountErr = errors.New("STS GetCallerIdentity returned no account")
		default:
			c.account = aws.ToString(out.Account)
		}
	})
	return c.account, c.accountErr
}

func (c *Client) sts() *sts.Client {
	return sts.NewFromConfig(c.cfg, func(o *sts.Options) {
		if c.endpoints.STS != "" {
			o.BaseEndpoint = aws.String(c.endpoints.STS)
		}
	})
}

// AssumingRole returns a Client whose credentials come from assuming roleARN with this
// client's credentials (for a migration side in another account). An empty roleARN
// returns c itself.
func (c *Client) AssumingRole(roleARN, sessionName string) *Client {
	if roleARN == "" {
		return c
	}
	cfg := c.cfg.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c.sts(), roleARN, func(o *stscreds.AssumeRoleOptions) {
		if sessionName != "" {
			o.RoleSessionName = sessionName
		}
	}))
	return newClient(cfg, c.endpoints)
}
