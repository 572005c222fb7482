package migration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BackfillMethod selects how a migration copies the items that exist when it
// starts.
type BackfillMethod string

const (
	// BackfillScan (the default) scans the source and writes every item into the
	// target, paying a write unit per KB of each item.
	BackfillScan BackfillMethod = "scan"
	// BackfillRestore restores the source into the target (which must not exist)
	// with DynamoDB's own restore: to a point in time after the capture when the
	// source has point-in-time recovery, else from an on-demand backup taken after
	// the capture. The transform is then applied to the restored items in place
	// (only items it changes are written), and the stream is replayed from the
	// capture (HandOffReplay). A restore keeps the key schema and stays in the
	// source's account, so key renames and cross-account targets are refused.
	BackfillRestore BackfillMethod = "restore"
)

// DefaultRestoreMargin is how long after the capture the restored data must
// be: an on-demand backup holds every write committed up to one minute before
// its request and may miss later ones (CreateBackup, DynamoDB API reference),
// so the backup is requested a minute after the capture; a point-in-time restore
// point is as far past the capture, which also covers clock skew between this
// process and DynamoDB.
const DefaultRestoreMargin = time.Minute

// ErrTargetExists is returned when a restore migration's target table already
// exists (a restore creates its target).
var ErrTargetExists = errors.New("the target table already exists")

// ErrReplayOutlasted is returned when a restore migration's in-place transform
// pass is estimated to last longer than Config.ReplayWithin.
var ErrReplayOutlasted = errors.New("the in-place pass would outlast the stream's retention")

