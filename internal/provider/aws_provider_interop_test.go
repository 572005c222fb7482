package provider_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// awsProviderBinaryEnv names a terraform-provider-aws binary for
// TestAccAWSProviderInterop. Building one takes about half an hour on two cores, so
// the test is opt-in.
const awsProviderBinaryEnv = "DDBGLOBAL_AWS_PROVIDER_BINARY"

// TestAccAWSProviderInterop runs a client no one here wrote against the emulator:
// hashicorp/aws creates aws_dynamodb_table with and without replica blocks and
// aws_dynamodb_table_replica, next to a ddbglobal_replica and a ddbglobal_table data
// source; the second plan must be empty and destroy must succeed. Both providers
// come from dev_overrides in a CLI config in a temporary directory, never from the
// registry.
func TestAccAWSProviderInterop(t *testing.T) {
	bin := os.Getenv(awsProviderBinaryEnv)
	if bin == "" {
		t.Skip(awsProviderBinaryEnv + " is not set: point it at a terraform-provider-aws binary to run hashicorp/aws against the emulator")
	}
	acctest.PreCheck(t)
	acctest.Emulator(t)
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatal("terraform is not on PATH")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v", awsProviderBinaryEnv, err)
	}
	work := t.TempDir()
	ours, theirs := filepath.Join(work, "ddbglobal"), filepath.Join(work, "aws")
	build := exec.Command("go", "build", "-o", filepath.Join(ours, "terraform-provider-ddbglobal"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	if err := os.MkdirAll(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(theirs, "terraform-provider-aws")); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(work, "terraformrc")
	if err := os.WriteFile(cliConfig, []byte(awsInteropCLIConfig(ours, theirs)), 0o600); err != nil {
		t.Fatal(err)
	}
	suffix := acctest.RandomName("interop")
	dir := filepath.Join(work, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(awsInteropConfig(acctest.Endpoint(), suffix)), 0o644); err != nil {
		t.Fatal(err)
	}
	tf := func(args ...string) (string, error) {
		cmd := exec.Command("terraform", append(args, "-no-color")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_, _ = tf("destroy", "-auto-approve", "-input=false")
		}
	})
	if out, err := tf("apply", "-auto-approve", "-input=false"); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	ctx := context.Background()
	east := acctest.DynamoDB(t, "us-east-1")
	for table, region := range map[string]string{"aws-replica-" + suffix: "eu-west-1", "aws-table-replica-" + suffix: "eu-west-1", "ours-" + suffix: "us-west-2"} {
		out, err := east.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatalf("DescribeTable %s: %v", table, err)
		}
		if ddb.FindReplica(out.Table, region) == nil {
			t.Fatalf("%s has no replica in %s: %+v", table, region, out.Table.Replicas)
		}
	}
	if out, err := tf("plan", "-detailed-exitcode", "-input=false"); err != nil {
		t.Fatalf("the plan after apply is not empty: %v\n%s", err, out)
	}
	if out, err := tf("destroy", "-auto-approve", "-input=false"); err != nil {
		t.Fatalf("terraform destroy: %v\n%s", err, out)
	}
	destroyed = true
}

func awsInteropCLIConfig(ours, theirs string) string {
	return fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/ddbglobal/ddbglobal" = %q
    "registry.terraform.io/hashicorp/aws"       = %q
  }
  direct {}
}
`, ours, theirs)
}

// awsInteropConfig is the configuration docs/guides/using-the-emulator-with-hashicorp-aws.md
// shows, for two Regions, with every table named by suffix.
func awsInteropConfig(endpoint, suffix string) string {
	var b strings.Builder
	b.WriteString(`terraform {
  required_providers {
    aws       = { source = "hashicorp/aws" }
    ddbglobal = { source = "ddbglobal/ddbglobal" }
  }
}
`)
	for _, p := range []struct{ alias, region string }{{"", "us-east-1"}, {"west", "eu-west-1"}} {
		alias := ""
		if p.alias != "" {
			alias = fmt.Sprintf("  alias = %q\n", p.alias)
		}
		fmt.Fprintf(&b, `provider "aws" {
%s  region                      = %q
  access_key                  = "emulator"
  secret_key                  = "emulator"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    dynamodb = %q
    kms      = %q
    sts      = %q
  }
}
`, alias, p.region, endpoint, endpoint, endpoint)
	}
	b.WriteString(acctest.ProviderConfigWithEndpoint(endpoint))
	fmt.Fprintf(&b, `
locals {
  suffix = %q
}

resource "aws_dynamodb_table" "plain" {
  name         = "aws-plain-${local.suffix}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  attribute {
    name = "pk"
    type = "S"
  }
}

resource "aws_dynamodb_table" "with_replica" {
  name             = "aws-replica-${local.suffix}"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "pk"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  attribute {
    name = "pk"
    type = "S"
  }
  replica {
    region_name = "eu-west-1"
  }
}

resource "aws_dynamodb_table" "base" {
  name             = "aws-table-replica-${local.suffix}"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "pk"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  attribute {
    name = "pk"
    type = "S"
  }
  lifecycle {
    ignore_changes = [replica]
  }
}

resource "aws_dynamodb_table_replica" "west" {
  provider         = aws.west
  global_table_arn = aws_dynamodb_table.base.arn
}

resource "aws_dynamodb_table" "ours" {
  name         = "ours-${local.suffix}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  # A replica turns the stream on (as on AWS): say so, or the next plan turns it off.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  attribute {
    name = "pk"
    type = "S"
  }
  lifecycle {
    ignore_changes = [replica]
  }
}

resource "ddbglobal_replica" "ours" {
  table_name = aws_dynamodb_table.ours.name
  region     = "us-west-2"
}

data "ddbglobal_table" "with_replica" {
  name       = aws_dynamodb_table.with_replica.name
  depends_on = [aws_dynamodb_table.with_replica]
}

output "with_replica_regions" {
  value = [for r in data.ddbglobal_table.with_replica.replicas : r.region]
}
`, suffix)
	return b.String()
}
