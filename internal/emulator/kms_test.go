package emulator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func kmsIn(region string) *kms.Client {
	return kms.NewFromConfig(awsConfig(srv.Endpoint, region, "AKIDKMS"))
}

func createKey(t *testing.T, ctx context.Context, region string) *kmstypes.KeyMetadata {
	t.Helper()
	out, err := kmsIn(region).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("test key")})
	if err != nil {
		t.Fatalf("CreateKey in %s: %v", region, err)
	}
	return out.KeyMetadata
}

// The emulated KMS: keys found by id, ARN and alias in their own Region only; each
// Region's AWS managed key alias/aws/dynamodb; aliases listed; key states. Catches a
// DescribeKey that answers for any key (as the emulator's first KMS did), an alias
// resolved across Regions, and alias/aws/ names accepted.
func TestKMSKeysAndAliases(t *testing.T) {
	ctx := fresh(t)
	east, west := kmsIn("us-east-1"), kmsIn("eu-west-1")
	key := createKey(t, ctx, "us-east-1")
	if key.KeyManager != kmstypes.KeyManagerTypeCustomer || key.KeyState != kmstypes.KeyStateEnabled ||
		!strings.HasPrefix(aws.ToString(key.Arn), "arn:aws:kms:us-east-1:123456789012:key/") {
		t.Fatalf("new key = %+v", key)
	}
	if _, err := east.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: key.KeyId}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{aws.ToString(key.KeyId), aws.ToString(key.Arn), "alias/orders", "arn:aws:kms:us-east-1:123456789012:alias/orders"} {
		out, err := east.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		if err != nil {
			t.Fatalf("DescribeKey %s: %v", ref, err)
		}
		if aws.ToString(out.KeyMetadata.Arn) != aws.ToString(key.Arn) {
			t.Fatalf("DescribeKey %s = %s, want %s", ref, aws.ToString(out.KeyMetadata.Arn), aws.ToString(key.Arn))
		}
	}
	for _, ref := range []string{aws.ToString(key.KeyId), aws.ToString(key.Arn), "alias/orders", "00000000-0000-4000-8000-000000000000"} {
		_, err := west.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		wantCode(t, err, "NotFoundException", "")
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		out, err := kmsIn(region).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/dynamodb")})
		if err != nil {
			t.Fatal(err)
		}
		if out.KeyMetadata.KeyManager != kmstypes.KeyManagerTypeAws || !strings.HasPrefix(aws.ToString(out.KeyMetadata.Arn), "arn:aws:kms:"+region+":") {
			t.Fatalf("alias/aws/dynamodb in %s = %+v", region, out.KeyMetadata)
		}
	}
	_, err := east.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/aws/mine"), TargetKeyId: key.KeyId})
	wantCode(t, err, "InvalidAliasNameException", "")
	_, err = east.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: key.KeyId})
	wantCode(t, err, "AlreadyExistsException", "")
	aliases, err := east.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range aliases.Aliases {
		names = append(names, aws.ToString(a.AliasName))
	}
	if strings.Join(names, ",") != "alias/aws/dynamodb,alias/orders" {
		t.Fatalf("aliases in us-east-1 = %v", names)
	}

	if _, err := east.DisableKey(ctx, &kms.DisableKeyInput{KeyId: key.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := describeKey(t, ctx, east, aws.ToString(key.KeyId)); st.KeyState != kmstypes.KeyStateDisabled || st.Enabled {
		t.Fatalf("after DisableKey: %s enabled=%v", st.KeyState, st.Enabled)
	}
	if _, err := east.EnableKey(ctx, &kms.EnableKeyInput{KeyId: key.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = east.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyId, PendingWindowInDays: aws.Int32(3)})
	wantCode(t, err, "ValidationException", "between 7 and 30")
	del, err := east.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	if del.KeyState != kmstypes.KeyStatePendingDeletion || aws.ToInt32(del.PendingWindowInDays) != 7 || del.DeletionDate == nil {
		t.Fatalf("ScheduleKeyDeletion = %+v", del)
	}
	_, err = east.EnableKey(ctx, &kms.EnableKeyInput{KeyId: key.KeyId})
	wantCode(t, err, "KMSInvalidStateException", "pending deletion")
	_, err = east.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String("alias/aws/dynamodb")})
	wantCode(t, err, "AccessDeniedException", "")
}

