package emulator_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

// restoreDelays shortens the backup, restore and PITR lag delays for a test.
func restoreDelays(t *testing.T) {
	t.Helper()
	srv.SetDelays(emulator.Delays{Backup: 200 * time.Millisecond, Restore: 300 * time.Millisecond, PITRLag: 50 * time.Millisecond})
}

func enablePITR(t *testing.T, ctx context.Context, c *dynamodb.Client, table string) {
	t.Helper()
	eventually(t, 10*time.Second, "PITR enabled", func() (bool, string) {
		_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
		return err == nil, fmt.Sprint(err)
	})
	eventually(t, 10*time.Second, "PITR ENABLED", func() (bool, string) {
		out, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
		if err != nil {
			return false, err.Error()
		}
		st := out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
		return st == types.PointInTimeRecoveryStatusEnabled, string(st)
	})
}

func waitRestored(t *testing.T, ctx context.Context, c *dynamodb.Client, table string) *types.TableDescription {
	t.Helper()
	var td *types.TableDescription
	eventually(t, 20*time.Second, "restore of "+table+" done", func() (bool, string) {
		td = describe(t, ctx, c, table)
		return td.TableStatus == types.TableStatusActive, string(td.TableStatus)
	})
	return td
}

// A point-in-time restore into another Region holds the items as they were at
// the restore time (not later writes, not later deletes), is CREATING with a
// restore in progress first (its items unreadable), and keeps none of the
// source's stream, TTL, tags or PITR.
// Catches: a restore that copies the current items (the update and delete after
// the restore time would show), or answers ACTIVE at once.
func TestRestoreToPointInTimeInAnotherRegion(t *testing.T) {
	ctx := fresh(t)
	restoreDelays(t)
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	src := createTable(t, ctx, east, "pitr-src", false, withStream(types.StreamViewTypeNewAndOldImages), func(in *dynamodb.CreateTableInput) {
		in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}
	})
	if _, err := east.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("pitr-src"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("ttl"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	// Before PITR: refused.
	_, err := west.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableArn: src.TableArn, TargetTableName: aws.String("pitr-dst"), UseLatestRestorableTime: aws.Bool(true)})
	wantCode(t, err, "PointInTimeRecoveryUnavailableException", "not enabled")

	enablePITR(t, ctx, east, "pitr-src")
	putItem(t, ctx, east, "pitr-src", map[string]types.AttributeValue{"pk": s("a"), "v": s("1")})
	putItem(t, ctx, east, "pitr-src", map[string]types.AttributeValue{"pk": s("b"), "v": s("1")})
	time.Sleep(20 * time.Millisecond)
	at := time.Now()
	time.Sleep(20 * time.Millisecond)
	putItem(t, ctx, east, "pitr-src", map[string]types.AttributeValue{"pk": s("a"), "v": s("2")})
	if _, err := east.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("pitr-src"), Key: map[string]types.AttributeValue{"pk": s("b")}}); err != nil {
		t.Fatal(err)
	}
	putItem(t, ctx, east, "pitr-src", map[string]types.AttributeValue{"pk": s("c"), "v": s("1")})

	// Outside the window: refused.
	_, err = west.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableArn: src.TableArn, TargetTableName: aws.String("pitr-dst"), RestoreDateTime: aws.Time(time.Now().Add(time.Hour))})
	wantCode(t, err, "InvalidRestoreTimeException", "")
	cb, err := east.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("pitr-src")})
	if err != nil {
		t.Fatal(err)
	}
	pd := cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	if pd.EarliestRestorableDateTime == nil || pd.LatestRestorableDateTime == nil || !pd.EarliestRestorableDateTime.Before(*pd.LatestRestorableDateTime) {
		t.Fatalf("restorable window: %v .. %v", pd.EarliestRestorableDateTime, pd.LatestRestorableDateTime)
	}
	time.Sleep(100 * time.Millisecond) // past the PITR lag

	out, err := west.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableArn: src.TableArn, TargetTableName: aws.String("pitr-dst"), RestoreDateTime: aws.Time(at)})
	if err != nil {
		t.Fatal(err)
	}
	td := out.TableDescription
	if td.TableStatus != types.TableStatusCreating || td.RestoreSummary == nil || !aws.ToBool(td.RestoreSummary.RestoreInProgress) ||
		aws.ToString(td.RestoreSummary.SourceTableArn) != aws.ToString(src.TableArn) {
		t.Fatalf("restore answer: status %s, summary %+v", td.TableStatus, td.RestoreSummary)
	}
	_, err = west.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("pitr-dst"), Key: map[string]types.AttributeValue{"pk": s("a")}})
	wantCode(t, err, "ResourceNotFoundException", "")
	// The name is taken while the restore runs.
	_, err = west.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableArn: src.TableArn, TargetTableName: aws.String("pitr-dst"), UseLatestRestorableTime: aws.Bool(true)})
	wantCode(t, err, "TableAlreadyExistsException", "")

	td = waitRestored(t, ctx, west, "pitr-dst")
	if td.RestoreSummary == nil || aws.ToBool(td.RestoreSummary.RestoreInProgress) {
		t.Fatalf("after the restore: %+v", td.RestoreSummary)
	}
	if got := strAttr(getItem(t, ctx, west, "pitr-dst", "a"), "v"); got != "1" {
		t.Errorf("a = %q, want the value at the restore time (1)", got)
	}
	if getItem(t, ctx, west, "pitr-dst", "b") == nil {
		t.Errorf("b, deleted after the restore time, is missing")
	}
	if getItem(t, ctx, west, "pitr-dst", "c") != nil {
		t.Errorf("c, written after the restore time, is present")
	}
	if td.StreamSpecification != nil && aws.ToBool(td.StreamSpecification.StreamEnabled) {
		t.Errorf("restored table has a stream")
	}
	ttl, err := west.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("pitr-dst")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus == types.TimeToLiveStatusEnabled {
		t.Errorf("restored table TTL: %+v %v", ttl, err)
	}
	tags, err := west.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: td.TableArn})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("restored table tags: %+v %v", tags, err)
	}
	cb, err = west.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("pitr-dst")})
	if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled {
		t.Errorf("restored table PITR: %+v %v", cb, err)
	}

	// UseLatestRestorableTime after the lag holds the later writes.
	time.Sleep(100 * time.Millisecond)
	if _, err := east.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String("pitr-src"), TargetTableName: aws.String("pitr-latest"), UseLatestRestorableTime: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	waitRestored(t, ctx, east, "pitr-latest")
	if got := strAttr(getItem(t, ctx, east, "pitr-latest", "a"), "v"); got != "2" {
		t.Errorf("latest restore: a = %q, want 2", got)
	}
	if getItem(t, ctx, east, "pitr-latest", "b") != nil || getItem(t, ctx, east, "pitr-latest", "c") == nil {
		t.Errorf("latest restore: b should be gone and c present")
	}
}

