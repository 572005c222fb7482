package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// badConfig is a wrong configuration and what its plan must say: the pieces, in order,
// of the error Terraform prints.
type badConfig struct {
	name   string
	config string
	want   []string
}

// TestAccBadConfigurations plans wrong configurations of every resource, data source
// and the provider block, as a user would write them. Each is refused at plan time with
// its own message (never a provider-bug error such as "Provider produced invalid plan"),
// and nothing changes remotely.
//
// What cannot be known before apply is refused at apply instead, with nothing changed,
// and tested elsewhere: a replica that already exists outside the state
// (TestAccReplica_existingReplicaRefusedAtCreate; a plan cannot tell it from a tainted
// replica being replaced) and a table still missing when its replica or migration is
// created (TestAccComposition_missingTableRefusedAtApply).
func TestAccBadConfigurations(t *testing.T) {
	acctest.PreCheck(t)
	cases := append(badProviderConfigs(t), badReplicaConfigs(t)...)
	cases = append(cases, badMigrationConfigs(t)...)
	cases = append(cases, badUpgradeConfigs(t)...)
	cases = append(cases, badDataSourceConfigs()...)
	if len(cases) < 70 && !acctest.RealAWS() {
		t.Errorf("only %d bad configurations", len(cases))
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: acctest.ErrorRegexp(tc.want...)}},
			})
		})
	}
}

