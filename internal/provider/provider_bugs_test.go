package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// A ddbglobal_version_upgrade whose region comes from a resource created in the same
// apply (unknown at plan time) plans cleanly. Catches: ModifyPlan replacing the
// unknown configured region with the provider's ("planned value does not match config
// value").
func TestAccVersionUpgrade_regionUnknownAtPlan(t *testing.T) {
	acctest.PreCheck(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
resource "aws_dynamodb_table" "music" {
  name         = %q
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }
}

resource "ddbglobal_version_upgrade" "music" {
  global_table_name = aws_dynamodb_table.music.name
  region            = aws_dynamodb_table.music.region # unknown until the table exists

  acknowledge_replication_attributes_removal = true
}
`, acctest.RandomName("tf-acc-upg")),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}