// On-demand backups: CREATING then AVAILABLE, listed, restorable into another
// Region with the items of the backup time, deletable.
// Catches: a backup that reads the table at restore time instead of keeping its
// snapshot (the write after the backup would show).
func TestBackupRestoreListDelete(t *testing.T) {
	ctx := fresh(t)
	restoreDelays(t)
	// The restore refused while the backup is CREATING comes after a PutItem: 200 ms
	// is too short for that on a loaded machine (the backup was AVAILABLE already).
	srv.SetDelays(emulator.Delays{Backup: 2 * time.Second})
	east, west := ddbIn("us-east-1"), ddbIn("eu-west-1")
	createTable(t, ctx, east, "bk-src", true)
	putItem(t, ctx, east, "bk-src", map[string]types.AttributeValue{"pk": s("a"), "sk": s("1"), "v": s("old")})
	_, err := east.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("missing"), BackupName: aws.String("b")})
	wantCode(t, err, "TableNotFoundException", "")
	out, err := east.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("bk-src"), BackupName: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.BackupDetails.BackupArn)
	if out.BackupDetails.BackupStatus != types.BackupStatusCreating || out.BackupDetails.BackupType != types.BackupTypeUser {
		t.Fatalf("backup details: %+v", out.BackupDetails)
	}
	putItem(t, ctx, east, "bk-src", map[string]types.AttributeValue{"pk": s("a"), "sk": s("1"), "v": s("new")})
	_, err = west.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: &arn, TargetTableName: aws.String("bk-dst")})
	wantCode(t, err, "BackupInUseException", "")
	eventually(t, 10*time.Second, "backup AVAILABLE", func() (bool, string) {
		d, err := east.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: &arn})
		if err != nil {
			return false, err.Error()
		}
		return d.BackupDescription.BackupDetails.BackupStatus == types.BackupStatusAvailable, string(d.BackupDescription.BackupDetails.BackupStatus)
	})
	// A restore's SSESpecificationOverride names a usable key of the target's Region,
	// as CreateTable's does (TestTableKeyMustBeUsable).
	for ref, want := range map[string]string{"00000000-0000-4000-8000-000000000000": "does not exist",
		aws.ToString(createKey(t, ctx, "us-east-1").Arn): "must be in that Region"} {
		_, err = west.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: &arn, TargetTableName: aws.String("bk-dst"),
			SSESpecificationOverride: &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(ref)}})
		wantCode(t, err, "ValidationException", want)
	}
	list, err := east.ListBackups(ctx, &dynamodb.ListBackupsInput{TableName: aws.String("bk-src")})
	if err != nil || len(list.BackupSummaries) != 1 || aws.ToString(list.BackupSummaries[0].BackupArn) != arn {
		t.Fatalf("ListBackups: %+v %v", list, err)
	}
	r, err := west.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: &arn, TargetTableName: aws.String("bk-dst")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(r.TableDescription.RestoreSummary.SourceBackupArn) != arn {
		t.Fatalf("restore summary: %+v", r.TableDescription.RestoreSummary)
	}
	td := waitRestored(t, ctx, west, "bk-dst")
	if len(td.KeySchema) != 2 {
		t.Errorf("restored key schema: %+v", td.KeySchema)
	}
	it, err := west.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bk-dst"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("1")}})
	if err != nil || strAttr(it.Item, "v") != "old" {
		t.Errorf("restored item: %+v %v, want v=old", it, err)
	}
	if _, err := east.DeleteBackup(ctx, &dynamodb.DeleteBackupInput{BackupArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = east.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: &arn})
	wantCode(t, err, "BackupNotFoundException", "")
}

