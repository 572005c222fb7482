package provider

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// checkTables describes both tables and checks that the source's keys map onto the
// target's (for a restore migration: see checkRestoreTables). It returns a *tableMissingError when either table does not exist (normal at
// plan time when it is created in the same apply), a *refusal for a configuration that
// cannot work, or the error of a failed look-up.
func (r *liveMigrationResource) checkTables(ctx context.Context, plan liveMigrationModel) (src, dst *awstypes.TableDescription, err error) {
	if plan.restore(ctx) { // the target must not exist (live_migration_restore.go)
		src, err := r.checkRestoreTables(ctx, plan)
		return src, nil, err
	}
	find := func(s *tableSideModel, hint string) (*awstypes.TableDescription, error) {
		desc, err := ddb.FindTableByName(ctx, r.side(s).DynamoDB(s.Region.ValueString()), s.TableName.ValueString())
		if ddb.IsNotFound(err) {
			return nil, &tableMissingError{Table: s.TableName.ValueString(), Region: s.Region.ValueString(), Hint: hint}
		}
		return desc, err
	}
	if src, err = find(plan.Source, "Check source.table_name and source.region."); err != nil {
		return nil, nil, err
	}
	if dst, err = find(plan.Target, "Create the target table first (e.g. with aws_dynamodb_table) and reference it "+
		"in target.table_name, so it exists before the migration starts."); err != nil {
		return nil, nil, err
	}
	tr, err := plan.transform(ctx)
	if err != nil {
		return nil, nil, refuse(path.Root("transform"), "%s", err)
	}
	if msg := keyMappingProblem(src, dst, tr); msg != "" {
		return nil, nil, refuse(path.Root("transform"), "%s", msg)
	}
	if v := plan.VersionAttribute.ValueString(); v != "" && (isKeyAttribute(src, v) || isKeyAttribute(dst, v)) {
		return nil, nil, refuse(path.Root("version_attribute"), "version_attribute %q is a key attribute of the source or "+
			"target table; a key never changes, so it cannot order writes. Name an attribute that grows with every write, "+
			"such as updatedAt.", v)
	}
	if v := plan.VersionAttribute.ValueString(); v != "" {
		if spec := src.StreamSpecification; spec != nil && aws.ToBool(spec.StreamEnabled) && spec.StreamViewType != awstypes.StreamViewTypeNewAndOldImages {
			return nil, nil, refuse(path.Root("version_attribute"), "version_attribute needs the source stream to carry old and new "+
				"images (NEW_AND_OLD_IMAGES): a delete carries its version only in the old image. The stream of %s is %s; set the "+
				"source table's stream_view_type to NEW_AND_OLD_IMAGES before the migration starts, or drop version_attribute.",
				plan.Source.TableName.ValueString(), spec.StreamViewType)
		}
	}
	return src, dst, nil
}

// missingSidePath is the attribute a missing table is reported on.
func missingSidePath(err error, plan liveMigrationModel) path.Path {
	var m *tableMissingError
	if errors.As(err, &m) && m.Table == plan.Target.TableName.ValueString() && m.Region == plan.Target.Region.ValueString() {
		return path.Root("target").AtName("table_name")
	}
	return path.Root("source").AtName("table_name")
}

// checkTargetEmpty refuses, at plan time, a new migration into a target that
// holds items without overwrite_target (the engine refuses it again at create).
// A migration that already started (an interrupted create being resumed) is
// not new: its target holds what it copied.
func (r *liveMigrationResource) checkTargetEmpty(ctx context.Context, plan liveMigrationModel) error {
	m, err := r.engine(ctx, plan)
	if err != nil {
		return err
	}
	if err := m.CheckTarget(ctx); !errors.Is(err, migration.ErrTargetNotEmpty) {
		return err
	}
	return refuse(path.Root("overwrite_target"), "Target table %s in %s already holds items. A migration "+
		"copies into an empty table, and its backfill never replaces an item it finds, so leftovers would stay stale. "+
		"Empty the table, or set overwrite_target = true to have the migration delete the target's items once the "+
		"source stream is captured and copy the source again.", plan.Target.TableName.ValueString(), plan.Target.Region.ValueString())
}

func isKeyAttribute(t *awstypes.TableDescription, name string) bool {
	for _, k := range t.KeySchema {
		if aws.ToString(k.AttributeName) == name {
			return true
		}
	}
	return false
}
