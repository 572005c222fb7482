package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// KMS key references DynamoDB accepts in KMSMasterKeyId (SSESpecification / replica
// KMSMasterKeyId, API reference): a key id, a key ARN, an alias name or an alias ARN.
// Multi-Region key ids start with mrk-.
var (
	kmsKeyIDPattern    = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	kmsAliasPattern    = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)
	kmsARNPattern      = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key/([0-9a-f-]{36}|mrk-[0-9a-f]{32})|alias/[a-zA-Z0-9/_-]+)$`)
	kmsKeyARNIDPattern = regexp.MustCompile(`:key/([0-9a-f-]{36}|mrk-[0-9a-f]{32})$`)
)

// kmsKeyRegion is the Region of a KMS key ARN, "" for a key id or an alias name.
func kmsKeyRegion(ref string) string {
	if m := kmsARNPattern.FindStringSubmatch(ref); m != nil {
		return m[1]
	}
	return ""
}

func kmsKeyValidator() validator.String { return kmsKeyRefValidator{} }

type kmsKeyRefValidator struct{}

func (kmsKeyRefValidator) Description(context.Context) string {
	return "must be a KMS key ARN, key id, alias name (alias/...) or alias ARN"
}

func (v kmsKeyRefValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v kmsKeyRefValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if s == "" || kmsKeyIDPattern.MatchString(s) || kmsAliasPattern.MatchString(s) || kmsARNPattern.MatchString(s) {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "invalid KMS key",
		fmt.Sprintf("%s %q %s, e.g. arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab.", req.Path, s, v.Description(ctx)))
}

// kmsKeyState is the value to keep for a replica's key: the prior (configured) value
// when AWS's report names the same key, otherwise what AWS reports. DynamoDB reports
// the key ARN whatever form was given: a key id matches the ARN's key part; an alias
// cannot be resolved without KMS, so any reported key stands for it.
func kmsKeyState(prior types.String, reported string) types.String {
	p := prior.ValueString()
	if prior.IsNull() || prior.IsUnknown() || p == "" || reported == "" || p == reported {
		return types.StringValue(reported)
	}
	if m := kmsKeyARNIDPattern.FindStringSubmatch(reported); m != nil && p == m[1] {
		return prior
	}
	if kmsAliasPattern.MatchString(p) || strings.Contains(p, ":alias/") {
		return prior
	}
	if m := kmsKeyARNIDPattern.FindStringSubmatch(p); m != nil && strings.HasSuffix(reported, ":key/"+m[1]) {
		return prior
	}
	return types.StringValue(reported)
}