// RestoreAPI is the part of *dynamodb.Client a restore migration uses, on the
// source's client (backups, PITR status) and the target's (the restore, which
// is called in the target Region).
type RestoreAPI interface {
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	CreateBackup(context.Context, *dynamodb.CreateBackupInput, ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
	DescribeBackup(context.Context, *dynamodb.DescribeBackupInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
	RestoreTableToPointInTime(context.Context, *dynamodb.RestoreTableToPointInTimeInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error)
	RestoreTableFromBackup(context.Context, *dynamodb.RestoreTableFromBackupInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableFromBackupOutput, error)
}

const entryRestore = "restore"

// validateRestore checks, without I/O, what a restore migration cannot do.
func (c *Config) validateRestore() []error {
	switch c.Backfill {
	case "", BackfillScan:
		return nil
	case BackfillRestore:
	default:
		return []error{fmt.Errorf("Backfill must be %q or %q, got %q", BackfillScan, BackfillRestore, c.Backfill)}
	}
	var errs []error
	if c.Source.RoleARN != c.Target.RoleARN {
		errs = append(errs, errors.New("backfill restore: the target is reached through another role (another account?), and a table can only be restored within its own account; use backfill scan"))
	}
	if c.HandOff != HandOffReplay {
		errs = append(errs, fmt.Errorf("backfill restore replays the stream after the restore (hand-off %q), not %q", HandOffReplay, c.HandOff))
	}
	if c.VersionAttribute != "" {
		errs = append(errs, errors.New("backfill restore: version_attribute is for a target the application already writes, and a restore creates its target; use backfill scan"))
	}
	if c.OverwriteTarget {
		errs = append(errs, errors.New("backfill restore creates its target table, so there is nothing to overwrite"))
	}
	if err := c.Transform.idempotent(); err != nil {
		errs = append(errs, fmt.Errorf("backfill restore: %w", err))
	}
	return errs
}

// Idempotent reports, without I/O, why the transform cannot be used by a
// restore migration's in-place pass (nil when it can); see idempotent.
func (t Transform) Idempotent() error { return t.idempotent() }

// idempotent refuses a transform that changes an item it already changed: the
// restore's in-place pass may redo a page after an interruption. It is
// idempotent when no name it produces (a rename target, a set name) is one it
// consumes (a rename source, a dropped name).
func (t Transform) idempotent() error {
	consumed := map[string]string{}
	for from := range t.Rename {
		consumed[from] = "renamed"
	}
	for _, d := range t.Drop {
		consumed[d] = "dropped"
	}
	for _, to := range t.Rename {
		if how, ok := consumed[to]; ok {
			return fmt.Errorf("the transform renames onto %q, which it also %s: applied twice to a restored item (an interrupted in-place pass redoes a page) it would not give the same item", to, how)
		}
	}
	for name := range t.Set {
		if how, ok := consumed[name]; ok {
			return fmt.Errorf("the transform sets %q, which it also %s: applied twice to a restored item it would not give the same item", name, how)
		}
	}
	return nil
}

// checkRestoreKeys refuses a transform that renames a key attribute: a restore
// keeps the source's key schema.
func (m *Migration) checkRestoreKeys() error {
	for _, k := range m.srcKey {
		if to, ok := m.cfg.Transform.Rename[k]; ok {
			return fmt.Errorf("backfill restore: the transform renames key attribute %q to %q, and a restored table keeps the source's key schema; use backfill scan into a table with the new key", k, to)
		}
	}
	return nil
}

// checkTargetAbsent refuses a restore migration whose target exists.
func (m *Migration) checkTargetAbsent(ctx context.Context) error {
	_, err := describeTable(ctx, m.dst, m.cfg.Target.Table)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("migration %q: %w: %s in %s exists, and a restore creates its target table. Delete it, choose a new target name, or use backfill scan",
		m.cfg.ID, ErrTargetExists, m.cfg.Target.Table, m.cfg.Target.Region)
}

// checkPassFits refuses a restore migration whose in-place transform pass is
// estimated (as a scan backfill is, Config.EstimateBackfill: every item rewritten)
// to last longer than Config.ReplayWithin. The stream is replayed from the capture
// only after the pass, and a restore cannot switch to conditional writes while it
// runs as a scan backfill does (switch.go): every restored item is present, so an
// insert-if-absent write would drop the transform. Without a transform there is no
// pass; the restore itself is DynamoDB's and checkReplayDeadline guards it.
func (m *Migration) checkPassFits(ctx context.Context) error {
	if m.cfg.Transform.IsZero() {
		return nil
	}
	t, err := describeTable(ctx, m.src, m.cfg.Source.Table)
	if err != nil {
		return err
	}
	items, size := aws.ToInt64(t.ItemCount), aws.ToInt64(t.TableSizeBytes)
	est := m.cfg.EstimateBackfill(items, size)
	if est <= m.cfg.ReplayWithin {
		return nil
	}
	return fmt.Errorf("migration %q: %w: backfill restore rewrites the restored items in place and replays the stream from the capture only afterwards; "+
		"that pass over %d items (%d bytes) is estimated at %s, more than %s of the stream's 24 h retention, and records not applied within 24 h are trimmed. "+
		"Use backfill scan (its insert-if-absent hand-off applies the stream during the copy), raise the write limit, or restore without a transform",
		m.cfg.ID, ErrReplayOutlasted, items, size, est.Round(time.Second), m.cfg.ReplayWithin)
}

// checkReplayDeadline fails the migration when the restore or its in-place pass,
// which hold the stream back, are still running longer after the capture than the
// stream can be relied on (retentionSafety of its 24 h retention, as for a shard
// never read, stream.go): records written since the capture may be trimmed before
// the replay reaches them. Failing here, at the next wait or page, records the loss
// for every worker (a resumed worker finds the migration failed) instead of writing
// on for hours before a replay that would find the shards too old.
func (m *Migration) checkReplayDeadline(ctx context.Context) error {
	captured := m.capturedAt.Load()
	if captured == 0 {
		return nil
	}
	since := time.Since(time.UnixMilli(captured))
	if since <= retentionSafety {
		return nil
	}
	return m.fail(ctx, fmt.Sprintf("the restore and its in-place transform pass were still running %s after the capture (%s): "+
		"the stream is replayed from the capture only after them, and records older than its 24 h retention are trimmed before they can be applied. "+
		"Start again with backfill scan, or with limits that let the pass end well within the retention",
		since.Round(time.Minute), time.UnixMilli(captured).UTC().Format(time.RFC3339)))
}

func restoreClients(src, dst DynamoDBAPI) (RestoreAPI, RestoreAPI, error) {
	s, ok1 := src.(RestoreAPI)
	d, ok2 := dst.(RestoreAPI)
	if !ok1 || !ok2 {
		return nil, nil, errors.New("backfill restore needs DynamoDB clients with the backup and restore calls")
	}
	return s, d, nil
}

// PITREnabled reports whether a table's point-in-time recovery is ENABLED.
func PITREnabled(ctx context.Context, c DynamoDBAPI, table string) (bool, error) {
	rc, ok := c.(RestoreAPI)
	if !ok {
		return false, errors.New("the client cannot describe continuous backups")
	}
	out, err := rc.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &table})
	if err != nil {
		return false, fmt.Errorf("describing the continuous backups of %s: %w", table, err)
	}
	d := out.ContinuousBackupsDescription
	return d != nil && d.PointInTimeRecoveryDescription != nil &&
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled, nil
}