func badProviderConfigs(t *testing.T) []badConfig {
	emptyConfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(emptyConfig, []byte("[default]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The data source makes Terraform configure the provider during plan.
	withProbe := func(body string) string {
		return "provider \"ddbglobal\" {\n" + body + "\n}\n" + probeDataSource
	}
	return []badConfig{
		{"provider: malformed endpoint", withProbe(`  region = "us-east-1"
  endpoints {
    dynamodb = "127.0.0.1:8765"
  }`), []string{"invalid endpoint URL", `"127.0.0.1:8765" is not an absolute`}},
		{"provider: endpoint of another scheme", withProbe(`  region = "us-east-1"
  endpoints {
    sts = "ftp://127.0.0.1:21"
  }`), []string{"invalid endpoint URL", "ftp://127.0.0.1:21"}},
		{"provider: two endpoints blocks", withProbe(`  region = "us-east-1"
  endpoints {
    dynamodb = "http://127.0.0.1:1"
  }
  endpoints {
    dynamodb = "http://127.0.0.1:2"
  }`), []string{"endpoints", "must contain at most 1 elements"}},
		{"provider: negative max_retries", withProbe(`  region      = "us-east-1"
  max_retries = -1`), []string{"max_retries", "must be at least 0"}},
		{"provider: assume_role without role_arn", withProbe(`  region = "us-east-1"
  assume_role {
    session_name = "ci"
  }`), []string{`"role_arn" is required`}},
		{"provider: malformed role_arn", withProbe(`  region = "us-east-1"
  assume_role {
    role_arn = "my-role"
  }`), []string{"role_arn", "must be an ARN"}},
		{"provider: two assume_role blocks", withProbe(`  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/a"
  }
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/b"
  }`), []string{"assume_role", "must contain at most 1 elements"}},
		{"provider: assume_role duration not a duration", withProbe(`  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/deploy"
    duration = "2 hours"
  }`), []string{"invalid duration", `"2 hours" must be a duration such as 1h`}},
		{"provider: assume_role duration too short", withProbe(`  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/deploy"
    duration = "5m"
  }`), []string{"invalid duration", `"5m" must be a duration such as 1h or 90m, between 15m0s and 12h0m0s`}},
		{"provider: malformed region", withProbe(`  region = "US East"`), []string{"region", "must be an AWS Region name"}},
		{"provider: default tag key starting with aws:", withProbe(`  region = "us-east-1"
  default_tags {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }`), []string{"reserved tag key", `Tag key "aws:cloudformation:stack-name" must not start with aws:`}},
		{"provider: two default_tags blocks", withProbe(`  region = "us-east-1"
  default_tags {
    tags = { a = "1" }
  }
  default_tags {
    tags = { b = "2" }
  }`), []string{"default_tags", "must contain at most 1 elements"}},
		{"provider: unknown profile", withProbe(`  region                      = "us-east-1"
  profile                     = "no-such-profile"
  shared_config_files         = ["` + emptyConfig + `"]
  shared_credentials_files    = ["` + emptyConfig + `"]
  skip_credentials_validation = true`), []string{"configuring the ddbglobal provider", "no-such-profile"}},
		{"provider: unknown argument", withProbe(`  regoin = "us-east-1"`), []string{`An argument named "regoin" is not expected here`}},
	}
}

func badReplicaConfigs(t *testing.T) []badConfig {
	plain := acctest.RandomName("tf-acc-bad")
	acctest.CreateTable(t, acctest.TableSpec{Name: plain, HashKey: "pk"})
	withIndex := acctest.RandomName("tf-acc-bad")
	acctest.CreateTable(t, acctest.TableSpec{Name: withIndex, HashKey: "pk"})
	addGSI(t, acctest.Region, withIndex, "byOwner", "owner")
	provisioned := acctest.RandomName("tf-acc-bad")
	acctest.CreateTable(t, acctest.TableSpec{Name: provisioned, HashKey: "pk", Provisioned: true})
	indexNotScaled := acctest.RandomName("tf-acc-bad")
	acctest.CreateTable(t, acctest.TableSpec{Name: indexNotScaled, HashKey: "pk", Provisioned: true})
	addGSI(t, acctest.Region, indexNotScaled, "byOwner", "owner")
	addWriteAutoScaling(t, indexNotScaled) // the table only
	t.Cleanup(func() {
		for _, table := range []string{plain, withIndex, provisioned, indexNotScaled} {
			if got := replicaRegions(t, table); len(got) > 0 {
				t.Errorf("table %s got replicas %v from a refused plan", table, got)
			}
		}
	})

	rep := func(extra string) string { return replicaConfig(plain, "eu-west-1", extra) }
	manyTags := make([]string, 51)
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf("k%02d = \"v\"", i)
	}
	cases := []badConfig{
		{"replica: Region is the provider's", replicaConfig(plain, acctest.Region, ""), []string{"The replica Region us-east-1 is the source Region"}},
		{"replica: Region is source_region", rep(`  source_region = "eu-west-1"`), []string{"replica Region equals source Region", "region and source_region are both eu-west-1"}},
		{"replica: malformed region", replicaConfig(plain, "Europe", ""), []string{"region", "must be an AWS Region name"}},
		{"replica: malformed source_region", rep(`  source_region = "us_east_1"`), []string{"source_region", "must be an AWS Region name"}},
		{"replica: table name too short", replicaConfig("ab", "eu-west-1", ""), []string{"table_name", "must be a DynamoDB table name: 3 to 255 characters"}},
		{"replica: table name with a space", replicaConfig("my orders", "eu-west-1", ""), []string{"table_name", "must be a DynamoDB table name", "got: my orders"}},
		{"replica: table name with a slash", replicaConfig("team/orders", "eu-west-1", ""), []string{"table_name", "must be a DynamoDB table name"}},
		{"replica: table name as an ARN", replicaConfig("arn:aws:dynamodb:us-east-1:123456789012:table/orders", "eu-west-1", ""), []string{"table_name", "must be a DynamoDB table name"}},
		{"replica: table name too long", replicaConfig(strings.Repeat("t", 256), "eu-west-1", ""), []string{"table_name", "must be a DynamoDB table name: 3 to 255 characters"}},
		{"replica: kms key not a key", rep(`  kms_key_arn = "not-an-arn"`), []string{"invalid KMS key", "must be a KMS key ARN, key id, alias name"}},
		{"replica: kms key of another service", rep(`  kms_key_arn = "arn:aws:s3:::my-bucket"`), []string{"invalid KMS key", "must be a KMS key ARN, key id, alias name"}},
		{"replica: kms key in another Region", rep(`  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"`),
			[]string{"KMS key in another Region", "is a key in us-east-1, but the replica is in eu-west-1"}},
		{"replica: unknown table class", rep(`  table_class = "GLACIER"`), []string{"table_class", `value must be one of: ["STANDARD" "STANDARD_INFREQUENT_ACCESS"]`}},
		{"replica: zero read capacity", rep(`  read_capacity_override = 0`), []string{"read_capacity_override", "must be at least 1, got: 0"}},
		{"replica: read capacity on an on-demand table", rep(`  read_capacity_override = 5`),
			[]string{"read capacity override on an on-demand table", "uses on-demand (PAY_PER_REQUEST) billing"}},
		{"replica: override of a missing index", rep(`  global_secondary_index {
    name                   = "no-such-index"
    read_capacity_override = 5
  }`), []string{"unknown global secondary index", `has no global secondary index "no-such-index" (it has: none)`}},
		{"replica: index override on an on-demand table", replicaConfig(withIndex, "eu-west-1", `  global_secondary_index {
    name                   = "byOwner"
    read_capacity_override = 5
  }`), []string{"read capacity override on an on-demand table", `index "byOwner" has no read capacity to override`}},
		{"replica: zero index read capacity", rep(`  global_secondary_index {
    name                   = "byOwner"
    read_capacity_override = 0
  }`), []string{"read_capacity_override", "must be at least 1, got: 0"}},
		{"replica: duplicate index overrides", rep(`  global_secondary_index {
    name                   = "byOwner"
    read_capacity_override = 5
  }
  global_secondary_index {
    name                   = "byOwner"
    read_capacity_override = 10
  }`), []string{"duplicate global secondary index", `Index "byOwner" has more than one global_secondary_index block`}},
		{"replica: index name too short", rep(`  global_secondary_index {
    name                   = "ix"
    read_capacity_override = 5
  }`), []string{"name", "must be a DynamoDB index name"}},
		{"replica: index override without capacity", rep(`  global_secondary_index {
    name = "byOwner"
  }`), []string{`"read_capacity_override" is required`}},
		{"replica: empty tag key", rep(`  tags = { "" = "x" }`), []string{"tags", "string length must be between 1 and 128"}},
		{"replica: tag key starting with aws:", rep(`  tags = { "aws:owner" = "x" }`), []string{"reserved tag key", `Tag key "aws:owner" must not start with aws:`}},
		{"replica: tag key starting with AWS:", rep(`  tags = { "AWS:Owner" = "x" }`), []string{"reserved tag key", `Tag key "AWS:Owner" must not start with aws:`}},
		{"replica: tag key too long", rep(fmt.Sprintf(`  tags = { %q = "x" }`, strings.Repeat("k", 129))), []string{"tags", "string length must be between 1 and 128"}},
		{"replica: tag value too long", rep(fmt.Sprintf(`  tags = { team = %q }`, strings.Repeat("v", 257))), []string{"tags", "string length must be at most 256"}},
		{"replica: tag key with a forbidden character", rep(`  tags = { "team#1" = "x" }`), []string{"tags", "may contain only letters, digits, spaces and _ . : / = + - @"}},
		{"replica: tag value with a forbidden character", rep(`  tags = { team = "a|b" }`), []string{"tags", "may contain only letters, digits, spaces and _ . : / = + - @"}},
		{"replica: more than 50 tags", rep("  tags = {\n    " + strings.Join(manyTags, "\n    ") + "\n  }"), []string{"tags", "must contain at most 50 elements"}},
		{"replica: provisioned table without write auto scaling", replicaConfig(provisioned, "eu-west-1", ""),
			[]string{"uses provisioned capacity without write capacity auto scaling in us-east-1", "Add an aws_appautoscaling_target"}},
		{"replica: provisioned index without write auto scaling", replicaConfig(indexNotScaled, "eu-west-1", ""),
			[]string{`Index "byOwner" of table "` + indexNotScaled + `" has provisioned capacity without write capacity auto scaling in us-east-1`,
				`resource_id = "table/` + indexNotScaled + `/index/byOwner"`}},
		{"replica: timeout not a duration", rep(`  timeouts = { create = "soon" }`), []string{"Invalid Attribute Value Time Duration", `"soon" must be a string containing a sequence of decimal numbers`}},
		{"replica: missing region", acctest.ProviderConfig() + fmt.Sprintf("resource \"ddbglobal_replica\" \"test\" {\n  table_name = %q\n}\n", plain),
			[]string{`The argument "region" is required`}},
		{"replica: misspelt argument", rep(`  tabel_class = "STANDARD"`), []string{`An argument named "tabel_class" is not expected here`}},
		{"replica: computed attribute set", rep(`  status = "ACTIVE"`), []string{"Invalid Configuration for Read-Only Attribute", "status"}},
	}
	if !acctest.RealAWS() {
		legacy := acctest.RandomName("tf-acc-bad-legacy")
		acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: legacy, Regions: []string{acctest.Region, "eu-west-1"}})
		cases = append(cases, badConfig{"replica: legacy global table", replicaConfig(legacy, "ap-south-1", ""),
			[]string{"is a legacy (2017.11.29) global table", "Upgrade it to 2019.11.21 first with the ddbglobal_version_upgrade resource"}})
	}
	return cases
}

