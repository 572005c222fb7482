package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// During a refresh, the replicas of one table share one DescribeTable of it in the
// source Region (the provider's describe cache): with two replicas, the source Region
// is described as often as each replica Region, once per Terraform command, not twice.
// The emulator counts the calls with rules that match and do nothing else.
//
// Catches: replicas reading the source table around the cache (in read,
// r.meta.Tables.FindTable replaced by ddb.FindTableByName), or a cache keyed per
// resource.
func TestAccReplica_describeCacheOneCallPerTable(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	table := acctest.RandomName("tf-acc-replica-cache")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk"})
	config := acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_replica" "ireland" {
  table_name = %[1]q
  region     = "eu-west-1"
}

resource "ddbglobal_replica" "tokyo" {
  table_name = %[1]q
  region     = "ap-northeast-1"
}
`, table)
	regions := []string{acctest.Region, "eu-west-1", "ap-northeast-1"}
	counters := map[string]int{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() {
					for _, region := range regions {
						counters[region] = emu.AddFault(emulator.Fault{Operation: "DescribeTable", Region: region, Table: table})
					}
				},
				Config:   config,
				PlanOnly: true,
			},
			{
				PreConfig: func() {
					calls := map[string]int{}
					for region, id := range counters {
						calls[region], _ = emu.FaultFired(id)
						emu.RemoveFault(id)
					}
					t.Logf("DescribeTable calls during the refresh: %v", calls)
					if calls[acctest.Region] == 0 || calls[acctest.Region] != calls["eu-west-1"] || calls["eu-west-1"] != calls["ap-northeast-1"] {
						t.Fatalf("DescribeTable calls per Region %v: the source Region must be described once per command, like each replica Region", calls)
					}
				},
				Config:   config,
				PlanOnly: true,
			},
		},
	})
}
