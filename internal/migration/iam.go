package migration

import "strings"

// Permission is what a migration needs on one resource: the IAM actions, each
// with when it is used.
type Permission struct {
	Resource string   // "source table", "source stream", "target table", "checkpoint table"
	Actions  []Action // sorted by name
}

// Action is one IAM action and when the migration calls it.
type Action struct {
	Name string // e.g. "dynamodb:Scan"
	When string // empty: always
}

// Permissions is every IAM action a migration's engine calls, per resource
// (TestIAMPermissionsMatchCalls records the calls of runs through every path
// against the emulator and compares them with this list, both ways). The
// Terraform resource calls DescribeTable on the source and target tables and
// the engine's Scan (Limit 1) on the target at plan time, both listed here.
//
// A TransactWriteItems call is authorized per item, as dynamodb:PutItem,
// UpdateItem, DeleteItem or ConditionCheckItem on the item's table (AWS:
// "Using IAM policies with DynamoDB transactions"); there is no
// dynamodb:TransactWriteItems action to grant. The stream actions apply to the
// stream's ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/SOURCE/stream/*).
func Permissions() []Permission {
	return []Permission{
		{Resource: "source table", Actions: []Action{
			{Name: "dynamodb:BatchGetItem", When: "full verification, and streams without new images: KEYS_ONLY, OLD_IMAGE"},
			{Name: "dynamodb:DescribeTable"},
			{Name: "dynamodb:Scan"},
			{Name: "dynamodb:UpdateTable", When: "only when the source's stream is off and the migration enables it"},
		}},
		{Resource: "source stream", Actions: []Action{
			{Name: "dynamodb:DescribeStream"},
			{Name: "dynamodb:GetRecords"},
			{Name: "dynamodb:GetShardIterator"},
		}},
		{Resource: "target table", Actions: []Action{
			{Name: "dynamodb:BatchGetItem", When: "full verification"},
			{Name: "dynamodb:BatchWriteItem", When: "replay hand-off, and overwrite_target"},
			{Name: "dynamodb:DeleteItem"},
			{Name: "dynamodb:DescribeTable"},
			{Name: "dynamodb:PutItem"},
			{Name: "dynamodb:Scan"},
			{Name: "dynamodb:UpdateItem", When: "version_attribute with the insert_if_absent hand-off: removes the marks of streamed writes after the backfill"},
		}},
		{Resource: "checkpoint table", Actions: []Action{
			{Name: "dynamodb:ConditionCheckItem"},
			{Name: "dynamodb:CreateTable", When: "only when the checkpoint table does not exist yet"},
			{Name: "dynamodb:DeleteItem"},
			{Name: "dynamodb:DescribeTable"},
			{Name: "dynamodb:GetItem"},
			{Name: "dynamodb:PutItem"},
			{Name: "dynamodb:Query"},
			{Name: "dynamodb:UpdateItem"},
		}},
	}
}

// PermissionsMarkdown is Permissions as a Markdown list, for the docs.
func PermissionsMarkdown() string {
	var b strings.Builder
	for _, p := range Permissions() {
		b.WriteString("- " + p.Resource + ": ")
		for i, a := range p.Actions {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + a.Name + "`")
			if a.When != "" {
				b.WriteString(" (" + a.When + ")")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
