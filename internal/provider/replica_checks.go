package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// warnReplicaOutsideState warns, at plan time, about an ACTIVE replica that a create
// would find in place. It cannot be refused then: the plan of a tainted resource has no
// prior state either, so the replica may be this resource's own, destroyed earlier in
// the same apply. Create refuses it if it is still there (checkNoReplicaYet).
func (r *replicaResource) warnReplicaOutsideState(ctx context.Context, diags *diag.Diagnostics, table, region, source string) {
	err := r.checkNoReplicaYet(ctx, table, region, source, true)
	if ref, ok := err.(*refusal); ok {
		diags.AddAttributeWarning(ref.At, "replica already exists", ref.Msg+" Unless it is imported, the apply refuses "+
			"to create it, with nothing changed. If this resource is tainted and being replaced, ignore this warning: its replica is destroyed before the new one is created.")
	}
}

// checkNoReplicaYet refuses a replica that already exists outside the state. At plan
// time only an ACTIVE one is refused: a replica that failed or is still being created
// belongs to an earlier apply of this resource (it was saved tainted) and is replaced.
func (r *replicaResource) checkNoReplicaYet(ctx context.Context, table, region, source string, atPlan bool) error {
	desc, err := r.meta.Tables.FindTable(ctx, r.meta.AWS.DynamoDB(source), table)
	if ddb.IsNotFound(err) {
		return nil // reported by checkCanAddReplica
	}
	if err != nil {
		return err
	}
	rep := ddb.FindReplica(desc, region)
	if rep == nil || atPlan && rep.ReplicaStatus != awstypes.ReplicaStatusActive {
		return nil
	}
	return refuse(path.Root("region"), "Table %q already has a replica in %s (status %s) that this resource does not manage. "+
		"Import it with `terraform import <address> %s` (or an import block with id = %q) instead of creating it. "+
		"To recreate it, destroy it first.", table, region, rep.ReplicaStatus, replicaID(table, region), replicaID(table, region))
}

// checkPlannedSettings refuses, at plan time, overrides the existing table cannot take.
// DynamoDB rejects a provisioned-throughput override on an on-demand table and an
// index override naming an index the table does not have (UpdateTable ReplicaUpdates,
// ValidationException); refusing them here keeps the replica from being half created.
func (r *replicaResource) checkPlannedSettings(ctx context.Context, plan replicaModel, source string) diag.Diagnostics {
	var diags diag.Diagnostics
	if plan.ReadCapacityOverride.IsNull() && len(plan.GSIs) == 0 {
		return diags
	}
	table := plan.TableName.ValueString()
	desc, err := r.meta.Tables.FindTable(ctx, r.meta.AWS.DynamoDB(source), table)
	if err != nil {
		return diags // missing: warned about already; other errors: checked again at apply
	}
	onDemand := billingMode(desc) == awstypes.BillingModePayPerRequest
	if onDemand && !plan.ReadCapacityOverride.IsNull() {
		diags.AddAttributeError(path.Root("read_capacity_override"), "read capacity override on an on-demand table",
			fmt.Sprintf("Table %q uses on-demand (PAY_PER_REQUEST) billing, which has no read capacity to override. "+
				"Remove read_capacity_override, or switch the table to PROVISIONED billing.", table))
	}
	indexes := map[string]bool{}
	for _, g := range desc.GlobalSecondaryIndexes {
		indexes[aws.ToString(g.IndexName)] = true
	}
	for _, g := range plan.GSIs {
		if g.Name.IsUnknown() {
			continue
		}
		name := g.Name.ValueString()
		switch {
		case !indexes[name]:
			diags.AddAttributeError(path.Root("global_secondary_index"), "unknown global secondary index",
				fmt.Sprintf("Table %q has no global secondary index %q (it has: %s). Name one of its indexes, or add the "+
					"index to the table first.", table, name, listOrNone(indexes)))
		case onDemand:
			diags.AddAttributeError(path.Root("global_secondary_index"), "read capacity override on an on-demand table",
				fmt.Sprintf("Table %q uses on-demand (PAY_PER_REQUEST) billing: index %q has no read capacity to override.", table, name))
		}
	}
	return diags
}

func listOrNone(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
