package provider

import (
	"context"
	"errors"

	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// checkTables describes both tables and checks that the source's keys map onto the
// target's. It returns a *tableMissingError when either table does not exist (normal at
// plan time when it is created in the same apply), a *refusal for a configuration that
// cannot work, or the error of a failed look-up.
func (r *liveMigrationResource) checkTables(ctx context.Context, plan liveMigrationModel) (src, dst *awstypes.TableDescription, err error) {
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