func badMigrationConfigs(t *testing.T) []badConfig {
	f := newMigrationFixture(t, 1, "id")
	// Targets with the source's key name: of another type, and holding an item.
	numberKey := acctest.RandomName("tf-acc-bad-dst")
	createNumberKeyTable(t, f.dstRegion, numberKey)
	full := acctest.RandomName("tf-acc-bad-dst")
	acctest.CreateTable(t, acctest.TableSpec{Name: full, Region: f.dstRegion, HashKey: "pk"})
	putItem(t, f.dstRegion, full, "leftover")
	empty := acctest.RandomName("tf-acc-bad-dst")
	acctest.CreateTable(t, acctest.TableSpec{Name: empty, Region: f.dstRegion, HashKey: "pk"})
	keysOnly := acctest.RandomName("tf-acc-bad-src")
	acctest.CreateTable(t, acctest.TableSpec{Name: keysOnly, HashKey: "pk", StreamView: awstypes.StreamViewTypeKeysOnly})
	t.Cleanup(func() {
		_, err := acctest.DynamoDB(t, f.dstRegion).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(f.checkpoint)})
		var notFound *awstypes.ResourceNotFoundException
		if !errors.As(err, &notFound) {
			t.Errorf("refused plans created the checkpoint table (DescribeTable: %v)", err)
		}
	})

	side := func(table, region string) string {
		return fmt.Sprintf("{\n    table_name = %q\n    region     = %q\n  }", table, region)
	}
	src, dst := side(f.source, f.srcRegion), side(f.target, f.dstRegion)
	mig := func(source, target, extra string) string {
		return acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_live_migration" "test" {
  source %s
  target %s
  checkpoint_table = %q
%s
}
`, source, target, f.checkpoint, extra)
	}
	ok := func(extra string) string { return mig(src, dst, "  transform { rename = { pk = \"id\" } }\n"+extra) }
	absent := side(acctest.RandomName("tf-acc-bad-new"), f.dstRegion)
	restore := func(target, extra string) string {
		return mig(src, target, "  backfill {\n    method = \"restore\"\n  }\n"+extra)
	}
	return []badConfig{
		{"migration: source is the target", mig(src, src, ""), []string{"source and target are the same table"}},
		{"migration: keys do not map", mig(src, dst, ""),
			[]string{"The source key (pk) does not map onto the target key (id)", `no source key attribute becomes the target key attribute "id"`, "transform.rename"}},
		{"migration: key of another type", mig(src, side(numberKey, f.dstRegion), ""),
			[]string{"The source key (pk) does not map onto the target key (pk)", `source key "pk" is of type S but target key "pk" is of type N`,
				"cannot convert their type: create the target table with the same key attribute types as the source"}},
		{"migration: renamed key of another type", mig(side(f.target, f.dstRegion), side(numberKey, f.dstRegion), `  transform { rename = { id = "pk" } }`),
			[]string{`source key "id" is of type S but target key "pk" is of type N`, "cannot convert their type"}},
		{"migration: key renamed off the target key", mig(src, dst, `  transform { rename = { pk = "other" } }`),
			[]string{`the source key attribute "pk" becomes "other", which is not part of the target key`, "transform.rename"}},
		{"migration: key dropped", mig(src, dst, `  transform { drop = ["pk"] }`), []string{`the source key attribute "pk" is dropped`}},
		{"migration: key set to a constant", mig(src, dst, "  transform {\n    rename = { pk = \"id\" }\n    set    = { id = jsonencode({ S = \"x\" }) }\n  }"),
			[]string{`the target key attribute "id" is set to a constant`}},
		{"migration: two attributes renamed to one", mig(src, dst, `  transform { rename = { pk = "id", other = "id" } }`), []string{"invalid transform", `are both renamed to "id"`}},
		{"migration: constant not a number", mig(src, dst, "  transform {\n    rename = { pk = \"id\" }\n    set    = { v = jsonencode({ N = \"two\" }) }\n  }"), []string{"invalid transform", `"two" is not a number`}},
		{"migration: constant not DynamoDB JSON", mig(src, dst, "  transform {\n    rename = { pk = \"id\" }\n    set    = { v = \"plain\" }\n  }"), []string{"invalid transform", `transform.set["v"]`}},
		{"migration: attribute renamed and dropped", mig(src, dst, "  transform {\n    rename = { pk = \"id\", v = \"w\" }\n    drop   = [\"v\"]\n  }"), []string{"invalid transform", `"v" is both renamed and dropped`}},
		{"migration: rename to an empty name", mig(src, dst, `  transform { rename = { pk = "id", v = "" } }`), []string{"invalid transform", `rename of "v" has an empty target name`}},
		// Misspelt keys: Terraform would drop them silently from an object attribute, so
		// these settings are blocks (turning transform back into an attribute makes the
		// first case plan a copy that keeps "ssn").
		{"migration: misspelt transform key", mig(src, dst, `  transform { dorp = ["ssn"] }`),
			[]string{"Unsupported argument", `An argument named "dorp" is not expected here`}},
		{"migration: misspelt backfill key", ok(`  backfill { max_write_unit_per_second = 100 }`),
			[]string{"Unsupported argument", `An argument named "max_write_unit_per_second" is not expected here`}},
		{"migration: misspelt source key", mig("{\n    table_name = \"orders\"\n    region     = \"us-east-1\"\n    role       = \"arn:aws:iam::123456789012:role/r\"\n  }", dst, ""),
			[]string{"Unsupported argument", `An argument named "role" is not expected here`}},
		{"migration: misspelt target key", mig(src, "{\n    table_name = \"orders-v2\"\n    regoin     = \"eu-west-1\"\n  }", ""),
			[]string{`The argument "region" is required`}},
		{"migration: verification is not an input", ok(`  verification = { source_items = 1 }`),
			[]string{"Invalid Configuration for Read-Only Attribute", "verification"}},
		{"migration: no segments", ok(`  backfill { segments = 0 }`), []string{"segments", "must be between 1 and 1000000"}},
		{"migration: too many segments", ok(`  backfill { segments = 1000001 }`), []string{"segments", "must be between 1 and 1000000"}},
		{"migration: zero write rate", ok(`  backfill { max_write_units_per_second = 0 }`), []string{"max_write_units_per_second", "must be between 1"}},
		{"migration: zero read rate", ok(`  backfill { max_read_units_per_second = 0.5 }`), []string{"max_read_units_per_second", "must be between 1"}},
		{"migration: checkpoint is the target", strings.Replace(ok(""), fmt.Sprintf("checkpoint_table = %q", f.checkpoint), fmt.Sprintf("checkpoint_table = %q", f.target), 1),
			[]string{"checkpoint table is a migrated table"}},
		{"migration: checkpoint table name invalid", strings.Replace(ok(""), fmt.Sprintf("checkpoint_table = %q", f.checkpoint), `checkpoint_table = "my checkpoints"`, 1),
			[]string{"checkpoint_table", "must be a DynamoDB table name"}},
		{"migration: unknown sync mode", ok(`  sync = "sometimes"`), []string{"sync", `value must be one of: ["apply" "external"]`}},
		{"migration: unknown verify mode", ok(`  verify = "sample"`), []string{"verify", `value must be one of: ["full" "count" "none"]`}},
		{"migration: version attribute dropped", mig(src, dst, `  transform {
    rename = { pk = "id" }
    drop   = ["version"]
  }
  version_attribute = "version"`), []string{"version attribute dropped", `"version" is in transform.drop`}},
		{"migration: version attribute renamed", mig(src, dst, `  transform { rename = { pk = "id", version = "ver" } }
  version_attribute = "version"`), []string{"version attribute renamed", `version_attribute = "ver"`}},
		{"migration: version attribute is a key", ok(`  version_attribute = "id"`), []string{`version_attribute "id" is a key attribute`}},
		{"migration: empty version attribute", ok(`  version_attribute = ""`), []string{"version_attribute", "string length must be at least 1"}},
		{"migration: version attribute without old images", mig(side(keysOnly, f.srcRegion), side(empty, f.dstRegion), `  version_attribute = "updatedAt"`),
			[]string{"version_attribute needs the source stream to carry old and new images", "is KEYS_ONLY"}},
		{"migration: target holds items", mig(src, side(full, f.dstRegion), ""), []string{"already holds items", "set overwrite_target = true"}},
		{"migration: malformed source region", mig(side(f.source, "us-east"), dst, ""), []string{"source.region", "must be an AWS Region name"}},
		{"migration: target name with a space", mig(src, side("orders v2", f.dstRegion), ""), []string{"target.table_name", "must be a DynamoDB table name"}},
		{"migration: malformed role", mig("{\n    table_name = \"orders\"\n    region     = \"us-east-1\"\n    role_arn   = \"reader\"\n  }", dst, ""), []string{"source.role_arn", "must be an ARN"}},
		{"migration: timeout not a duration", ok(`  timeouts = { create = "1 hour" }`), []string{"Invalid Attribute Value Time Duration", `"1 hour" must be a string containing a sequence of decimal numbers`}},
		{"migration: missing target", acctest.ProviderConfig() + fmt.Sprintf("resource \"ddbglobal_live_migration\" \"test\" {\n  source %s\n}\n", src),
			[]string{"Invalid Block", "Block target must have a configuration value"}},
		// Backfill by restore (TestAccLiveMigration_restoreTargetAppearsBeforeApply: the same at apply).
		{"migration restore: target exists", restore(dst, ""),
			[]string{"backfill by restore: table " + f.target + " already exists", "a restore creates its target table", `backfill.method = "scan"`}},
		{"migration restore: key renamed", restore(absent, `  transform { rename = { pk = "id" } }`),
			[]string{`renames the key attribute "pk" to "id"`, "a restored table keeps the source's key schema (pk)"}},
		{"migration restore: key dropped", restore(absent, `  transform { drop = ["pk"] }`),
			[]string{`the transform changes the key attribute "pk"`}},
		{"migration restore: cross-account target", mig(src, fmt.Sprintf("{\n    table_name = \"orders2\"\n    region     = %q\n    role_arn   = \"arn:aws:iam::210987654321:role/target\"\n  }", f.dstRegion),
			"  backfill {\n    method = \"restore\"\n  }"), []string{"backfill by restore: cross-account target", "restores a backup only within the account that owns it"}},
		{"migration restore: version attribute", restore(absent, `  version_attribute = "version"`),
			[]string{"backfill by restore: version_attribute", "a restore creates its target table"}},
		{"migration restore: overwrite target", restore(absent, `  overwrite_target = true`),
			[]string{"backfill by restore: overwrite_target", "nothing to overwrite"}},
		{"migration restore: insert_if_absent", mig(src, absent, "  backfill {\n    method   = \"restore\"\n    hand_off = \"insert_if_absent\"\n  }"),
			[]string{"backfill by restore: hand_off", `hand_off = "replay"`}},
		{"migration restore: transform not idempotent", restore(absent, `  transform { rename = { a = "b", b = "c" } }`),
			[]string{"backfill by restore: transform applied in place", `renames onto "b", which it also renamed`}},
		{"migration: unknown backfill method", ok(`  backfill { method = "copy" }`), []string{"backfill.method", `value must be one of: ["scan" "restore"]`}},
	}
}

func badUpgradeConfigs(t *testing.T) []badConfig {
	plain := acctest.RandomName("tf-acc-bad-upg")
	acctest.CreateTable(t, acctest.TableSpec{Name: plain, HashKey: "pk"})
	cases := []badConfig{
		{"upgrade: table name too short", upgradeConfig("ab", ""), []string{"global_table_name", "must be a DynamoDB table name"}},
		{"upgrade: table name with a space", upgradeConfig("my table", ""), []string{"global_table_name", "must be a DynamoDB table name"}},
		{"upgrade: malformed region", upgradeConfig(plain, `  region = "EU"`), []string{"region", "must be an AWS Region name"}},
		{"upgrade: unknown capacity mode", upgradeConfig(plain, `  remediation_capacity_mode = "ONDEMAND"`),
			[]string{"remediation_capacity_mode", `value must be one of: ["PAY_PER_REQUEST" "AUTOSCALING"]`}},
		{"upgrade: not a global table", upgradeConfig(plain, ""), []string{"is neither a legacy (2017.11.29) global table nor a current global table"}},
		{"upgrade: acknowledgement missing", acctest.ProviderConfig() + fmt.Sprintf("resource \"ddbglobal_version_upgrade\" \"test\" {\n  global_table_name = %q\n}\n", plain),
			[]string{`The argument "acknowledge_replication_attributes_removal" is required`}},
	}
	if !acctest.RealAWS() {
		legacy := acctest.RandomName("tf-acc-bad-upg")
		acctest.CreateLegacyGlobalTable(t, acctest.LegacySpec{Name: legacy, Regions: []string{acctest.Region, "eu-west-1"}})
		cases = append(cases, badConfig{"upgrade: acknowledgement false", acctest.ProviderConfig() + fmt.Sprintf(`
