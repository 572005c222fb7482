package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// ddbAs is a client of another emulated account (a twelve-digit access key is that account).
func ddbAs(ep, account, region string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider(account, "secret", "")})
}

// A migration whose source and target live in two other accounts, each reached
// through a role of its own account: the runner, signed in to the checkpoint's
// account, resumes it with those roles (pinned) and copies every item across the
// emulator's account boundary; the source is read with the source account's role
// only. Catches: a runner that reads the source with its own credentials (the
// source table does not exist in its account) or with the target's role.
func TestRunnerResumesWithItsRolesAcrossAccounts(t *testing.T) {
	const srcAccount, dstAccount = "111111111111", "222222222222"
	t.Setenv("AWS_ACCESS_KEY_ID", dstAccount) // the runner's own account holds the target and the checkpoint
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s := emu(t)
	n := seq.Add(1)
	src, dst, ck := fmt.Sprintf("xsrc-%d-%d", os.Getpid(), n), fmt.Sprintf("xdst-%d-%d", os.Getpid(), n), fmt.Sprintf("xck-%d-%d", os.Getpid(), n)
	srcC, dstC := ddbAs(s.Endpoint, srcAccount, "us-east-1"), ddbAs(s.Endpoint, dstAccount, "eu-west-1")
	createTable(t, srcC, src)
	createTable(t, dstC, dst)
	seed(t, srcC, src, "k", 40)
	srcRole, dstRole := "arn:aws:iam::"+srcAccount+":role/reader", "arn:aws:iam::"+dstAccount+":role/writer"
	id := "us-east-1/" + src + "/eu-west-1/" + dst
	m, err := migration.New(migration.Config{
		ID: id,
		Source: migration.Endpoint{Table: src, Region: "us-east-1", RoleARN: srcRole, DynamoDB: srcC,
			Streams: dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint),
				Credentials: credentials.NewStaticCredentialsProvider(srcAccount, "secret", "")})},
		Target:          migration.Endpoint{Table: dst, Region: "eu-west-1", RoleARN: dstRole, DynamoDB: dstC},
		CheckpointTable: ck, Segments: 2, LeaseDuration: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	done := make(chan int, 1)
	args := []string{"-checkpoint-table", ck, "-region", "eu-west-1", "-id", id, "-endpoint", s.Endpoint, "-lease", "3s",
		"-source-role-arn", srcRole, "-target-role-arn", dstRole}
	go func() { done <- run(ctx, args, env, &out, stop) }()
	waitFor(t, 90*time.Second, "the runner to copy the source into the other account", func() bool { return count(t, dstC, dst) == 40 })
	close(stop)
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	calls := s.RoleCalls(emulator.Scope("us-east-1", srcAccount), src)
	if calls[srcRole] == 0 || calls[dstRole] != 0 {
		t.Fatalf("calls on the source by role: %v; want the source account's role only\n%s", calls, out.String())
	}
}
