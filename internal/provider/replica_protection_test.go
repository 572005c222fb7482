package provider_test

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// Destroying a replica with deletion protection fails with the way out, and leaves
// the replica in place; unprotected, it is destroyed (CheckDestroy).
//
// Catches: the replica delete ignoring the replica's deletion protection (the
// emulator refuses it as DynamoDB does), or the error losing its hint.
func TestAccReplica_destroyWithDeletionProtection(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	protected := replicaConfig(table, "eu-west-1", `  deletion_protection_enabled = true`)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{Config: protected},
			{
				Config:      protected,
				Destroy:     true,
				ExpectError: acctest.ErrorRegexp("Set deletion_protection_enabled = false on the replica and apply, then destroy it."),
			},
			{
				// Still there, still protected: nothing to change.
				PreConfig: func() {
					if got := replicaRegions(t, table); len(got) != 1 || got[0] != "eu-west-1" {
						t.Fatalf("after the refused destroy the replicas are %v", got)
					}
				},
				Config: protected,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{Config: replicaConfig(table, "eu-west-1", `  deletion_protection_enabled = false`)},
		},
	})
}