resource "ddbglobal_version_upgrade" "test" {
  global_table_name                          = %q
  acknowledge_replication_attributes_removal = false
}
`, legacy), []string{"Replication attributes: not acknowledged", "acknowledge_replication_attributes_removal = true"}})
	}
	return cases
}

func badDataSourceConfigs() []badConfig {
	ds := func(kind, body string) string {
		return acctest.ProviderConfig() + fmt.Sprintf("data %q \"test\" {\n%s\n}\n", kind, body)
	}
	return []badConfig{
		{"table data source: name too short", ds("ddbglobal_table", `  name = "t"`), []string{"name", "must be a DynamoDB table name"}},
		{"table data source: malformed region", ds("ddbglobal_table", `  name = "orders"
  region = "moon-1"`), []string{"region", "must be an AWS Region name"}},
		{"table data source: no such table", ds("ddbglobal_table", `  name = "tf-acc-no-such-table"`), []string{`Table "tf-acc-no-such-table" does not exist in us-east-1`}},
		{"preflight data source: name with a slash", ds("ddbglobal_upgrade_preflight", `  global_table_name = "a/b/c"`), []string{"global_table_name", "must be a DynamoDB table name"}},
		{"preflight data source: malformed region", ds("ddbglobal_upgrade_preflight", `  global_table_name = "orders"
  region = "us-east-01x"`), []string{"region", "must be an AWS Region name"}},
		{"preflight data source: unknown capacity mode", ds("ddbglobal_upgrade_preflight", `  global_table_name = "orders"
  remediation_capacity_mode = "FAST"`), []string{"remediation_capacity_mode", "value must be one of"}},
	}
}

// createNumberKeyTable makes an on-demand table whose partition key pk is a number.
func createNumberKeyTable(t *testing.T, region, name string) {
	t.Helper()
	client := acctest.DynamoDB(t, region)
	ctx := context.Background()
	if _, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []awstypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: awstypes.ScalarAttributeTypeN}},
		KeySchema:            []awstypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: awstypes.KeyTypeHash}},
		BillingMode:          awstypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	if err := waitFor(time.Minute, func() error {
		if describe(t, region, name).TableStatus != awstypes.TableStatusActive {
			return fmt.Errorf("table %s not ACTIVE", name)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
