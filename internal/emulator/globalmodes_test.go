package emulator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// replicationPolicy lets DynamoDB's replication service replicate tableArn for the
// given accounts, as AWS's multi-account tutorial writes it.
func replicationPolicy(tableArn string, accounts ...string) string {
	list := ""
	for i, a := range accounts {
		if i > 0 {
			list += ","
		}
		list += `"` + a + `"`
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["replication.dynamodb.amazonaws.com"]},` +
		`"Action":["dynamodb:ReadDataForReplication","dynamodb:WriteDataForReplication","dynamodb:ReplicateSettings"],` +
		`"Resource":"` + tableArn + `","Condition":{"StringEquals":{"aws:SourceAccount":[` + list + `]}}}]}`
}

func createReplicaIn(ctx context.Context, c *dynamodb.Client, name, sourceArn, policy string, mode types.GlobalTableSettingsReplicationMode) error {
	in := &dynamodb.CreateTableInput{
		TableName:                          aws.String(name),
		BillingMode:                        types.BillingModePayPerRequest,
		KeySchema:                          []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions:               []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalTableSourceArn:               aws.String(sourceArn),
		GlobalTableSettingsReplicationMode: mode,
	}
	if policy != "" {
		in.ResourcePolicy = aws.String(policy)
	}
	_, err := c.CreateTable(ctx, in)
	return err
}

// A replica in another account: refused until both resource-based policies allow
// the replication service, then CREATING, ACTIVE with the source's items, written
// both ways, described with its account's ReplicaArn and settings mode ENABLED;
// no second replica in a Region or account that has one, no same-account
// ReplicaUpdates; DeleteTable in its account takes it out. Catches: the policy
// check skipped (the first create succeeds), and a replica scoped to the caller's
// default account (the item would not be visible to account B).
func TestMultiAccountReplica(t *testing.T) {
	ctx := fresh(t)
	a, b := ddbIn("us-east-1"), ddbAs(accountB, "us-west-2")
	createTable(t, ctx, a, "ma-table", false)
	putItem(t, ctx, a, "ma-table", map[string]types.AttributeValue{"pk": s("before")})
	srcArn := tableArnOf(t, ctx, a, "ma-table")
	replicaArn := "arn:aws:dynamodb:us-west-2:" + accountB + ":table/ma-table"
	replicaPolicy := replicationPolicy(replicaArn, "123456789012", accountB)

	wantCode(t, createReplicaIn(ctx, b, "ma-table", srcArn, replicaPolicy, types.GlobalTableSettingsReplicationModeEnabled),
		"ValidationException", "resource-based policy of "+srcArn+" does not allow replication.dynamodb.amazonaws.com")
	// The source grants only its own account: still refused for B.
	if _, err := a.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(srcArn), Policy: aws.String(replicationPolicy(srcArn, "123456789012"))}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, createReplicaIn(ctx, b, "ma-table", srcArn, replicaPolicy, types.GlobalTableSettingsReplicationModeEnabled), "ValidationException", "does not allow")
	if _, err := a.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(srcArn), Policy: aws.String(replicationPolicy(srcArn, "123456789012", accountB))}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, createReplicaIn(ctx, b, "ma-table", srcArn, "", types.GlobalTableSettingsReplicationModeEnabled), "ValidationException", "new replica's ResourcePolicy")
	wantCode(t, createReplicaIn(ctx, b, "ma-table", srcArn, replicaPolicy, ""), "ValidationException", "GlobalTableSettingsReplicationMode")
	wantCode(t, createReplicaIn(ctx, ddbIn("us-west-2"), "ma-table", srcArn, replicaPolicy, types.GlobalTableSettingsReplicationModeEnabled), "ValidationException", "this account")

	if err := createReplicaIn(ctx, b, "ma-table", srcArn, replicaPolicy, types.GlobalTableSettingsReplicationModeEnabled); err != nil {
		t.Fatalf("creating the replica in account B: %v", err)
	}
	waitReplicaActive(t, ctx, a, "ma-table", "us-west-2")
	if got := aws.ToString(describe(t, ctx, b, "ma-table").TableArn); got != replicaArn {
		t.Fatalf("replica TableArn = %s", got)
	}
	eventually(t, 10*time.Second, "the source's item in account B", func() (bool, string) {
		return getItem(t, ctx, b, "ma-table", "before") != nil, ""
	})
	putItem(t, ctx, b, "ma-table", map[string]types.AttributeValue{"pk": s("from-b")})
	eventually(t, 10*time.Second, "account B's item in the source", func() (bool, string) {
		return getItem(t, ctx, a, "ma-table", "from-b") != nil, ""
	})
	td := describe(t, ctx, a, "ma-table")
	var rep *types.ReplicaDescription
	for i := range td.Replicas {
		if aws.ToString(td.Replicas[i].RegionName) == "us-west-2" {
			rep = &td.Replicas[i]
		}
	}
	if rep == nil || aws.ToString(rep.ReplicaArn) != replicaArn || rep.GlobalTableSettingsReplicationMode != types.GlobalTableSettingsReplicationModeEnabled {
		t.Fatalf("replica description = %+v", rep)
	}
	// One replica per Region, one per account, and no same-account replicas.
	wantCode(t, createReplicaIn(ctx, ddbAs("333333333333", "us-west-2"), "ma-table", srcArn, replicationPolicy("arn:aws:dynamodb:us-west-2:333333333333:table/ma-table", "123456789012", accountB, "333333333333"),
		types.GlobalTableSettingsReplicationModeEnabled), "ValidationException", "one replica per Region")
	wantCode(t, createReplicaIn(ctx, ddbAs(accountB, "eu-west-1"), "ma-table", srcArn, replicationPolicy("arn:aws:dynamodb:eu-west-1:"+accountB+":table/ma-table", "123456789012", accountB),
		types.GlobalTableSettingsReplicationModeEnabled), "ValidationException", "separate account")
	_, err := a.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ma-table"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
	wantCode(t, err, "ValidationException", "multi-account global table")

	if _, err := b.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ma-table")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the source back to a single-Region table", func() (bool, string) {
		td := describe(t, ctx, a, "ma-table")
		return len(td.Replicas) == 0, fmt.Sprint(len(td.Replicas))
	})
}

// MRSC: refused on a table with items, outside one Region set, with the wrong
// number of members; created with two replicas in one call, reported STRONG, no
// one-by-one changes and no change of mode afterwards; with a witness, the
// witness is reported and leaves with the other replica. Catches: the empty-table
// rule skipped (the first STRONG update succeeds).
func TestMultiRegionStrongConsistency(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	strong := func(name string, replicas []string, witness string) error {
		in := &dynamodb.UpdateTableInput{TableName: aws.String(name), MultiRegionConsistency: types.MultiRegionConsistencyStrong}
		for _, r := range replicas {
			in.ReplicaUpdates = append(in.ReplicaUpdates, types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(r)}})
		}
		if witness != "" {
			in.GlobalTableWitnessUpdates = []types.GlobalTableWitnessGroupUpdate{{Create: &types.CreateGlobalTableWitnessGroupMemberAction{RegionName: aws.String(witness)}}}
		}
		_, err := c.UpdateTable(ctx, in)
		return err
	}
	createTable(t, ctx, c, "full", false)
	putItem(t, ctx, c, "full", map[string]types.AttributeValue{"pk": s("x")})
	wantCode(t, strong("full", []string{"us-east-2", "us-west-2"}, ""), "ValidationException", "holds items")

	createTable(t, ctx, c, "sc-table", false)
	wantCode(t, strong("sc-table", []string{"us-east-2"}, ""), "ValidationException", "three replicas, or two replicas and one witness")
	wantCode(t, strong("sc-table", []string{"us-east-2", "eu-west-1"}, ""), "ValidationException", "one Region set")
	wantCode(t, strong("sc-table", []string{"us-east-2", "us-east-2"}, ""), "ValidationException", "different Regions")
	if err := strong("sc-table", []string{"us-east-2", "us-west-2"}, ""); err != nil {
		t.Fatalf("creating the MRSC table: %v", err)
	}
	waitReplicaActive(t, ctx, c, "sc-table", "us-east-2")
	waitReplicaActive(t, ctx, c, "sc-table", "us-west-2")
	if td := describe(t, ctx, ddbIn("us-west-2"), "sc-table"); td.MultiRegionConsistency != types.MultiRegionConsistencyStrong {
		t.Fatalf("MultiRegionConsistency in us-west-2 = %q", td.MultiRegionConsistency)
	}
	putItem(t, ctx, c, "sc-table", map[string]types.AttributeValue{"pk": s("k")})
	eventually(t, 10*time.Second, "the item in us-west-2", func() (bool, string) {
		return getItem(t, ctx, ddbIn("us-west-2"), "sc-table", "k") != nil, ""
	})
	_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("sc-table"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("us-west-2")}}}})
	wantCode(t, err, "ValidationException", "one by one")
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("sc-table"), MultiRegionConsistency: types.MultiRegionConsistencyEventual,
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}})
	wantCode(t, err, "ValidationException", "cannot change")

	// Two replicas and a witness, in the EU set.
	eu := ddbIn("eu-west-1")
	createTable(t, ctx, eu, "wt-table", false)
	_, err = eu.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("wt-table"), MultiRegionConsistency: types.MultiRegionConsistencyStrong,
		ReplicaUpdates:            []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-2")}}},
		GlobalTableWitnessUpdates: []types.GlobalTableWitnessGroupUpdate{{Create: &types.CreateGlobalTableWitnessGroupMemberAction{RegionName: aws.String("eu-west-3")}}}})
	if err != nil {
		t.Fatalf("creating the MRSC table with a witness: %v", err)
	}
	waitReplicaActive(t, ctx, eu, "wt-table", "eu-west-2")
	eventually(t, 10*time.Second, "the witness ACTIVE", func() (bool, string) {
		td := describe(t, ctx, eu, "wt-table")
		return len(td.GlobalTableWitnesses) == 1 && aws.ToString(td.GlobalTableWitnesses[0].RegionName) == "eu-west-3" &&
			td.GlobalTableWitnesses[0].WitnessStatus == types.WitnessStatusActive, fmt.Sprint(td.GlobalTableWitnesses)
	})
	_, err = eu.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("wt-table"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-2")}}}})
	wantCode(t, err, "ValidationException", "one by one")
	_, err = eu.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("wt-table"),
		ReplicaUpdates:            []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-2")}}},
		GlobalTableWitnessUpdates: []types.GlobalTableWitnessGroupUpdate{{Delete: &types.DeleteGlobalTableWitnessGroupMemberAction{RegionName: aws.String("eu-west-3")}}}})
	if err != nil {
		t.Fatalf("deleting the replica and the witness: %v", err)
	}
	eventually(t, 10*time.Second, "a single-Region table again", func() (bool, string) {
		td := describe(t, ctx, eu, "wt-table")
		return len(td.Replicas) == 0 && td.MultiRegionConsistency == "", fmt.Sprint(td.Replicas)
	})

	// An MREC global table does not become MRSC.
	createTable(t, ctx, c, "mrec", false)
	addReplica(t, ctx, c, "mrec", "us-west-2")
	wantCode(t, strong("mrec", []string{"us-east-2"}, "us-west-2"), "ValidationException", "cannot change")
}

// Replication goes on when another table of the member's Region enables its stream
// afterwards (a migration's source next to its global target): DynamoDB Local then
// refuses the replicator's LATEST iterator with TrimmedDataAccessException for good.
// Catches: the replicator keeping the dead iterator (the item never arrives).
func TestReplicationSurvivesAnotherStreamInTheRegion(t *testing.T) {
	ctx := fresh(t)
	c := ddbIn("us-east-1")
	createTable(t, ctx, c, "global-t", false)
	addReplica(t, ctx, c, "global-t", "us-west-2")
	createTable(t, ctx, c, "other-t", false)
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("other-t"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}}); err != nil {
		t.Fatal(err)
	}
	putItem(t, ctx, c, "other-t", map[string]types.AttributeValue{"pk": s("o")})
	putItem(t, ctx, c, "global-t", map[string]types.AttributeValue{"pk": s("g")})
	eventually(t, 10*time.Second, "the item in us-west-2", func() (bool, string) {
		return getItem(t, ctx, ddbIn("us-west-2"), "global-t", "g") != nil, ""
	})
}

// The 24 h hold on a source table ("You won't be able to delete a source table until
// at least 24 hours after it's used to initiate a new Region", V2globaltables_HowItWorks.html)
// holds however the new replica was added: by CreateTable GlobalTableSourceArn in
// another account (the source's account cannot delete its table until the hold is
// over), and by an MRSC create (the Region that called it cannot delete its table).
// Catches: the hold recorded only for same-account ReplicaUpdates Create (the first
// DeleteTable succeeds).
func TestSourceHoldInEveryMode(t *testing.T) {
	ctx := fresh(t)
	a, b := ddbIn("us-east-1"), ddbAs(accountB, "us-west-2")
	createTable(t, ctx, a, "ma-hold", false)
	srcArn := tableArnOf(t, ctx, a, "ma-hold")
	if _, err := a.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(srcArn),
		Policy: aws.String(replicationPolicy(srcArn, "123456789012", accountB))}); err != nil {
		t.Fatal(err)
	}
	replicaArn := "arn:aws:dynamodb:us-west-2:" + accountB + ":table/ma-hold"
	if err := createReplicaIn(ctx, b, "ma-hold", srcArn, replicationPolicy(replicaArn, "123456789012", accountB),
		types.GlobalTableSettingsReplicationModeEnabled); err != nil {
		t.Fatal(err)
	}
	waitReplicaActive(t, ctx, a, "ma-hold", "us-west-2")
	_, err := a.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ma-hold")})
	wantCode(t, err, "ValidationException", "acted as a source region")
	srv.SetDelays(emulator.Delays{SourceHold: time.Millisecond})
	if _, err := a.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ma-hold")}); err != nil {
		t.Fatalf("deleting the source once the hold is over: %v", err)
	}
	srv.SetDelays(emulator.Delays{SourceHold: 24 * time.Hour})

	// MRSC: the calling Region sourced both new replicas.
	createTable(t, ctx, a, "sc-hold", false)
	if _, err := a.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("sc-hold"), MultiRegionConsistency: types.MultiRegionConsistencyStrong,
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("us-east-2")}},
			{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("us-west-2")}}}}); err != nil {
		t.Fatal(err)
	}
	waitReplicaActive(t, ctx, a, "sc-hold", "us-east-2")
	waitReplicaActive(t, ctx, a, "sc-hold", "us-west-2")
	_, err = a.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("sc-hold")})
	wantCode(t, err, "ValidationException", "acted as a source region")
}
