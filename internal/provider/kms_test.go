package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Catches: the read-back ARN replacing a configured key id or alias (Terraform then
// reports "Provider produced inconsistent result" and taints the replica), and a
// changed key going unnoticed.
func TestKMSKeyState(t *testing.T) {
	const id = "1234abcd-12ab-34cd-56ef-1234567890ab"
	const arn = "arn:aws:kms:eu-west-1:123456789012:key/" + id
	const other = "arn:aws:kms:eu-west-1:123456789012:key/ffffffff-12ab-34cd-56ef-1234567890ab"
	cases := []struct {
		name     string
		prior    types.String
		reported string
		want     string
	}{
		{"unset keeps what AWS reports", types.StringNull(), arn, arn},
		{"same ARN", types.StringValue(arn), arn, arn},
		{"key id matches the ARN", types.StringValue(id), arn, id},
		{"key id of another key", types.StringValue(id), other, other},
		{"alias name", types.StringValue("alias/orders"), arn, "alias/orders"},
		{"alias ARN", types.StringValue("arn:aws:kms:eu-west-1:123456789012:alias/orders"), arn, "arn:aws:kms:eu-west-1:123456789012:alias/orders"},
		{"key removed outside Terraform", types.StringValue(arn), "", ""},
		{"ARN of another key", types.StringValue(arn), other, other},
	}
	for _, c := range cases {
		if got := kmsKeyState(c.prior, c.reported).ValueString(); got != c.want {
			t.Errorf("%s: kmsKeyState(%v, %q) = %q, want %q", c.name, c.prior, c.reported, got, c.want)
		}
	}
}

func TestKMSKeyRegion(t *testing.T) {
	for ref, want := range map[string]string{
		"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": "eu-west-1",
		"arn:aws:kms:us-east-2:123456789012:alias/x":                                  "us-east-2",
		"1234abcd-12ab-34cd-56ef-1234567890ab":                                        "",
		"alias/x":                                                                     "",
	} {
		if got := kmsKeyRegion(ref); got != want {
			t.Errorf("kmsKeyRegion(%q) = %q, want %q", ref, got, want)
		}
	}
}
