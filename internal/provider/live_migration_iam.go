package provider

import (
	"fmt"
	"strings"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// iamSummary lists the IAM actions per table of this migration, for the plan.
func iamSummary(plan liveMigrationModel) string {
	names := map[string]string{
		"source table":     fmt.Sprintf("%s in %s", plan.Source.TableName.ValueString(), plan.Source.Region.ValueString()),
		"source stream":    fmt.Sprintf("the stream of %s (arn:aws:dynamodb:%s:*:table/%s/stream/*)", plan.Source.TableName.ValueString(), plan.Source.Region.ValueString(), plan.Source.TableName.ValueString()),
		"source backup":    fmt.Sprintf("the on-demand backups of %s, with backfill.method = restore (arn:aws:dynamodb:%s:*:table/%s/backup/*)", plan.Source.TableName.ValueString(), plan.Source.Region.ValueString(), plan.Source.TableName.ValueString()),
		"target table":     fmt.Sprintf("%s in %s", plan.Target.TableName.ValueString(), plan.Target.Region.ValueString()),
		"checkpoint table": fmt.Sprintf("%s in %s", plan.CheckpointTable.ValueString(), plan.Target.Region.ValueString()),
	}
	var b strings.Builder
	b.WriteString("The migration calls these actions (and no others):")
	for _, p := range migration.Permissions() {
		acts := make([]string, len(p.Actions))
		for i, a := range p.Actions {
			acts[i] = a.Name
		}
		fmt.Fprintf(&b, "\n- %s, %s: %s", p.Resource, names[p.Resource], strings.Join(acts, ", "))
	}
	for _, side := range []*tableSideModel{plan.Source, plan.Target} {
		if arn := side.RoleARN.ValueString(); arn != "" {
			fmt.Fprintf(&b, "\n- the role %s (assumed for %s): sts:AssumeRole", arn, side.TableName.ValueString())
		}
	}
	return b.String()
}
