package provider

import (
	"context"
	"fmt"
	"regexp"
	"time"

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