// From the moment a restore creates its table, the table is CREATING: a
// DescribeTable racing the RestoreTableFromBackup call never sees it ACTIVE
// before the restore's delay has passed (DynamoDB shows a restoring table as
// CREATING until the restore completes; API reference, RestoreTableFromBackup).
// Catches: the restore registered only after DynamoDB Local created the table,
// when a describe in between saw DynamoDB Local's own ACTIVE (a restore-resume
// test of the migration engine failed on it under load).
func TestRestoredTableIsNeverActiveEarly(t *testing.T) {
	ctx := fresh(t)
	srv.SetDelays(emulator.Delays{Backup: 50 * time.Millisecond, Restore: 5 * time.Second})
	east := ddbIn("us-east-1")
	createTable(t, ctx, east, "race-src", true)
	putItem(t, ctx, east, "race-src", map[string]types.AttributeValue{"pk": s("a"), "sk": s("1")})
	out, err := east.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("race-src"), BackupName: aws.String("b")})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.BackupDetails.BackupArn
	eventually(t, 10*time.Second, "backup AVAILABLE", func() (bool, string) {
		d, err := east.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: arn})
		if err != nil {
			return false, err.Error()
		}
		return d.BackupDescription.BackupDetails.BackupStatus == types.BackupStatusAvailable, string(d.BackupDescription.BackupDetails.BackupStatus)
	})
	for round := 0; round < 5; round++ {
		target := fmt.Sprintf("race-dst-%d", round)
		stop := make(chan struct{})
		seen := make(chan string, 4)
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					d, err := east.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(target)})
					if err == nil && d.Table.TableStatus != types.TableStatusCreating {
						seen <- string(d.Table.TableStatus)
						return
					}
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		if _, err := east.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: arn, TargetTableName: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // well inside the 5 s restore
		close(stop)
		wg.Wait()
		close(seen)
		for st := range seen {
			t.Fatalf("round %d: a describe racing the restore saw %s, want CREATING until the restore completes", round, st)
		}
	}
}
