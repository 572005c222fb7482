// Package emulator is a local multi-Region DynamoDB: a Go front server on one
// endpoint that speaks DynamoDB and DynamoDB Streams (JSON 1.0) and Application
// Auto Scaling (JSON 1.1), over one DynamoDB Local process that it starts and
// stops itself.
//
// # What the front does
//
//   - The Region comes from the SigV4 credential scope and the account from the
//     access key (accounts.go): a twelve-digit key is that account, a key from STS
//     AssumeRole is the role's account, any other key the default AccountID. Each
//     account sees its own tables; DynamoDB Local keeps data per access key and
//     Region, so the front forwards with one access key per account, and rewrites
//     DynamoDB Local's "ddblocal" ARNs to the caller's Region and account in answers
//     (and back in requests: stream ARNs, iterators, ResourceArn). Another account's
//     table is reached by ARN only, when its resource-based policy allows the caller
//     (policy.go: Put/Get/DeleteResourcePolicy and the policy evaluation).
//   - Global tables 2019.11.21: UpdateTable ReplicaUpdates (Create/Update/Delete)
//     with AWS's rules and errors, replicas CREATING→ACTIVE and DELETING→gone after
//     the configured delays, existing items copied into a new replica, then every
//     write in any member replicated to the others after the replication delay
//     (last writer wins; one stream record in each destination; replicated writes
//     are not replicated back). DescribeTable shows Replicas[] and
//     GlobalTableVersion; the first replica enables a NEW_AND_OLD_IMAGES stream on a
//     table without one, and a stream of another view type stays as it is.
//     Settings changes (UpdateTable, UpdateTimeToLive) are repeated in every member.
//   - Multi-account global tables (multiaccount.go): CreateTable with
//     GlobalTableSourceArn in another account adds a replica when every replica's
//     resource-based policy allows the replication service; settings are shared,
//     one replica per account and Region; descriptions carry ReplicaArn and
//     GlobalTableSettingsReplicationMode. MRSC (mrsc.go): UpdateTable
//     MultiRegionConsistency = STRONG with two replica Creates, or one and a
//     witness, on an empty table within one Region set; no one-by-one changes, no
//     change of mode; DescribeTable shows MultiRegionConsistency and
//     GlobalTableWitnesses. Writes of an MRSC table replicate like MREC writes.
//   - Global tables 2017.11.29: CreateGlobalTable is refused as AWS refuses it
//     now; legacy tables are made with the admin API over existing empty tables;
//     DescribeGlobalTable, UpdateGlobalTable, ListGlobalTables, DescribeGlobalTableSettings,
//     UpdateGlobalTableSettings, with legacy item and stream behaviour: a source
//     write is stamped by a second write adding aws:rep:updatetime and
//     aws:rep:updateregion; destinations receive a PutItem carrying them; deletes
//     reach destinations in two phases (aws:rep:deleting, then DeleteItem).
//   - Streams as AWS shapes them: each stream has StreamShards shards (default
//     2, each key in one), DescribeStream pages at 100 shards (Limit,
//     ExclusiveStartShardId, LastEvaluatedShardId, ShardFilter CHILD_SHARDS),
//     iterators expire after 15 minutes, and a malformed sequence number is a
//     ValidationException.
//   - What DynamoDB Local lacks: tags, SSE descriptions, point-in-time recovery
//     settings, DescribeTableReplicaAutoScaling and Application Auto Scaling targets
//     and policies are kept in the front (nothing actually scales). Deletion
//     protection and TTL settings are DynamoDB Local's own. STS GetCallerIdentity
//     answers with the caller's account, so credential validation works; STS
//     AssumeRole hands out temporary credentials for any role ARN (they land in the
//     role's account) and records the role, which AssumedRoles lists.
//   - Last writer wins is decided by the time the front saw each client write (the
//     Region's write that answered first loses), not by when a stream record was
//     read. Item data is never rewritten: an ARN stored in an attribute stays as
//     written.
//   - AWS's harsher control-plane rules (strict.go, each citing its source): every
//     table description carries WarmThroughput (ACTIVE); a customer managed key
//     table's replica Create names a key in the replica's Region, an AWS owned key
//     table's takes none, keys read back as ARNs, and a global table's keys change
//     only through one ReplicaUpdates request naming a key for every Region, the
//     local one included; right after a table or replica turns ACTIVE, PITR is refused with
//     ContinuousBackupsUnavailableException, then ENABLING; a CREATING (or ARCHIVED)
//     replica's Region answers DescribeTable only; deletion protection changes and
//     ReplicaUpdates Update leave the table/replica UPDATING, and a second
//     deletion protection change soon after is throttled; a Region that sourced a
//     replica create (same-account, MRSC or another account's GlobalTableSourceArn)
//     refuses deletion for 24 hours; a table's or replica's KMS key must exist in
//     its Region and be enabled (kms.go); warm throughput above the
//     destination Region's table maximum fails the replica create
//     (LimitExceededException); an Update that changes nothing, an UpdateTable with
//     only a TableName, and unknown Region names are refused. Slow states are on by
//     default; Delays shortens them (zero keeps the default, so they cannot be
//     skipped). KMS DescribeKey tells AWS managed from customer managed keys.
//   - Backups and restores (backups.go): CreateBackup, DescribeBackup, ListBackups,
//     DeleteBackup, RestoreTableFromBackup and RestoreTableToPointInTime (also into
//     another Region through SourceTableArn, and UseLatestRestorableTime). A backup
//     is a snapshot taken at the request; point-in-time data comes from an undo log
//     of the writes to a table while its PITR is on, within the restorable window
//     [PITR enabled, now - pitrLag]. A restored table keeps the schema, indexes,
//     capacity and encryption and nothing else (no stream, TTL, tags, PITR, auto
//     scaling), and stays CREATING with RestoreSummary.RestoreInProgress for the
//     restore delay.
//   - Malformed JSON gives SerializationException, unknown targets
//     UnknownOperationException; other validation is DynamoDB Local's.
//
// # Admin API
//
// The same operations exist as methods on *Server and over HTTP under
// /_emulator/ on the emulator's endpoint (JSON bodies; durations as "250ms"
// strings or numbers of milliseconds):
//
//	POST   /_emulator/reset                  Reset: delete every table, forget all state
//	GET    /_emulator/delays                 CurrentDelays
//	POST   /_emulator/delays                 SetDelays {"replicaCreate":"2s","replicaDelete":"1s","replication":"200ms","upgrade":"1s",
//	                                           "settle":"20s","toggleThrottle":"15s","pitrUnavailable":"10s","pitrEnabling":"10s","sourceHold":"24h",
//	                                           "backup":"5s","restore":"1m","pitrLag":"5m"}
//	GET    /_emulator/faults                 Faults, each with how often it fired (fired, held)
//	POST   /_emulator/faults                 AddFault (a Fault as JSON) → {"id":N}
//	DELETE /_emulator/faults[?id=N]          RemoveFault / ClearFaults
//	POST   /_emulator/trim-stream            TrimStream {"region":"us-east-1","table":"T"}
//	POST   /_emulator/split-shard            SplitShard {"region":"us-east-1","table":"T","children":2} → {"children":[ids]}
//	POST   /_emulator/iterator-lifetime      SetIteratorLifetime {"lifetime":"1s"} (AWS's 15 minutes by default)
//	POST   /_emulator/stream-shards          SetStreamShards {"shards":2,"pageSize":100}
//	POST   /_emulator/fail-replica-creation  FailReplicaCreation {"region":"eu-west-1","table":"T","description":"..."}
//	POST   /_emulator/replica-status         SetReplicaStatus {"region":"eu-west-1","table":"T","status":"REGION_DISABLED"}
//	POST   /_emulator/table-quota            SetTableQuota {"region":"us-east-1","read":80000,"write":80000}
//	GET    /_emulator/upgrade-check?table=T  CheckUpgrade: the console's prerequisites
//	POST   /_emulator/legacy-global-table CreateLegacyGlobalTable {"globalTableName":"T","regions":["us-east-1","eu-west-1"]}
//	POST   /_emulator/upgrade                UpdateVersion {"table":"T","after":"5s"} (409 with the failed checks when refused)
//	GET    /_emulator/upgrade?table=T        UpgradeState
//
// Fault kinds: an error code with HTTP status and rate per operation, Region and
// table (ProvisionedThroughputExceededException 400, InternalServerError 500,
// ...); added latency; a fraction of BatchWriteItem requests returned as
// UnprocessedItems; trimmed stream records (TrimmedDataAccessException); iterators
// that expire early (ExpiredIteratorException); shard splits and rollovers (the open
// shard closes, children with ParentShardId continue it, each key in one child); a
// replica create that ends in CREATION_FAILED. Each rule has its own seeded RNG, so runs are reproducible.
//
// "Update version" stands in for the console button that upgrades a 2017.11.29
// global table: it is refused, with the reasons, while TTL, GSI or encryption
// settings differ between replicas or a replica has provisioned writes without
// WCU auto scaling; otherwise every member reports UPDATING for the upgrade delay
// and then GlobalTableVersion 2019.11.21, DescribeGlobalTable answers
// GlobalTableNotFoundException, and writes replicate as in the current version.
//
// # Use
//
//	srv, err := emulator.Start(ctx, emulator.Options{Delays: emulator.Delays{ReplicaCreate: 200 * time.Millisecond}})
//	defer srv.Stop()
//	// point SDK clients at srv.Endpoint with any static credentials
//
// `make emulator` runs cmd/ddbglobal-emulator in the foreground on EMULATOR_ADDR
// (default 127.0.0.1:8765); EMULATOR_REPLICA_CREATE_DELAY, EMULATOR_REPLICA_DELETE_DELAY,
// EMULATOR_REPLICATION_DELAY and EMULATOR_UPGRADE_DELAY set the delays.
//
// # Tests and benchmark
//
// The package's tests start one emulator and reset it between tests. TestConformance
// runs the same data-plane expectations against the emulator, bare DynamoDB Local and
// (when `python3 -m moto.server` is importable; DDBGLOBAL_SKIP_MOTO=1 skips it) moto.
// BenchmarkBatchWriteItem measures BatchWriteItem items/s through the front and
// straight to DynamoDB Local in the same run and reports the front's cost:
//
//	go test ./internal/emulator -run '^$' -bench BatchWriteItem -benchtime 1x
package emulator
