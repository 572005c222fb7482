package migration

import "strings"

// Permission is what a migration needs on one resource: the IAM actions, each
// with when it is used.
type Permission struct {
	Resource string   // "source table", "source stream", "source backup", "target table", "checkpoint table"
	Actions  []Action // sorted by name
}

// Action is one IAM action and when the migration calls it.
type Action struct {
	Name   string // e.g. "dynamodb:Scan"
	When   string // empty: always
	Runner bool   // a sync runner (ddbglobal-sync) calls it too, not only the Terraform resource
	// RunnerWhen is when a runner calls it, where that is narrower than When.
	RunnerWhen string
}

// byRunner and restoreWrites are the reasons the restore actions carry: with
// sync = external a runner may do the restore, and the restore writes the
// target with the caller's permissions (see Permissions).
const (
	byRunner      = "backfill.method = restore with sync = external: a runner may do the restore"
	restoreWrites = "DynamoDB's restore writes the target with the caller's permissions"
)

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
//
// A restore migration (Config.Backfill = BackfillRestore, restore.go) also
// calls the backup and restore actions: on the source table
// DescribeContinuousBackups, then RestoreTableToPointInTime (point-in-time
// recovery) or CreateBackup; on the on-demand backup, whose ARN is
// arn:aws:dynamodb:REGION:ACCOUNT:table/SOURCE/backup/*, DescribeBackup and
// RestoreTableFromBackup. DynamoDB's restore writes the target table with the
// caller's permissions: "RestoreTableFromBackup permissions are necessary on
// the source backup, and DynamoDB read and write permissions on the target
// table are necessary for restore functionality. RestoreTableToPointInTime
// permissions are necessary on the source table, and DynamoDB read and write
// permissions on the target table are necessary" (AWS: "Using IAM with
// DynamoDB backup and restore",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html,
// whose example grants dynamodb:PutItem, UpdateItem, DeleteItem, GetItem,
// Query, Scan and BatchWriteItem on the target). Those item actions are listed
// on the target table, GetItem and Query for the restore alone. With sync =
// external the resource leaves the backfill, and so the restore, to the sync
// runners (whichever worker takes it), so all of these are Runner actions too.
func Permissions() []Permission {
	return []Permission{
		{Resource: "source table", Actions: []Action{
			{Name: "dynamodb:BatchGetItem", When: "full verification, and streams without new images: KEYS_ONLY, OLD_IMAGE",
				Runner: true, RunnerWhen: "streams without new images: KEYS_ONLY, OLD_IMAGE"},
			{Name: "dynamodb:CreateBackup", When: "backfill.method = restore, source without point-in-time recovery: the on-demand backup",
				Runner: true, RunnerWhen: byRunner + "; source without point-in-time recovery: the on-demand backup"},
			{Name: "dynamodb:DescribeContinuousBackups", When: "backfill.method = restore: whether the source has point-in-time recovery",
				Runner: true, RunnerWhen: byRunner + "; whether the source has point-in-time recovery"},
			{Name: "dynamodb:DescribeTable", Runner: true},
			{Name: "dynamodb:RestoreTableToPointInTime", When: "backfill.method = restore, source with point-in-time recovery",
				Runner: true, RunnerWhen: byRunner + "; source with point-in-time recovery"},
			{Name: "dynamodb:Scan", Runner: true},
			{Name: "dynamodb:UpdateTable", When: "only when the source's stream is off and the migration enables it"},
		}},
		{Resource: "source stream", Actions: []Action{
			{Name: "dynamodb:DescribeStream", Runner: true},
			{Name: "dynamodb:GetRecords", Runner: true},
			{Name: "dynamodb:GetShardIterator", Runner: true},
		}},
		{Resource: "source backup", Actions: []Action{
			{Name: "dynamodb:DescribeBackup", When: "backfill.method = restore, source without point-in-time recovery",
				Runner: true, RunnerWhen: byRunner + "; source without point-in-time recovery"},
			{Name: "dynamodb:RestoreTableFromBackup", When: "backfill.method = restore, source without point-in-time recovery",
				Runner: true, RunnerWhen: byRunner + "; source without point-in-time recovery"},
		}},
		{Resource: "target table", Actions: []Action{
			{Name: "dynamodb:BatchGetItem", When: "full verification"},
			{Name: "dynamodb:BatchWriteItem", When: "replay hand-off, overwrite_target, and backfill.method = restore", Runner: true, RunnerWhen: "replay hand-off, and " + byRunner},
			{Name: "dynamodb:DeleteItem", Runner: true},
			{Name: "dynamodb:DescribeTable", Runner: true},
			{Name: "dynamodb:GetItem", When: "backfill.method = restore: " + restoreWrites,
				Runner: true, RunnerWhen: byRunner + "; " + restoreWrites},
			{Name: "dynamodb:PutItem", Runner: true},
			{Name: "dynamodb:Query", When: "backfill.method = restore: " + restoreWrites,
				Runner: true, RunnerWhen: byRunner + "; " + restoreWrites},
			{Name: "dynamodb:Scan", Runner: true, RunnerWhen: "insert-if-absent hand-off: the tombstone sweep after the backfill; " + byRunner + " and its in-place transform pass"},
			{Name: "dynamodb:UpdateItem", When: "version_attribute with the insert_if_absent hand-off: removes the marks of streamed writes after the backfill; backfill.method = restore",
				Runner: true, RunnerWhen: "version_attribute with the insert_if_absent hand-off: removes the marks of streamed writes after the backfill; " + byRunner},
		}},
		{Resource: "checkpoint table", Actions: []Action{
			{Name: "dynamodb:ConditionCheckItem", Runner: true},
			{Name: "dynamodb:CreateTable", When: "only when the checkpoint table does not exist yet"},
			{Name: "dynamodb:DeleteItem"},
			{Name: "dynamodb:DescribeTable"},
			{Name: "dynamodb:GetItem", Runner: true},
			{Name: "dynamodb:PutItem", Runner: true},
			{Name: "dynamodb:Query", Runner: true},
			{Name: "dynamodb:UpdateItem", Runner: true},
		}},
	}
}

// RunnerPermissions is the part of Permissions a sync runner calls: it neither
// starts a migration (enabling the stream, creating the checkpoint table,
// clearing the target for overwrite_target), cuts it over (full verification)
// nor forgets it (deleting its checkpoint entries), so its role needs no more
// than this
// (TestIAMRunnerPermissionsMatchCalls compares it with a runner's calls).
func RunnerPermissions() []Permission {
	var out []Permission
	for _, p := range Permissions() {
		r := Permission{Resource: p.Resource}
		for _, a := range p.Actions {
			if a.Runner {
				if a.RunnerWhen != "" {
					a.When = a.RunnerWhen
				}
				r.Actions = append(r.Actions, a)
			}
		}
		if len(r.Actions) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// PermissionsMarkdown is Permissions as a Markdown list, for the docs.
func PermissionsMarkdown() string { return permissionsMarkdown(Permissions()) }

// RunnerPermissionsMarkdown is RunnerPermissions as a Markdown list, for the docs.
func RunnerPermissionsMarkdown() string { return permissionsMarkdown(RunnerPermissions()) }

func permissionsMarkdown(ps []Permission) string {
	var b strings.Builder
	for _, p := range ps {
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
