package provider_test

import (
	"fmt"
	"regexp"
	"testing"

	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

func TestAccTableDataSource_basic(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-ds")
	table := acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk", RangeKey: "sk", StreamView: awstypes.StreamViewTypeNewAndOldImages})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
data "ddbglobal_table" "test" {
  name = %q
}
`, name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("region"), knownvalue.StringExact(acctest.Region)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("arn"), knownvalue.StringExact(*table.TableArn)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("billing_mode"), knownvalue.StringExact("PAY_PER_REQUEST")),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("key_schema"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectExact(map[string]knownvalue.Check{
						"attribute_name": knownvalue.StringExact("pk"), "attribute_type": knownvalue.StringExact("S"), "key_type": knownvalue.StringExact("HASH"),
					}),
					knownvalue.ObjectExact(map[string]knownvalue.Check{
						"attribute_name": knownvalue.StringExact("sk"), "attribute_type": knownvalue.StringExact("S"), "key_type": knownvalue.StringExact("RANGE"),
					}),
				})),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("stream"), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"enabled":   knownvalue.Bool(true),
					"view_type": knownvalue.StringExact("NEW_AND_OLD_IMAGES"),
					"arn":       knownvalue.StringExact(*table.LatestStreamArn),
				})),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("global_table_version"), knownvalue.StringExact("")),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("is_legacy_global_table"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("replicas"), knownvalue.ListSizeExact(0)),
			},
		}},
	})
}

func TestAccTableDataSource_otherRegionAndNoStream(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-ds")
	acctest.CreateTable(t, acctest.TableSpec{Name: name, Region: "eu-west-1", HashKey: "id", Provisioned: true})

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
data "ddbglobal_table" "test" {
  name   = %q
  region = "eu-west-1"
}
`, name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("arn"), knownvalue.StringRegexp(regexp.MustCompile(`^arn:aws:dynamodb:`))),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("billing_mode"), knownvalue.StringExact("PROVISIONED")),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("stream").AtMapKey("enabled"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("stream").AtMapKey("view_type"), knownvalue.StringExact("")),
			},
		}},
	})
}

func TestAccTableDataSource_notFound(t *testing.T) {
	acctest.PreCheck(t)
	name := acctest.RandomName("tf-acc-missing")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderConfig() + fmt.Sprintf(`
data "ddbglobal_table" "test" {
  name   = %q
  region = "ap-northeast-1"
}
`, name),
			ExpectError: regexp.MustCompile(fmt.Sprintf(`(?s)reading DynamoDB table \(%s, ap-northeast-1\).*Table "%s" does not\s+exist in ap-northeast-1`, name, name)),
		}},
	})
}

// The AWS_ENDPOINT_URL_* variables reach the SDK when the provider block has no
// endpoints, and the endpoints block wins over them.
func TestAccTableDataSource_endpointOverride(t *testing.T) {
	acctest.PreCheck(t)
	if acctest.RealAWS() {
		t.Skip("endpoint overrides are tested against the local backend only")
	}
	name := acctest.RandomName("tf-acc-ds")
	acctest.CreateTable(t, acctest.TableSpec{Name: name, HashKey: "pk"})
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", acctest.Endpoint())
	dataSource := fmt.Sprintf(`
data "ddbglobal_table" "test" {
  name = %q
}
`, name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `
provider "ddbglobal" {
  region                      = "us-east-1"
  access_key                  = "ddbglobaltest"
  secret_key                  = "ddbglobaltestsecret"
  skip_credentials_validation = true
}
` + dataSource,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.ddbglobal_table.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
			},
			{
				// Port 9 (discard) is closed on loopback: the call must go there, and fail.
				Config:      acctest.ProviderConfigWithEndpoint("http://127.0.0.1:9") + dataSource,
				ExpectError: regexp.MustCompile(`(?s)reading DynamoDB table.*127\.0\.0\.1:9`),
			},
		},
	})
}
