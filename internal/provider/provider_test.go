package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	}
	acctest.Main(m)
}

// A data source forces the provider to be configured during plan.
const probeDataSource = `
data "ddbglobal_table" "probe" {
  name = "probe"
}
`

func TestAccProvider_configurationErrors(t *testing.T) {
	emptyConfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(emptyConfig, []byte("[default]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		config string
		want   *regexp.Regexp
	}{
		"malformed endpoint": {
			config: `provider "ddbglobal" {
  region = "us-east-1"
  endpoints {
    dynamodb = "127.0.0.1:8765"
  }
}`,
			want: regexp.MustCompile(`(?s)invalid endpoint URL.*"127.0.0.1:8765" is not an absolute`),
		},
		"negative max_retries": {
			config: `provider "ddbglobal" {
  region      = "us-east-1"
  max_retries = -1
}`,
			want: regexp.MustCompile(`(?s)max_retries.*must be at least 0`),
		},
		"assume_role without role_arn": {
			config: `provider "ddbglobal" {
  region = "us-east-1"
  assume_role {
    session_name = "ci"
  }
}`,
			want: regexp.MustCompile(`(?s)"role_arn" is required`),
		},
		"malformed role_arn": {
			config: `provider "ddbglobal" {
  region = "us-east-1"
  assume_role {
    role_arn = "my-role"
  }
}`,
			want: regexp.MustCompile(`(?s)must be an ARN`),
		},
		"bad assume_role duration": {
			config: `provider "ddbglobal" {
  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/deploy"
    duration = "2 hours"
  }
}`,
			want: regexp.MustCompile(`(?s)must be a duration such as 1h`),
		},
		"malformed region": {
			config: `provider "ddbglobal" {
  region = "US East"
}`,
			want: regexp.MustCompile(`(?s)must be an AWS Region name`),
		},
		"unknown profile": {
			config: `provider "ddbglobal" {
  region                      = "us-east-1"
  profile                     = "no-such-profile"
  shared_config_files         = ["` + emptyConfig + `"]
  shared_credentials_files    = ["` + emptyConfig + `"]
  skip_credentials_validation = true
}`,
			want: regexp.MustCompile(`(?s)configuring the ddbglobal provider.*no-such-profile`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config + probeDataSource,
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}

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
