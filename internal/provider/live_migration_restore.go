package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// Backfill by restore: the provider's side (schema, plan-time refusals, the plan's
// cost comparison). The engine does the work (internal/migration/restore.go).

var backfillMethods = []string{string(migration.BackfillScan), string(migration.BackfillRestore)}

// restoreMargin is how long after the capture the restored data must be; zero is
// the engine's default (a minute). A variable only so that the acceptance tests
// against the emulator can shorten it.
var restoreMargin time.Duration

// Prices used by the plan's cost comparison, in US dollars, from
// https://aws.amazon.com/dynamodb/pricing/on-demand/ (US East (N. Virginia),
// Standard table class, as listed since the on-demand price reduction of
// November 2024): write request units $0.625 per million; "Restoring a table"
// (from a backup or to a point in time) $0.15 per GB of restored data. Other
// Regions differ; the plan says which prices it used.
const (
	writeUnitPricePerMillion = 0.625
	restorePricePerGB        = 0.15
)

// restoreLacks is what a restored table does not keep: "You must manually set up
// the following on the restored table: auto scaling policies, AWS IAM policies,
// Amazon CloudWatch metrics and alarms, tags, stream settings, Time to Live (TTL)
// settings, point-in-time recovery settings" (DynamoDB developer guide, "Restoring
// a DynamoDB table to a point in time" and "Restoring a table from a backup"), and
// resource-based policies (not restored either, per the same pages).
const restoreLacks = "stream, TTL, tags, point-in-time recovery, auto scaling policies, resource-based and IAM policies, CloudWatch alarms"

func backfillMethodAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "How the existing items reach the target: `scan` (default) reads the source and writes every " +
			"item into a target that exists, paying a write unit per KB of each item; `restore` has DynamoDB restore the " +
			"source into the target, which must not exist yet (same account; to a point in time a minute after the " +
			"stream capture when the source has point-in-time recovery, else from an on-demand backup taken then), " +
			"applies `transform` to the restored items in place and replays the stream from the capture. A restore " +
			"keeps the key schema (no key renames) and lacks the source's " + restoreLacks + "; the plan shows both " +
			"methods' costs. Changing it starts a new migration.",
		Optional:   true,
		Computed:   true,
		Default:    stringdefault.StaticString(string(migration.BackfillScan)),
		Validators: []validator.String{stringvalidator.OneOf(backfillMethods...)},
	}
}

// restore reports whether the model asks for a backfill by restore.
func (m liveMigrationModel) restore(ctx context.Context) bool {
	b := m.backfill(ctx)
	return b != nil && b.Method.ValueString() == string(migration.BackfillRestore)
}

// validateRestoreConfig refuses, without I/O, what a restore migration cannot do.
func validateRestoreConfig(ctx context.Context, m liveMigrationModel, diags *diag.Diagnostics) {
	if !m.restore(ctx) {
		return
	}
	const summary = "backfill by restore"
	if !m.Source.RoleARN.IsUnknown() && !m.Target.RoleARN.IsUnknown() && m.Source.RoleARN.ValueString() != m.Target.RoleARN.ValueString() {
		diags.AddAttributeError(path.Root("target").AtName("role_arn"), summary+": cross-account target",
			"The target is reached through another role than the source (another account?), and DynamoDB restores a backup "+
				"only within the account that owns it. Use backfill.method = \"scan\" for a target in another account.")
	}
	if m.VersionAttribute.ValueString() != "" {
		diags.AddAttributeError(path.Root("version_attribute"), summary+": version_attribute",
			"version_attribute is for a target the application already writes, and a restore creates its target table. "+
				"Drop version_attribute, or use backfill.method = \"scan\".")
	}
	if m.OverwriteTarget.ValueBool() {
		diags.AddAttributeError(path.Root("overwrite_target"), summary+": overwrite_target",
			"A restore creates its target table, so there is nothing to overwrite: the target must not exist. Remove "+
				"overwrite_target (delete the old target table first), or use backfill.method = \"scan\".")
	}
	if b := m.backfill(ctx); b != nil && b.HandOff.ValueString() == string(migration.HandOffInsertIfAbsent) {
		diags.AddAttributeError(path.Root("backfill").AtName("hand_off"), summary+": hand_off",
			"A restore migration replays the stream from the capture once the restore and the transform are done "+
				"(hand_off = \"replay\"); insert_if_absent needs a target that exists from the start. Use hand_off = "+
				"\"auto\" or \"replay\".")
	}
	if tr, err := m.transform(ctx); err == nil {
		if err := tr.Idempotent(); err != nil {
			diags.AddAttributeError(path.Root("transform"), summary+": transform applied in place", err.Error())
		}
	}
}

