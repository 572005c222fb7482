package emulator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const accountB = "222222222222"

// ddbAs is a DynamoDB client of account (a twelve-digit access key is that account).
func ddbAs(account, region string) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsConfig(srv.Endpoint, region, account))
}

func tableArnOf(t *testing.T, ctx context.Context, c *dynamodb.Client, name string) string {
	t.Helper()
	return aws.ToString(describe(t, ctx, c, name).TableArn)
}

// Each account has its own tables: a table of account B is invisible to the
// default account's credentials by name, its ARN carries B, and two accounts can
// hold tables of the same name with different items. Catches: callLocal signing
// every scope with the one shared access key (both accounts would see one table).
func TestAccountsAreIsolated(t *testing.T) {
	ctx := fresh(t)
	a, b := ddbIn("us-east-1"), ddbAs(accountB, "us-east-1")
	createTable(t, ctx, b, "orders", false)
	if arn := tableArnOf(t, ctx, b, "orders"); arn != "arn:aws:dynamodb:us-east-1:"+accountB+":table/orders" {
		t.Fatalf("TableArn in account B = %s", arn)
	}
	_, err := a.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	wantCode(t, err, "ResourceNotFoundException", "")
	createTable(t, ctx, a, "orders", false)
	if arn := tableArnOf(t, ctx, a, "orders"); arn != "arn:aws:dynamodb:us-east-1:123456789012:table/orders" {
		t.Fatalf("TableArn in the default account = %s", arn)
	}
	putItem(t, ctx, b, "orders", map[string]types.AttributeValue{"pk": s("only-in-b")})
	if getItem(t, ctx, a, "orders", "only-in-b") != nil {
		t.Fatal("the default account reads account B's item")
	}
	if getItem(t, ctx, b, "orders", "only-in-b") == nil {
		t.Fatal("account B does not read its own item")
	}
	list, err := a.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(list.TableNames) != 1 {
		t.Fatalf("ListTables of the default account: %v %v", list, err)
	}
}

// A role's temporary credentials belong to the role's account.
func TestAssumedRoleLandsInItsAccount(t *testing.T) {
	ctx := fresh(t)
	client := sts.NewFromConfig(awsConfig(srv.Endpoint, "us-east-1", "AKIDBASE"))
	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + accountB + ":role/app"), RoleSessionName: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := awsConfig(srv.Endpoint, "us-east-1", aws.ToString(out.Credentials.AccessKeyId))
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != accountB || !strings.Contains(aws.ToString(id.Arn), ":assumed-role/app/") {
		t.Fatalf("GetCallerIdentity with the role's keys: %+v %v", id, err)
	}
	createTable(t, ctx, dynamodb.NewFromConfig(cfg), "by-role", false)
	if _, err := ddbAs(accountB, "us-east-1").DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("by-role")}); err != nil {
		t.Fatalf("account B does not see the table its role created: %v", err)
	}
	_, err = ddbIn("us-east-1").DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("by-role")})
	wantCode(t, err, "ResourceNotFoundException", "")
}