func describeKey(t *testing.T, ctx context.Context, c *kms.Client, ref string) *kmstypes.KeyMetadata {
	t.Helper()
	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
	if err != nil {
		t.Fatalf("DescribeKey %s: %v", ref, err)
	}
	return out.KeyMetadata
}

// DynamoDB against the KMS: a replica's key must exist in the replica's Region and be
// enabled; a replica whose key is disabled turns INACCESSIBLE_ENCRYPTION_CREDENTIALS
// after a delay, and ACTIVE again once the key is enabled. Catches a replica key taken
// on trust (a made-up or disabled key), and a disabled key that goes unnoticed.
func TestReplicaKeyMustBeUsable(t *testing.T) {
	ctx := fresh(t)
	srv.SetKMSInaccessibleDelay(300 * time.Millisecond)
	east := ddbIn("us-east-1")
	eastKey := createKey(t, ctx, "us-east-1")
	createTable(t, ctx, east, "cmk", false, func(in *dynamodb.CreateTableInput) {
		in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: eastKey.KeyId}
	})
	if got := aws.ToString(describe(t, ctx, east, "cmk").SSEDescription.KMSMasterKeyArn); got != aws.ToString(eastKey.Arn) {
		t.Fatalf("table key read back as %q, want %q", got, aws.ToString(eastKey.Arn))
	}
	wantCode(t, replicaUpdate(ctx, east, "cmk", createIn("eu-west-1", "00000000-0000-4000-8000-000000000000")), "ValidationException", "does not exist")
	westKey := createKey(t, ctx, "eu-west-1")
	if _, err := kmsIn("eu-west-1").DisableKey(ctx, &kms.DisableKeyInput{KeyId: westKey.KeyId}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, replicaUpdate(ctx, east, "cmk", createIn("eu-west-1", aws.ToString(westKey.Arn))), "ValidationException", "is Disabled")
	if _, err := kmsIn("eu-west-1").EnableKey(ctx, &kms.EnableKeyInput{KeyId: westKey.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := kmsIn("eu-west-1").CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/west"), TargetKeyId: westKey.KeyId}); err != nil {
		t.Fatal(err)
	}
	if err := replicaUpdate(ctx, east, "cmk", createIn("eu-west-1", "alias/west")); err != nil {
		t.Fatal(err)
	}
	waitReplicaActive(t, ctx, east, "cmk", "eu-west-1")
	if got := aws.ToString(replicaOf(t, ctx, east, "cmk", "eu-west-1").KMSMasterKeyId); got != aws.ToString(westKey.Arn) {
		t.Fatalf("replica key = %q, want the alias's key %q", got, aws.ToString(westKey.Arn))
	}
	if _, err := kmsIn("eu-west-1").DisableKey(ctx, &kms.DisableKeyInput{KeyId: westKey.KeyId}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "replica INACCESSIBLE_ENCRYPTION_CREDENTIALS", func() (bool, string) {
		st := replicaStatus(describe(t, ctx, east, "cmk"), "eu-west-1")
		return st == "INACCESSIBLE_ENCRYPTION_CREDENTIALS", st
	})
	if _, err := kmsIn("eu-west-1").EnableKey(ctx, &kms.EnableKeyInput{KeyId: westKey.KeyId}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "replica ACTIVE again", func() (bool, string) {
		st := replicaStatus(describe(t, ctx, east, "cmk"), "eu-west-1")
		return st == "ACTIVE", st
	})
}

