package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
)

// regionPattern matches AWS Region names such as us-east-1, eu-central-2, us-gov-west-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

func regionValidator() validator.String {
	return stringvalidator.RegexMatches(regionPattern, "must be an AWS Region name such as us-east-1")
}

var arnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$`)

func arnValidator() validator.String {
	return stringvalidator.RegexMatches(arnPattern, "must be an ARN such as arn:aws:iam::123456789012:role/name")
}

// endpointValidator accepts absolute http(s) URLs.
func endpointValidator() validator.String { return endpointURLValidator{} }

type endpointURLValidator struct{}

func (endpointURLValidator) Description(context.Context) string {
	return "must be an absolute http:// or https:// URL"
}

func (v endpointURLValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (endpointURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := awsclient.ValidateEndpoint(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "invalid endpoint URL",
			fmt.Sprintf("%s: %s. Write it like http://127.0.0.1:8765 or https://dynamodb.us-east-1.amazonaws.com.", req.Path, err))
	}
}

// durationValidator accepts Go durations within [lo, hi].
func durationValidator(lo, hi time.Duration) validator.String {
	return durationRangeValidator{lo: lo, hi: hi}
}

type durationRangeValidator struct{ lo, hi time.Duration }

func (v durationRangeValidator) Description(context.Context) string {
	return fmt.Sprintf("must be a duration such as 1h or 90m, between %s and %s", v.lo, v.hi)
}

func (v durationRangeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v durationRangeValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < v.lo || d > v.hi {
		resp.Diagnostics.AddAttributeError(req.Path, "invalid duration",
			fmt.Sprintf("%s %q %s.", req.Path, req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// tableNamePattern is DynamoDB's rule for table and index names: 3 to 255 of letters,
// digits, underscore, hyphen and period (Amazon DynamoDB Developer Guide, "Supported
// data types and naming rules in Amazon DynamoDB"; the CreateTable API reference's
// TableName and IndexName patterns).
var tableNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

func tableNameValidator() validator.String {
	return stringvalidator.RegexMatches(tableNamePattern,
		"must be a DynamoDB table name: 3 to 255 characters, each a letter, digit, underscore (_), hyphen (-) or period (.)")
}

func indexNameValidator() validator.String {
	return stringvalidator.RegexMatches(tableNamePattern,
		"must be a DynamoDB index name: 3 to 255 characters, each a letter, digit, underscore (_), hyphen (-) or period (.)")
}

// Tag rules of DynamoDB (Amazon DynamoDB Developer Guide, "Tagging restrictions in
// DynamoDB"): at most 50 tags per table, keys of 1 to 128 characters, values of at most
// 256, the aws: prefix reserved for AWS. The characters are those the AWS tagging APIs
// accept (the Resource Groups Tagging API's pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$).
var tagCharsPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

const tagCharsText = "letters, digits, spaces and _ . : / = + - @"

func tagsValidators() []validator.Map {
	return []validator.Map{
		mapvalidator.SizeAtMost(50),
		mapvalidator.KeysAre(
			stringvalidator.LengthBetween(1, 128),
			stringvalidator.RegexMatches(tagCharsPattern, "may contain only "+tagCharsText),
			noAWSPrefix{},
		),
		mapvalidator.ValueStringsAre(
			stringvalidator.LengthAtMost(256),
			stringvalidator.RegexMatches(tagCharsPattern, "may contain only "+tagCharsText),
		),
	}
}

// noAWSPrefix refuses tag keys that start with aws: in any case.
type noAWSPrefix struct{}

func (noAWSPrefix) Description(context.Context) string {
	return "must not start with aws:, which AWS reserves for its own tags"
}

func (v noAWSPrefix) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v noAWSPrefix) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if k := req.ConfigValue.ValueString(); strings.HasPrefix(strings.ToLower(k), "aws:") {
		resp.Diagnostics.AddAttributeError(req.Path, "reserved tag key",
			fmt.Sprintf("Tag key %q %s.", k, v.Description(ctx)))
	}
}