// Another account's table named by ARN is refused until its resource-based policy
// allows the caller, and then only for the actions the policy names. Catches:
// routeAccount letting any ARN through (the first GetItem would succeed).
func TestCrossAccountAccessNeedsResourcePolicy(t *testing.T) {
	ctx := fresh(t)
	a, b := ddbIn("us-east-1"), ddbAs(accountB, "us-east-1")
	createTable(t, ctx, b, "shared", false)
	putItem(t, ctx, b, "shared", map[string]types.AttributeValue{"pk": s("k1")})
	arn := tableArnOf(t, ctx, b, "shared")
	get := func() error {
		_, err := a.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(arn), Key: map[string]types.AttributeValue{"pk": s("k1")}})
		return err
	}
	wantCode(t, get(), "AccessDeniedException", "no resource-based policy allows the dynamodb:GetItem action")

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},` +
		`"Action":["dynamodb:GetItem","dynamodb:DescribeTable"],"Resource":"` + arn + `"}]}`
	if _, err := b.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	out, err := a.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(arn), Key: map[string]types.AttributeValue{"pk": s("k1")}})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem by ARN with an allowing policy: %v %v", out, err)
	}
	d, err := a.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(arn)})
	if err != nil || aws.ToString(d.Table.TableArn) != arn {
		t.Fatalf("DescribeTable by ARN: %v %v", d, err)
	}
	_, err = a.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(arn), Item: map[string]types.AttributeValue{"pk": s("k2")}})
	wantCode(t, err, "AccessDeniedException", "dynamodb:PutItem")
	// A third account is not the one the policy names.
	_, err = ddbAs("333333333333", "us-east-1").GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(arn), Key: map[string]types.AttributeValue{"pk": s("k1")}})
	wantCode(t, err, "AccessDeniedException", "dynamodb:GetItem")
	// An explicit Deny wins over the Allow.
	deny := strings.Replace(policy, `}]}`, `},{"Effect":"Deny","Principal":"*","Action":"dynamodb:GetItem","Resource":"`+arn+`"}]}`, 1)
	if _, err := b.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, get(), "AccessDeniedException", "dynamodb:GetItem")
	if calls := srv.CrossAccountCalls(); len(calls) != 2 || calls[0].Caller != "123456789012" || calls[0].TableARN != arn {
		t.Errorf("CrossAccountCalls = %+v", calls)
	}
}

// Put/Get/DeleteResourcePolicy keep AWS's documented rules: revisions, the 20 KB
// limit, PolicyNotFoundException, and a deleted table takes its policy along.
func TestResourcePolicyLifecycle(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	createTable(t, ctx, c, "pol", false)
	arn := tableArnOf(t, ctx, c, "pol")
	_, err := c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	wantCode(t, err, "PolicyNotFoundException", arn)
	_, err = c.DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: aws.String(arn)})
	wantCode(t, err, "PolicyNotFoundException", arn)

	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + accountB + `"},"Action":"dynamodb:GetItem","Resource":"` + arn + `"}]}`
	put, err := c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(doc), ExpectedRevisionId: aws.String("NO_POLICY")})
	if err != nil || aws.ToString(put.RevisionId) == "" {
		t.Fatalf("PutResourcePolicy: %v %v", put, err)
	}
	again, err := c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(doc)})
	if err != nil || aws.ToString(again.RevisionId) != aws.ToString(put.RevisionId) {
		t.Fatalf("the same document changed the revision: %v %v", again, err)
	}
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(doc), ExpectedRevisionId: aws.String("NO_POLICY")})
	wantCode(t, err, "PolicyNotFoundException", "")
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(doc), ExpectedRevisionId: aws.String("1")})
	wantCode(t, err, "PolicyNotFoundException", "")
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 20*1024) + `","Effect":"Allow","Principal":"*","Action":"dynamodb:GetItem","Resource":"` + arn + `"}]}`
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(big)})
	wantCode(t, err, "ValidationException", "exceeds the maximum")
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(`{"Statement":[{"Effect":"Maybe"}]}`)})
	wantCode(t, err, "ValidationException", "Effect")
	selfDeny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"dynamodb:PutResourcePolicy","Resource":"` + arn + `"}]}`
	_, err = c.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(selfDeny)})
	wantCode(t, err, "ValidationException", "ConfirmRemoveSelfResourceAccess")

	got, err := c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	if err != nil || aws.ToString(got.Policy) != doc || aws.ToString(got.RevisionId) != aws.ToString(put.RevisionId) {
		t.Fatalf("GetResourcePolicy: %v %v", got, err)
	}
	// Another account cannot read it by ARN without a grant of its own.
	_, err = ddbAs(accountB, "us-east-1").GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	wantCode(t, err, "AccessDeniedException", "dynamodb:GetResourcePolicy")

	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("pol")}); err != nil {
		t.Fatal(err)
	}
	createTable(t, ctx, c, "pol", false)
	_, err = c.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: aws.String(arn)})
	wantCode(t, err, "PolicyNotFoundException", "")
}
