package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root, rel, body string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Only kept services stay registered; an SDK client stays when kept code imports its
// package or asks the client registry for it, and goes otherwise. Catches dropping a
// client that kept code calls (the trimmed build would not compile) and keeping
// everything (no time saved).
func TestTrim(t *testing.T) {
	root := t.TempDir()
	write(t, root, "internal/provider/sdkv2/service_packages_gen.go", `import (
	"github.com/hashicorp/terraform-provider-aws/internal/service/dynamodb"
	"github.com/hashicorp/terraform-provider-aws/internal/service/ec2"
	"github.com/hashicorp/terraform-provider-aws/internal/service/lambda"
)
	v := []conns.ServicePackage{
		dynamodb.ServicePackage(ctx),
		ec2.ServicePackage(ctx),
		lambda.ServicePackage(ctx),
	}
`)
	write(t, root, "internal/acctest/acctest.go", `import tfec2 "github.com/hashicorp/terraform-provider-aws/internal/service/ec2"`+"\n")
	write(t, root, "internal/conns/awsclient_gen.go", `import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

func (c *AWSClient) DynamoDBClient(ctx context.Context) *dynamodb.Client {
	return nil
}

func (c *AWSClient) LambdaClient(ctx context.Context) *lambda.Client {
	return nil
}

func (c *AWSClient) S3ControlClient(ctx context.Context) *s3control.Client {
	return nil
}
`)
	write(t, root, "internal/service/dynamodb/table.go", `import "github.com/aws/aws-sdk-go-v2/service/dynamodb"`+"\nx := c.S3ControlClient(ctx)\n")
	write(t, root, "internal/service/lambda/function.go", `import "github.com/aws/aws-sdk-go-v2/service/lambda"`+"\n")
	if err := trim(root, []string{"dynamodb"}); err != nil {
		t.Fatal(err)
	}
	reg, _ := os.ReadFile(filepath.Join(root, "internal/provider/sdkv2/service_packages_gen.go"))
	if s := string(reg); !strings.Contains(s, "dynamodb.ServicePackage") || !strings.Contains(s, "ec2.ServicePackage") || strings.Contains(s, "lambda") {
		t.Errorf("registry after trim:\n%s", s)
	}
	gen, _ := os.ReadFile(filepath.Join(root, "internal/conns/awsclient_gen.go"))
	if s := string(gen); !strings.Contains(s, "DynamoDBClient") || !strings.Contains(s, "S3ControlClient") || !strings.Contains(s, `service/s3control"`) ||
		strings.Contains(s, "lambda") {
		t.Errorf("client registry after trim:\n%s", s)
	}
}
