// Package migration moves a live DynamoDB table into another table (another
// name, Region or account) with no downtime: it captures the source stream,
// backfills existing items, keeps the target in sync from the stream, and
// verifies the result at cutover. It has no Terraform dependency; the
// ddbglobal_live_migration resource and the ddbglobal-sync runner wrap it.
//
// # Use
//
//	m, err := migration.New(migration.Config{
//		ID:              "orders-v2",
//		Source:          migration.Endpoint{Table: "orders", Region: "us-east-1", DynamoDB: srcDDB, Streams: srcStreams},
//		Target:          migration.Endpoint{Table: "orders-v2", Region: "eu-west-1", DynamoDB: dstDDB},
//		CheckpointTable: "ddbglobal-migrations",
//	})
//	err = m.Start(ctx)        // checkpoint table, config, stream capture (idempotent)
//	err = m.Backfill(ctx)     // copy existing items (the stream is applied alongside)
//	err = m.CatchUp(ctx)      // apply what the stream holds now (sync = "apply")
//	err = m.Run(ctx)          // keep in sync until cutover (the runner)
//	p, err := m.Pending(ctx)  // unapplied records and their age (plan time)
//	s, err := m.Status(ctx)   // phase and totals from the checkpoint table
//	rep, err := m.Cutover(ctx, migration.CutoverOptions{}) // drain, verify, complete
//	rep, err := m.Verify(ctx, migration.VerifyFull)
//	err = m.Forget(ctx)       // delete the checkpoint entries (a runner of it stops)
//
// Every method may run in several processes at once: segments and shards are
// shared through leases in the checkpoint table, and a killed worker's work is
// resumed by any other after its lease expires (Config.LeaseDuration).
//
// # Correctness
//
// Each promise below is checked by the test named after it (hardening_test.go,
// live_test.go, workers_test.go, faults_test.go, emulator_test.go).
//
// Capture comes first: the stream is enabled (or adopted) and ENABLED before
// the first Scan page is read, and every shard is read from TRIM_HORIZON, so
// each write after Start is in the scan, in the stream, or both. Per key, the
// stream's last record is the key's current state; applying a key's records in
// order therefore ends at the source's state however early the replay starts
// (TestLiveMigrationInsertIfAbsent, TestLiveMigrationReplay).
//
// The hand-off between backfill and stream is chosen with Config.HandOff; see
// HandOffInsertIfAbsent (default: stream applied during the backfill, backfill
// writes insert only absent keys, deletes leave tombstones until the backfill
// ends — safe for backfills longer than the stream's 24 h retention) and
// HandOffReplay (fast BatchWriteItem backfill, stream replayed afterwards — only
// when the backfill fits well inside the retention; the engine fails rather
// than skip if it does not). HandOffAuto (the resource's default) chooses
// replay when the estimate fits within Config.ReplayWithin (12 h), and a
// replay backfill whose measured ETA grows past that while it runs switches
// its remaining segments to conditional writes: the state's hand-off changes
// once, every segment acknowledges under its lease (after its fence, so no
// unconditional write of it can still land) before its first conditional
// write, and the stream is held until every segment is done or acknowledged,
// then applied from the capture with the insert-if-absent rules. When the
// first record is applied every unconditional write has landed, and every
// later backfill write only inserts an absent key; the replay argument above
// does the rest (switch.go; TestFaultReplaySwitchesToConditionalWrites).
//
// The IAM actions the engine calls, per table and stream, are Permissions;
// TestIAMPermissionsMatchCalls records the calls of runs through every path
// and compares them with it.
//
// Backfill by restore (Config.Backfill = BackfillRestore, restore.go): the
// target must not exist; after the capture the source is restored into it by
// DynamoDB (RestoreTableToPointInTime with SourceTableArn, called in the target
// Region, when the source has PITR; otherwise CreateBackup and
// RestoreTableFromBackup), the transform is applied to the restored items in
// place, and only then is the stream replayed from TRIM_HORIZON (HandOffReplay).
// Why every item ends exact, whatever the restore time R, provided R ≥ E, the
// time from which the stream holds every write (its enabling, at or before the
// capture time C):
//
//   - The restore point is chosen after the capture: R = C + Config.RestoreMargin
//     for PITR (requested only once DynamoDB's LatestRestorableDateTime reaches
//     it; the margin also absorbs clock skew between this process and DynamoDB).
//     An on-demand backup holds every write committed up to one minute before its
//     request and may hold some made up to a minute after (CreateBackup, API
//     reference), so it is requested RestoreMargin (one minute) after C: each key
//     is restored to its state at some t_k ≥ C ≥ E. Nothing needs R to be exact.
//   - Take a key k. Every write to k after E is a stream record, and records of
//     one key are in write order. If k has no record read by the replay, it was
//     not written after E, so its restored state (its state at t_k ≥ E) is its
//     current state. If it has records, the replay applies all of them in order
//     (a shard is read from its trim horizon, and a record trimmed unread after
//     C is a loss that fails the migration, as for any migration), and the last
//     one is k's last write: its new image, or its delete. Records older than t_k
//     move k back in time on the way, but the last one wins. So k ends at
//     T(current state), deleted or not, regardless of R.
//   - The in-place pass maps each restored item x to T(x); it must finish before
//     the replay starts (the phase holds the stream until every segment is done),
//     or it could write T(older x) over a newer replayed item. A page redone after
//     an interruption applies T twice, so the transform must be idempotent
//     (validated: no name it produces is one it consumes); items T leaves
//     unchanged are not written. Keys are never renamed (a restore keeps the key
//     schema), so replayed deletes hit the restored items' keys.
//   - The restore is requested once: its kind, backup ARN and request time are in
//     the checkpoint's restore entry, held under a lease, before the call. A worker
//     that resumes finds the target and accepts it only if that entry says a
//     restore was requested and the table's RestoreSummary names the source;
//     anything else is ErrTargetExists (TestRestoreMigrationInterruptedDuringRestoreResumes,
//     TestRestoreMigrationCrossRegionPointInTime, TestRestoreMigrationFromBackup,
//     TestRestoreMigrationRefusals).
//
// The whole restore and pass must fit well inside the stream's 24 h retention,
// as for HandOffReplay, and unlike a scan backfill a restore cannot switch to
// conditional writes when it runs late (every restored item is present). So a
// restore with a transform whose pass is estimated beyond Config.ReplayWithin is
// refused at Start (ErrReplayOutlasted, nothing changed), and a restore or pass
// still running when the capture is older than the stream can be relied on fails
// the migration at its next wait or page, recorded for every worker (re-backfill;
// TestRestoreMigrationRefusesAPassLongerThanReplayWithin,
// TestRestoreMigrationPassPastTheRetentionFails).
//
// A new migration starts only into an empty target, or with
// Config.OverwriteTarget, which empties the target after the capture; the
// backfill never replaces an item it finds, so leftovers would stay stale
// (TestDefect04NonEmptyTargetIsRefused, TestDefect04OverwriteTargetEndsExact).
//
// Per shard, records are applied page by page in order, deduplicated per key
// within the page (the last record wins), and a page's last sequence number (or
// a Scan page's LastEvaluatedKey) is checkpointed only after every write of the
// page landed: a write that did not land is an error, never a gap
// (TestDefect01PartlyWrittenPageIsAnError). A backfill segment saves its
// position at most every two seconds, and always at its end and when its run
// stops; whoever resumes it scans again from the saved position and writes
// again what was written after it, which the hand-off makes harmless as for a
// page that was written but not saved (TestBackfillSavesPositionAtMostEveryInterval,
// TestBackfillResumesMidSegmentFromSavedKey). A child shard is read only after its
// parent is finished (TestReadyShardsLineage, TestEmulatorShardSplits).
//
// Fencing, per request: segments and shards are held through leases in the
// checkpoint table, renewed every third of Config.LeaseDuration. Every request
// made under a lease is checked against it before it is sent, and every one
// but the reads of items and stream records carries a deadline at the lease's
// safety margin (a third of a lease before expiry, left for clock skew) and at
// most Config.RequestTimeout away; a lease that is not renewed by its margin
// is lost, its page is abandoned unchecked, and no request of it is sent or
// stays in flight after that (TestDefect02NoWriteAfterTheLeaseCouldHaveExpired).
// A read changes nothing, so it only ends when its lease is lost; one that
// times out is sent again with twice the time, so that a backend slower than
// Config.RequestTimeout is waited for rather than asked forever
// (TestSlowReadsAreWaitedFor). A new owner waits out the
// previous lease plus a request lifetime (Config.RequestTimeout, the longest the
// engine assumes DynamoDB may still apply a write its client gave up on) before
// its first write, and a worker that gave up a write in flight waits as long
// before its next one. A stop (a run's stop condition) lets the pages in hand
// finish; a caller's deadline ends every request at once
// (TestDefect10TimeoutIsHonoured). Two workers sharing a migration while leases
// change hands under slow, throttled writes end exact
// (TestFaultLeasesChangeHandsUnderSlowThrottledWrites, TestTwoWorkersAtOnce,
// TestKilledWorkersResume).
//
// Generations: every entry of a migration belongs to the generation chosen
// when its state entry was created, and every lease, checkpoint and state write
// is conditional on it; an entry is created only while the state still carries
// its generation (one transaction). Forget records when the last request of
// the forgotten migration's leases could land, and a migration started again
// under the same id waits for that. A worker refreshes the state entry at
// least every second while it runs and stops with ErrMigrationReplaced when the
// generation or the settings' fingerprint changed
// (TestDefect05ReplacedMigrationStopsItsOldRunner).
//
// Nothing is written once a migration is completed, or cutting over (except by
// the cutover's own drain) (TestDefect06NoWritesAfterCutover). Cutover drains
// the stream, verifies, and checks that no record arrived during the
// verification; on any failure the phase goes back to syncing so that runners
// resume (TestDefect09FailedCutoverHandsBackToRunners,
// TestDefect09WriteDuringVerificationFailsTheCutover).
//
// Loss is never skipped: TrimmedDataAccessException at a checkpointed
// position, a known shard that vanished before it was read to its end, a
// changed or disabled source stream, a never-read shard that may be older than
// the retention, or no worker listing the shard tree for longer than the
// retention (a shard created and trimmed unseen) set the phase to failed and
// return a *LossError wrapping ErrRebackfillRequired (TestLossTrimmedStreamFailsLoudly,
// TestLossVanishedShardFailsLoudly, TestLossChangedStreamARNFailsLoudly,
// TestDefect08ListingGapLongerThanRetentionIsLoss). A shard first listed after
// a gap counts as created at the previous listing, and a child no later than
// its parent's finish (TestDefect08NewShardAge). A trimmed read on a shard of
// which nothing was applied, within a day of the capture, is no loss: the
// trimmed records predate the capture, so the reader starts again at the oldest
// record (TestDefect07IdleShardTrimmedIsNoLoss). Expired iterators are
// re-acquired AFTER_SEQUENCE_NUMBER of the last applied record
// (TestEmulatorExpiredIterators).
//
// Throttling is retried with jittered backoff, transient 5xx a bounded number of
// times, every UnprocessedItems entry until written; anything else fails the
// call loudly, and every run resumes from its checkpoints
// (TestFaultsThrottlingUnprocessedServerErrors). Numbers stay decimal strings and
// binary stays bytes: items are raw AttributeValues end to end (TestFidelity).
// An item the transform cannot write (a rename collision, over 400 KB) stops the
// migration with an *ItemError naming the item and what to change
// (TestDefect09UnwritableItemNamesItsKey).
//
// With Config.VersionAttribute, replicated writes only win over an older
// version (conditional writes on the target), for the gradual traffic shift in
// which the application already writes some items to the target directly. It
// needs a NEW_AND_OLD_IMAGES stream (TestDefect03VersionModeNeedsOldImages): a
// change is compared with the highest version among its old and new images,
// so a write that removes or retypes the version still replicates, and only a
// strictly newer version of the same type on the target (a direct write) wins;
// a number or a string orders, any other type counts as no version
// (TestDefect03VersionRemovedOrRetypedStillReplicates,
// TestVersionAttributeWithDirectTargetWrites). Skipped writes are counted and
// logged at INFO. While a HandOffInsertIfAbsent backfill runs, the stream's
// puts carry the StreamedAttribute mark, and a backfill write replaces an
// existing item only if it is unmarked (a direct write) with a lower version:
// the backfill's copy was read earlier, and a higher version does not make it
// newer when the key was deleted and created again, or its version lowered
// (TestVersionModeBackfillNeverReplacesAStreamedWrite). The marks go with the
// tombstones.
package migration