// checkRestoreTables is checkTables for a restore migration: the source must exist,
// the transform must keep its key names, and the target must not exist unless this
// migration restored it (an interrupted create being resumed).
func (r *liveMigrationResource) checkRestoreTables(ctx context.Context, plan liveMigrationModel) (*awstypes.TableDescription, error) {
	s := plan.Source
	src, err := ddb.FindTableByName(ctx, r.side(s).DynamoDB(s.Region.ValueString()), s.TableName.ValueString())
	if ddb.IsNotFound(err) {
		return nil, &tableMissingError{Table: s.TableName.ValueString(), Region: s.Region.ValueString(), Hint: "Check source.table_name and source.region."}
	}
	if err != nil {
		return nil, err
	}
	tr, err := plan.transform(ctx)
	if err != nil {
		return nil, refuse(path.Root("transform"), "%s", err)
	}
	for _, k := range ddb.OrderedKeySchema(src.KeySchema) {
		name := aws.ToString(k.AttributeName)
		if to, ok := tr.Rename[name]; ok {
			return nil, refuse(path.Root("transform").AtName("rename"), "backfill by restore: the transform renames the key "+
				"attribute %q to %q, and a restored table keeps the source's key schema (%s). Use backfill.method = \"scan\" "+
				"into a table created with the new key.", name, to, keyText(src))
		}
		if tr.Set[name] != nil || contains(tr.Drop, name) {
			return nil, refuse(path.Root("transform"), "backfill by restore: the transform changes the key attribute %q, "+
				"and the restored items keep their keys.", name)
		}
	}
	m, err := r.engine(ctx, plan)
	if err != nil {
		return nil, refuse(path.Root("backfill"), "%s", err)
	}
	t := plan.Target
	_, findErr := ddb.FindTableByName(ctx, r.side(t).DynamoDB(t.Region.ValueString()), t.TableName.ValueString())
	if findErr != nil && !ddb.IsNotFound(findErr) {
		return nil, findErr
	}
	// CheckTarget accepts a target this migration restored (it has started), and
	// fails on any other existing one, with ErrTargetExists or because the
	// existing table's key does not match.
	err = m.CheckTarget(ctx)
	if errors.Is(err, migration.ErrReplayOutlasted) {
		return nil, refuse(path.Root("backfill"), "%s", err)
	}
	if err != nil && (findErr == nil || errors.Is(err, migration.ErrTargetExists)) {
		return nil, refuse(path.Root("target").AtName("table_name"), "backfill by restore: table %s already exists in %s, "+
			"and a restore creates its target table (DynamoDB refuses to restore onto an existing table). Choose a new "+
			"target.table_name, delete that table, or use backfill.method = \"scan\" to copy into it.",
			plan.Target.TableName.ValueString(), plan.Target.Region.ValueString())
	} else if err != nil {
		return nil, err
	}
	return src, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// planRestore shows, at plan time, which restore runs, what it costs next to a scan,
// and what the restored table lacks.
func (r *liveMigrationResource) planRestore(ctx context.Context, plan liveMigrationModel, resp *resource.ModifyPlanResponse) {
	summary := fmt.Sprintf("planning DynamoDB live migration (%s)", migrationID(plan))
	tr, _ := plan.transform(ctx)
	s := plan.Source
	info, err := migration.RestoreEstimate(ctx, r.side(s).DynamoDB(s.Region.ValueString()), s.TableName.ValueString(), !tr.IsZero())
	if err != nil {
		resp.Diagnostics.AddWarning(summary+": backfill by restore", "Could not estimate the restore: "+err.Error())
		return
	}
	resp.Diagnostics.AddWarning(summary+": backfill by restore", restorePlanText(plan, info, !tr.IsZero()))
}

// restorePlanText is the plan's explanation of a restore backfill.
func restorePlanText(plan liveMigrationModel, info migration.RestoreInfo, transformed bool) string {
	src, dst := plan.Source.TableName.ValueString(), plan.Target.TableName.ValueString()
	how := fmt.Sprintf("Point-in-time recovery is on for %s: once the stream is captured, it is restored to a point a "+
		"minute after the capture into %s in %s (RestoreTableToPointInTime).", src, dst, plan.Target.Region.ValueString())
	if !info.PointInTime {
		how = fmt.Sprintf("Point-in-time recovery is off for %s: a minute after the stream capture an on-demand backup "+
			"of it is taken and restored into %s in %s (CreateBackup, RestoreTableFromBackup). The backup is kept and "+
			"billed per GB-month until you delete it.", src, dst, plan.Target.Region.ValueString())
	}
	gb := float64(info.SizeBytes) / (1 << 30)
	restoreCost := gb * restorePricePerGB
	scanCost := float64(info.ScanWriteUnits) / 1e6 * writeUnitPricePerMillion
	cost := fmt.Sprintf("Cost, from %d items and %d bytes as DynamoDB last reported (refreshed about every six hours): "+
		"the restore is %.3f GB at $%.2f per GB = $%.2f and consumes no write capacity; a scan backfill would write %d "+
		"write units (one per KB of each item), $%.2f at $%.3f per million on-demand write units.",
		info.Items, info.SizeBytes, gb, restorePricePerGB, restoreCost, info.ScanWriteUnits, scanCost, writeUnitPricePerMillion)
	if transformed {
		cost += fmt.Sprintf(" The transform is applied to the restored items in place: up to %d more write units "+
			"($%.2f) if it changes every item; items it leaves unchanged are not written.",
			info.TransformWriteUnits, float64(info.TransformWriteUnits)/1e6*writeUnitPricePerMillion)
	}
	cost += " Prices are US East (N. Virginia) list prices (aws.amazon.com/dynamodb/pricing/on-demand); a restore into " +
		"another Region also pays cross-Region data transfer."
	return how + " " + cost + " The stream is then replayed from the capture (hand-off replay).\n\nThe restored table " +
		"keeps the key schema, indexes, billing mode and capacity, and encryption, but not the source's " + restoreLacks +
		": set them afterwards, e.g. by adopting the table into an aws_dynamodb_table with an import block."
}
