package provider_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/provider"
)

func TestMain(m *testing.M) {
	if !acctest.RealAWS() {
		// The emulator's stream has no propagation delay and its upgrade takes about a
		// second: a 1 s quiet period (4 of the engine's polls) and a 200 ms first
		// upgrade poll lose nothing there, and save seconds per cutover and upgrade.
		provider.SetTestTimings(time.Second, 200*time.Millisecond)
		// The emulator's clock is this process's, and its backups and point-in-time
		// restores are exact as of their time: a short restore margin loses nothing there.
		provider.SetRestoreMargin(300 * time.Millisecond)
	}
	acctest.Main(m)
}

// A data source forces the provider to be configured during plan.
const probeDataSource = `
data "ddbglobal_table" "probe" {
  name = "probe"
}
`

// The provider assumes the configured role through STS, checks the resulting
// credentials (skip_credentials_validation = false) and uses them.
func TestAccProvider_assumeRole(t *testing.T) {
	acctest.PreCheck(t)
	emu := acctest.Emulator(t)
	name := acctest.RandomName("tf-acc-role")
	acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	role := "arn:aws:iam::123456789012:role/tf-acc-" + name
	before := len(emu.AssumedRoles())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "ddbglobal" {
  region     = "us-east-1"
  access_key = "base"
  secret_key = "base"

  assume_role {
    role_arn     = %[1]q
    session_name = "acceptance"
    duration     = "1h"
  }
  endpoints {
    dynamodb = %[2]q
    sts      = %[2]q
  }
}

data "ddbglobal_table" "test" {
  name = %[3]q
}
`, role, acctest.Endpoint(), name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
			},
			Check: func(*terraform.State) error {
				if !slices.Contains(emu.AssumedRoles()[before:], role) {
					return fmt.Errorf("role %s was not assumed; assumed: %v", role, emu.AssumedRoles()[before:])
				}
				return nil
			},
		}},
	})
}