func replicaOf(t *testing.T, ctx context.Context, c *dynamodb.Client, table, region string) types.ReplicaDescription {
	t.Helper()
	for _, r := range describe(t, ctx, c, table).Replicas {
		if aws.ToString(r.RegionName) == region {
			return r
		}
	}
	t.Fatalf("%s has no replica in %s", table, region)
	return types.ReplicaDescription{}
}

// A table's own key (CreateTable and UpdateTable SSESpecification) must exist in the
// table's Region and be enabled, as a replica's must; it is found by key id, key ARN,
// alias name or alias ARN and read back as the key's ARN. A refused CreateTable
// creates nothing. Catches a table key taken on trust (a made-up, disabled or
// other-Region key accepted, as before this rule), and an alias stored as written.
func TestTableKeyMustBeUsable(t *testing.T) {
	ctx := fresh(t)
	east, eastKMS := ddbIn("us-east-1"), kmsIn("us-east-1")
	key := createKey(t, ctx, "us-east-1")
	keyArn := aws.ToString(key.Arn)
	if _, err := eastKMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/orders"), TargetKeyId: key.KeyId}); err != nil {
		t.Fatal(err)
	}
	disabled := createKey(t, ctx, "us-east-1")
	if _, err := eastKMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: disabled.KeyId}); err != nil {
		t.Fatal(err)
	}
	westKey := createKey(t, ctx, "eu-west-1")
	if _, err := kmsIn("eu-west-1").CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/west"), TargetKeyId: westKey.KeyId}); err != nil {
		t.Fatal(err)
	}
	withKey := func(ref string) func(*dynamodb.CreateTableInput) {
		return func(in *dynamodb.CreateTableInput) {
			in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(ref)}
		}
	}
	create := func(name, ref string) error {
		in := &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			BillingMode:          types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		}
		withKey(ref)(in)
		_, err := east.CreateTable(ctx, in)
		return err
	}
	for _, c := range []struct{ ref, want string }{
		{"00000000-0000-4000-8000-000000000000", "does not exist"},
		{"alias/nowhere", "is not found"},
		{aws.ToString(disabled.Arn), "is Disabled"},
		{aws.ToString(westKey.Arn), "must be in that Region"},
		{aws.ToString(westKey.KeyId), "does not exist"},
		{"arn:aws:kms:eu-west-1:123456789012:alias/west", "must be in that Region"},
	} {
		wantCode(t, create("refused", c.ref), "ValidationException", c.want)
		_, err := east.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("refused")})
		wantCode(t, err, "ResourceNotFoundException", "")
	}
	for i, ref := range []string{aws.ToString(key.KeyId), keyArn, "alias/orders", "arn:aws:kms:us-east-1:123456789012:alias/orders"} {
		name := fmt.Sprintf("cmk-%d", i)
		createTable(t, ctx, east, name, false, withKey(ref))
		if got := aws.ToString(describe(t, ctx, east, name).SSEDescription.KMSMasterKeyArn); got != keyArn {
			t.Fatalf("table created with key %s reads back %q, want %q", ref, got, keyArn)
		}
	}
	createTable(t, ctx, east, "managed", false, withKey("alias/aws/dynamodb"))

	createTable(t, ctx, east, "owned", false)
	update := func(ref string) error {
		_, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("owned"),
			SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(ref)}})
		return err
	}
	wantCode(t, update("11111111-1111-4111-8111-111111111111"), "ValidationException", "does not exist")
	wantCode(t, update(aws.ToString(disabled.KeyId)), "ValidationException", "is Disabled")
	wantCode(t, update(aws.ToString(westKey.Arn)), "ValidationException", "must be in that Region")
	if td := describe(t, ctx, east, "owned"); td.SSEDescription != nil {
		t.Fatalf("a refused UpdateTable changed the encryption: %+v", td.SSEDescription)
	}
	if err := update("alias/orders"); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(describe(t, ctx, east, "owned").SSEDescription.KMSMasterKeyArn); got != keyArn {
		t.Fatalf("table updated to alias/orders reads back %q, want %q", got, keyArn)
	}
}
