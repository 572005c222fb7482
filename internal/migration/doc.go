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
//	err = m.Forget(ctx)       // delete the checkpoint entries
//
// Every method may run in several processes at once: segments and shards are
// shared through leases in the checkpoint table, and a killed worker's work is
// resumed by any other after its lease expires (Config.LeaseDuration).
//
// # Correctness
//
// Capture comes first: the stream is enabled (or adopted) and ENABLED before
// the first Scan page is read, and every shard is read from TRIM_HORIZON, so
// each write after Start is in the scan, in the stream, or both. Per key, the
// stream's last record is the key's current state; applying a key's records in
// order therefore ends at the source's state however early the replay starts.
//
// The hand-off between backfill and stream is chosen with Config.HandOff; see
// HandOffInsertIfAbsent (default: stream applied during the backfill, backfill
// writes insert only absent keys, deletes leave tombstones until the backfill
// ends — safe for backfills longer than the stream's 24 h retention) and
// HandOffReplay (fast BatchWriteItem backfill, stream replayed afterwards — only
// when the backfill fits well inside the retention; the engine fails rather
// than skip if it does not).
//
// Per shard, records are applied page by page in order, deduplicated per key
// within the page (the last record wins), and the page's last sequence number is
// checkpointed only after the page is written; a child shard is read only after
// its parent is finished. Checkpoints are conditional on the lease owner, and
// writes stop a third of a lease before it could expire (fencing against a paused
// worker).
//
// Loss is never skipped: TrimmedDataAccessException at a checkpointed
// position, a known shard that vanished before it was read to its end, a
// changed or disabled source stream, or a never-read shard older than the
// retention set the phase to failed and return a *LossError wrapping
// ErrRebackfillRequired. Expired iterators are re-acquired
// AFTER_SEQUENCE_NUMBER of the last applied record.
//
// Throttling is retried with jittered backoff, transient 5xx a bounded number of
// times, every UnprocessedItems entry until written; anything else fails the
// call loudly, and every run resumes from its checkpoints. Numbers stay decimal
// strings and binary stays bytes: items are raw AttributeValues end to end.
//
// With Config.VersionAttribute, replicated writes only win over an older
// version (conditional writes on the target), for the gradual traffic shift in
// which the application already writes some items to the target directly.
package migration