// restoreStep brings the restored target into being: it requests the restore
// once (recorded in the restore entry under its lease, so an interrupted step
// resumes the same restore) and waits until the target is ACTIVE. done is
// false while another worker holds the step.
func (m *Migration) restoreStep(ctx context.Context) (bool, error) {
	st, err := m.st.get(ctx, entryState)
	if err != nil {
		return false, err
	}
	if st != nil && intOf(st["restoredAt"]) > 0 {
		return true, nil
	}
	if e, err := m.st.get(ctx, entryRestore); err != nil {
		return false, err
	} else if e == nil || !m.st.ours(e) {
		if _, err := m.st.initEntry(ctx, entryRestore, nil); err != nil {
			return false, err
		}
	}
	l, ck, err := m.st.acquire(ctx, entryRestore, nil)
	if err != nil || l == nil {
		return false, err
	}
	defer l.release()
	if err := m.restoreUnderLease(l, ck); err != nil {
		if l.lost() {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (m *Migration) restoreUnderLease(l *lease, ck Item) error {
	ctx := l.ctx
	srcR, dstR, err := restoreClients(m.src, m.dst)
	if err != nil {
		return err
	}
	src, err := describeTable(ctx, m.src, m.cfg.Source.Table)
	if err != nil {
		return err
	}
	srcARN := aws.ToString(src.TableArn)
	captured := time.UnixMilli(m.capturedAt.Load())
	point := captured.Add(m.cfg.RestoreMargin)
	for {
		if err := m.checkReplayDeadline(ctx); err != nil {
			return err
		}
		td, err := describeTable(ctx, m.dst, m.cfg.Target.Table)
		if err != nil && !isNotFound(err) {
			return err
		}
		if err == nil {
			// The target exists: ours only if this migration requested a restore of the source into it.
			if intOf(ck["requestedAt"]) == 0 || td.RestoreSummary == nil || aws.ToString(td.RestoreSummary.SourceTableArn) != srcARN {
				return fmt.Errorf("migration %q: %w: %s in %s appeared while the migration was to restore into it; forget the migration, delete or rename that table, and start again",
					m.cfg.ID, ErrTargetExists, m.cfg.Target.Table, m.cfg.Target.Region)
			}
			if td.TableStatus == types.TableStatusActive && !aws.ToBool(td.RestoreSummary.RestoreInProgress) {
				break
			}
			m.log.Info("waiting for the restore", "target", m.cfg.Target.Table, "region", m.cfg.Target.Region, "status", string(td.TableStatus))
			if err := sleepCtx(ctx, m.restorePoll()); err != nil {
				return err
			}
			continue
		}
		kind := sOf(ck["kind"])
		if kind == "" {
			pitr, err := PITREnabled(ctx, m.src, m.cfg.Source.Table)
			if err != nil {
				return err
			}
			kind = "backup"
			if pitr {
				kind = "pitr"
			}
			if ck, err = l.save(ctx, update{set: Item{"kind": sAV(kind)}}); err != nil {
				return err
			}
		}
		var restoreErr error
		switch kind {
		case "pitr":
			// Wait until DynamoDB can restore to the point past the capture.
			for {
				out, err := srcR.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: &m.cfg.Source.Table})
				if err != nil {
					return fmt.Errorf("describing the continuous backups of %s: %w", m.cfg.Source.Table, err)
				}
				d := out.ContinuousBackupsDescription.PointInTimeRecoveryDescription
				if d == nil || d.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
					return fmt.Errorf("point-in-time recovery of %s was turned off during the migration's restore; forget the migration and start again", m.cfg.Source.Table)
				}
				if d.LatestRestorableDateTime != nil && !d.LatestRestorableDateTime.Before(point) {
					break
				}
				if err := sleepCtx(ctx, m.restorePoll()); err != nil {
					return err
				}
			}
			if ck, err = l.save(ctx, update{set: Item{"requestedAt": nAV(time.Now().UnixMilli()), "restorePoint": nAV(point.UnixMilli())}}); err != nil {
				return err
			}
			m.log.Info("restoring the source to a point in time into the target", "source", srcARN, "point", point.UTC().Format(time.RFC3339Nano),
				"target", m.cfg.Target.Table, "region", m.cfg.Target.Region)
			_, restoreErr = dstR.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
				SourceTableArn: &srcARN, TargetTableName: &m.cfg.Target.Table, RestoreDateTime: aws.Time(point),
			})
		default:
			arn := sOf(ck["backupArn"])
			if arn == "" {
				if err := sleepCtx(ctx, time.Until(point)); err != nil {
					return err
				}
				out, err := srcR.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: &m.cfg.Source.Table,
					BackupName: aws.String(fmt.Sprintf("ddbglobal-%s-%d", sanitizeBackupName(m.cfg.ID), time.Now().Unix()))})
				if err != nil {
					return fmt.Errorf("backing up %s: %w", m.cfg.Source.Table, err)
				}
				arn = aws.ToString(out.BackupDetails.BackupArn)
				if ck, err = l.save(ctx, update{set: Item{"backupArn": sAV(arn)}}); err != nil {
					return err
				}
				m.log.Info("on-demand backup of the source requested", "backup_arn", arn)
			}
			for {
				out, err := srcR.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: &arn})
				if err != nil {
					return fmt.Errorf("describing backup %s: %w", arn, err)
				}
				if out.BackupDescription.BackupDetails.BackupStatus == types.BackupStatusAvailable {
					break
				}
				if err := sleepCtx(ctx, m.restorePoll()); err != nil {
					return err
				}
			}
			if ck, err = l.save(ctx, update{set: Item{"requestedAt": nAV(time.Now().UnixMilli())}}); err != nil {
				return err
			}
			m.log.Info("restoring the backup into the target", "backup_arn", arn, "target", m.cfg.Target.Table, "region", m.cfg.Target.Region)
			_, restoreErr = dstR.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: &arn, TargetTableName: &m.cfg.Target.Table})
		}
		var exists *types.TableAlreadyExistsException
		if restoreErr != nil && !errors.As(restoreErr, &exists) {
			return fmt.Errorf("restoring into %s in %s: %w", m.cfg.Target.Table, m.cfg.Target.Region, restoreErr)
		}
		// Created (by this call, or by an earlier one that did not answer): the loop checks it is ours.
	}
	td, err := describeTable(ctx, m.dst, m.cfg.Target.Table)
	if err != nil {
		return err
	}
	set := Item{"done": &types.AttributeValueMemberBOOL{Value: true}, "targetArn": sAV(aws.ToString(td.TableArn))}
	if rs := td.RestoreSummary; rs != nil && rs.RestoreDateTime != nil {
		set["restoreDateTime"] = nAV(rs.RestoreDateTime.UnixMilli())
	}
	if _, err := l.save(ctx, update{set: set}); err != nil {
		return err
	}
	ok, err := m.st.updateState(ctx, Item{"restoredAt": nAV(time.Now().UnixMilli())})
	if err != nil || !ok {
		return errors.Join(err, m.replacedUnless(ok))
	}
	m.log.Info("restore complete", "target", m.cfg.Target.Table, "region", m.cfg.Target.Region, "items", aws.ToInt64(td.ItemCount))
	if since := time.Since(captured); !m.cfg.Transform.IsZero() && since > m.cfg.ReplayWithin {
		m.log.Warn("the restore ended late: the in-place pass must end before the stream's retention runs out, or the migration fails",
			"since_capture", since.Round(time.Minute).String(), "left", (retentionSafety - since).Round(time.Minute).String())
	}
	return nil
}

func (m *Migration) restorePoll() time.Duration {
	return min(time.Second, max(m.cfg.PollInterval, m.cfg.RestoreMargin/4))
}

func sanitizeBackupName(id string) string {
	out := make([]rune, 0, len(id))
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			out = append(out, r)
		} else {
			out = append(out, '-')
		}
	}
	return string(out)
}

// RestoreInfo is what the plan shows about a restore migration.
type RestoreInfo struct {
	PointInTime bool  // the source has PITR: a point-in-time restore, else an on-demand backup
	Items       int64 // the source's item count (DescribeTable, refreshed about every six hours)
	SizeBytes   int64
	// ScanWriteUnits is what a scan backfill would write: one unit per KB of each item.
	ScanWriteUnits int64
	// TransformWriteUnits is the in-place pass's upper bound (every item changed);
	// zero without a transform.
	TransformWriteUnits int64
}

// RestoreEstimate describes the source for the plan: which restore, the size and
// the write units a scan would pay instead.
func RestoreEstimate(ctx context.Context, c DynamoDBAPI, table string, transformed bool) (RestoreInfo, error) {
	t, err := describeTable(ctx, c, table)
	if err != nil {
		return RestoreInfo{}, err
	}
	pitr, err := PITREnabled(ctx, c, table)
	if err != nil {
		return RestoreInfo{}, err
	}
	info := RestoreInfo{PointInTime: pitr, Items: aws.ToInt64(t.ItemCount), SizeBytes: aws.ToInt64(t.TableSizeBytes)}
	if info.Items > 0 {
		kb := math.Max(1, math.Ceil(float64(info.SizeBytes)/float64(info.Items)/1024))
		info.ScanWriteUnits = int64(kb) * info.Items
	}
	if transformed {
		info.TransformWriteUnits = info.ScanWriteUnits
	}
	return info, nil
}
