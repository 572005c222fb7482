package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// ErrRebackfillRequired is wrapped by every error that reports possible data
// loss. Such a migration is in phase failed; Forget it and start again.
var ErrRebackfillRequired = errors.New("re-backfill required")

// ErrConfigChanged is returned by Start when the migration id already exists in
// the checkpoint table with different fingerprinted settings.
var ErrConfigChanged = errors.New("migration settings changed")

// ErrTargetNotEmpty is returned by Start when a new migration's target table
// already holds items and Config.OverwriteTarget is not set.
var ErrTargetNotEmpty = errors.New("the target table already holds items")

// ErrStreamView is returned by Start when the source stream's view type cannot
// serve the migration (version mode needs NEW_AND_OLD_IMAGES).
var ErrStreamView = errors.New("the source stream's view type does not fit")

// ErrNotStarted is returned by Status for a migration with no entries in the
// checkpoint table (never started, or forgotten).
var ErrNotStarted = errors.New("has not been started")

// LossError reports that changes may have been lost between source and target.
type LossError struct{ Reason string }

func (e *LossError) Error() string {
	return "data loss detected: " + e.Reason + "; re-backfill required (forget this migration and start it again)"
}

func (e *LossError) Unwrap() error { return ErrRebackfillRequired }

// Migration is one live migration. Several Migration values with the same ID,
// in one or many processes, cooperate through the checkpoint table's leases.
type Migration struct {
	cfg      Config
	log      Logger
	st       *store
	src, dst DynamoDBAPI
	streams  StreamsAPI
	readLim  *rateLimiter
	writeLim *rateLimiter
	writeSem chan struct{}  // BatchWriteItem calls in flight
	items    *adaptiveLimit // single-item (conditional) writes in flight

	prepMu   sync.Mutex
	prepared bool
	srcKey   []string // source key attribute names, hash first
	dstKey   []string // target key attribute names, hash first

	phase      atomic.Value // Phase, refreshed from the state entry
	handOff    atomic.Value // HandOff in force: the configured one, or what auto chose at the start
	capturedAt atomic.Int64 // unix ms of the stream capture, from the state entry
	swept      atomic.Bool  // tombstones swept after the backfill
	switched   atomic.Bool  // a replay backfill switched to conditional writes (see switch.go)
	scanSplit  atomic.Int64 // Scan segments per backfill segment, from the state entry (see scanSplitFor)
	allAcked   atomic.Bool  // every segment acknowledged that switch
	streamARN  atomic.Value // string

	copied        atomic.Int64 // items this process backfilled
	batchCopied   atomic.Int64 // of which with unconditional BatchWriteItem
	applied       atomic.Int64 // stream records this process applied
	skipped       atomic.Int64 // conditional writes that found a newer value
	unprocessed   atomic.Int64 // UnprocessedItems entries resubmitted
	lastRecordsMs atomic.Int64 // when this process last applied a non-empty page
	refreshedAt   atomic.Int64 // when this process last read the state entry (unix ms)

	shardMu sync.Mutex
	readers map[string]*reader // shards this process reads
	snap    shardSnapshot
}

// New validates cfg and returns a Migration. It does no I/O.
func New(cfg Config) (*Migration, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("migration %q: %w", cfg.ID, err)
	}
	m := &Migration{
		cfg:      cfg,
		log:      cfg.Logger,
		src:      cfg.Source.DynamoDB,
		dst:      cfg.Target.DynamoDB,
		streams:  cfg.Source.Streams,
		readLim:  newRateLimiter(cfg.MaxReadUnits),
		writeLim: newRateLimiter(cfg.MaxWriteUnits),
		writeSem: make(chan struct{}, cfg.WriteConcurrency),
		// A single-item write carries 1 item where a batch carries 25: allow more
		// of them in flight, as many as the target takes without slowing down.
		items:   newAdaptiveLimit(4*cfg.WriteConcurrency, cfg.WriteConcurrency, 32*cfg.WriteConcurrency),
		readers: map[string]*reader{},
		st: &store{
			c: cfg.CheckpointClient, table: cfg.CheckpointTable, id: cfg.ID,
			owner: cfg.Owner, lease: cfg.LeaseDuration, reqTimeout: cfg.RequestTimeout, log: cfg.Logger, now: time.Now,
		},
	}
	m.phase.Store(Phase(""))
	m.handOff.Store(cfg.HandOff)
	m.streamARN.Store("")
	return m, nil
}

// Config returns the effective configuration (defaults filled in).
func (m *Migration) Config() Config { return m.cfg }

func (m *Migration) cachedPhase() Phase { return m.phase.Load().(Phase) }

// HandOff is the hand-off in force: the configured one, or, for HandOffAuto,
// the one chosen when the migration started (known after Start or a refresh).
func (m *Migration) HandOff() HandOff { return m.handOff.Load().(HandOff) }

// noteState caches what every worker needs from the state entry.
func (m *Migration) noteState(st Item) {
	m.phase.Store(Phase(sOf(st["phase"])))
	m.swept.Store(boolOf(st["swept"]))
	m.switched.Store(intOf(st["switchedAt"]) > 0)
	m.capturedAt.Store(intOf(st["capturedAt"]))
	// Absent for a migration started before the split existed: its segments
	// were scanned whole, and their checkpoints mean that.
	m.scanSplit.Store(max(1, intOf(st["scanSplit"])))
	m.streamARN.Store(sOf(st["streamArn"]))
	if h := HandOff(sOf(st["handOff"])); h != "" {
		m.handOff.Store(h)
	}
}

// prepare reads both tables' key schemas once and checks that the transform
// carries every source key attribute into the target key.
func (m *Migration) prepare(ctx context.Context) error {
	m.prepMu.Lock()
	defer m.prepMu.Unlock()
	if m.prepared {
		return nil
	}
	src, err := describeTable(ctx, m.src, m.cfg.Source.Table)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	m.srcKey = keyNames(src.KeySchema)
	dst, err := describeTable(ctx, m.dst, m.cfg.Target.Table)
	switch {
	case err == nil:
		m.dstKey = keyNames(dst.KeySchema)
	case m.cfg.Backfill == BackfillRestore && isNotFound(err):
		m.dstKey = m.srcKey // not restored yet: a restore keeps the key schema
	default:
		return fmt.Errorf("target: %w", err)
	}
	if m.cfg.Backfill == BackfillRestore {
		if err := m.checkRestoreKeys(); err != nil {
			return err
		}
	}
	probe := Item{}
	for _, k := range m.srcKey {
		probe[k] = sAV("probe-" + k)
	}
	tk, err := m.cfg.Transform.Apply(probe)
	if err != nil {
		return err
	}
	carried := 0
	for _, k := range m.dstKey {
		v, ok := tk[k]
		if !ok {
			return fmt.Errorf("target key attribute %q is not produced from the source key (source key %v); add a rename or set", k, m.srcKey)
		}
		if s := sOf(v); len(s) > 6 && s[:6] == "probe-" {
			carried++
		}
	}
	if carried != len(m.srcKey) {
		return fmt.Errorf("the transform must carry every source key attribute %v into the target key %v, or distinct items would collide", m.srcKey, m.dstKey)
	}
	if m.cfg.VersionAttribute != "" && m.cfg.Transform.Rename[m.cfg.VersionAttribute] != "" {
		return fmt.Errorf("version attribute %q is renamed by the transform; name the target attribute instead", m.cfg.VersionAttribute)
	}
	m.prepared = true
	return nil
}

func describeTable(ctx context.Context, c DynamoDBAPI, table string) (*types.TableDescription, error) {
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, fmt.Errorf("describing table %s: %w", table, err)
	}
	return out.Table, nil
}

func keyNames(ks []types.KeySchemaElement) []string {
	var hash, rng []string
	for _, k := range ks {
		if k.KeyType == types.KeyTypeHash {
			hash = append(hash, aws.ToString(k.AttributeName))
		} else {
			rng = append(rng, aws.ToString(k.AttributeName))
		}
	}
	return append(hash, rng...)
}

// Start creates the checkpoint table if needed, records the config (or checks
// that it did not change), and captures the source stream: it enables the
// stream if the table has none, waits until it is ENABLED, and pins its ARN.
// Reading starts at TRIM_HORIZON of every shard, never LATEST, and the backfill
// scan starts only after the stream is enabled, so every write after Start is
// either in the scan or in the stream. Start is idempotent.
func (m *Migration) Start(ctx context.Context) error {
	if err := m.prepare(ctx); err != nil {
		return err
	}
	fresh, err := m.st.fresh(ctx)
	if err != nil {
		return err
	}
	if fresh {
		// Refusals come before anything is created or changed.
		if err := m.checkTarget(ctx); err != nil {
			return err
		}
		if err := m.checkSourceStream(ctx); err != nil {
			return err
		}
	}
	if err := m.st.ensureTable(ctx); err != nil {
		return err
	}
	cfgItem := m.cfg.configItem()
	wrote, err := m.st.putIfAbsent(ctx, entryConfig, cfgItem)
	if err != nil {
		return err
	}
	if !wrote {
		// Same fingerprint: refresh the non-fingerprinted settings (limits) for runners.
		_, ok, err := m.st.update(ctx, entryConfig, update{
			set:    cfgItem,
			cond:   "#fp = :fp",
			names:  map[string]string{"#fp": "fingerprint"},
			values: Item{":fp": cfgItem["fingerprint"]},
		})
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("migration %q: %w: source, target, segments, hand-off, version attribute and transform are fixed for the life of a migration; forget it and start again to change them", m.cfg.ID, ErrConfigChanged)
		}
	}
	st, err := m.st.get(ctx, entryState)
	if err != nil {
		return err
	}
	if st != nil {
		return m.adopt(ctx, st)
	}
	if err := m.awaitRetired(ctx); err != nil {
		return err
	}
	arn, estimate, size, err := m.captureStream(ctx)
	if err != nil {
		return err
	}
	handOff, why := m.cfg.ResolveHandOff(m.cfg.EstimateBackfill(estimate, size))
	if m.cfg.OverwriteTarget {
		// After the capture, so that every later source write is in the
		// stream; before the state entry, so that an interrupted clear is
		// redone by the next Start.
		if err := m.clearTarget(ctx); err != nil {
			return err
		}
	}
	now := time.Now()
	if _, err := m.st.putIfAbsent(ctx, entryState, Item{
		attrGen:       sAV(newGeneration(now)),
		"fingerprint": cfgItem["fingerprint"],
		"phase":       sAV(string(PhaseBackfilling)),
		"streamArn":   sAV(arn),
		"capturedAt":  nAV(now.UnixMilli()),
		"listedAt":    nAV(now.UnixMilli()),
		"estimate":    nAV(estimate),
		"scanSplit":   nAV(scanSplitFor(size, estimate, m.cfg.Segments)),
		"handOff":     sAV(string(handOff)),
		"updatedAt":   nAV(now.UnixMilli()),
	}); err != nil {
		return err
	}
	if st, err = m.st.get(ctx, entryState); err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("migration %q: %w while it started", m.cfg.ID, ErrMigrationReplaced)
	}
	m.log.Info("migration started", "id", m.cfg.ID, "stream_arn", sOf(st["streamArn"]), "estimated_items", estimate,
		"hand_off", sOf(st["handOff"]), "why", why)
	return m.adopt(ctx, st)
}

// adopt takes the state entry's generation as this worker's (or checks that it
// did not change) and checks the state.
func (m *Migration) adopt(ctx context.Context, st Item) error {
	if err := m.sameGeneration(st, true); err != nil {
		return err
	}
	return m.checkState(ctx, st)
}

// sameGeneration adopts the state entry's generation on first sight and then
// refuses any other: the migration was forgotten (and perhaps started again with
// other settings) while this worker ran.
func (m *Migration) sameGeneration(st Item, settings bool) error {
	gen := sOf(st[attrGen])
	if fp := sOf(st["fingerprint"]); settings && fp != m.cfg.fingerprint() {
		return fmt.Errorf("migration %q: %w: its settings in %s are not the ones this worker was given (fingerprint %s, not %s); restart the worker to load them",
			m.cfg.ID, ErrMigrationReplaced, m.cfg.CheckpointTable, fp, m.cfg.fingerprint())
	}
	if cur := m.st.generation(); cur == "" {
		m.st.gen.Store(gen)
	} else if cur != gen {
		return fmt.Errorf("migration %q: %w: it was started again (generation %s, this worker had %s); this worker stops", m.cfg.ID, ErrMigrationReplaced, gen, cur)
	}
	return nil
}

// replacedUnless is nil when ok, and otherwise says that the state entry of this
// worker's generation is gone.
func (m *Migration) replacedUnless(ok bool) error {
	if ok {
		return nil
	}
	return fmt.Errorf("migration %q: %w", m.cfg.ID, ErrMigrationReplaced)
}

// awaitRetired waits, before a migration id is used again after Forget, until
// the last write of the forgotten migration's workers can no longer land.
func (m *Migration) awaitRetired(ctx context.Context) error {
	r, err := m.st.get(ctx, entryRetired)
	if err != nil || r == nil {
		return err
	}
	if wait := time.Until(time.UnixMilli(intOf(r["fenceUntil"]))); wait > 0 {
		m.log.Info("waiting for the workers of the forgotten migration with this id to stop", "id", m.cfg.ID, "wait", wait.Round(time.Millisecond).String())
		return sleepCtx(ctx, wait)
	}
	return nil
}

// checkTarget refuses a target that holds items unless OverwriteTarget is set:
// the backfill only inserts absent keys, so items left from an earlier attempt
// would stay stale, and items deleted from the source would stay.
func (m *Migration) checkTarget(ctx context.Context) error {
	if m.cfg.Backfill == BackfillRestore {
		if err := m.checkTargetAbsent(ctx); err != nil {
			return err
		}
		return m.checkPassFits(ctx) // restore.go
	}
	out, err := call(ctx, m.log, "Scan target", func(ctx context.Context) (*dynamodb.ScanOutput, error) {
		return m.dst.Scan(ctx, &dynamodb.ScanInput{TableName: &m.cfg.Target.Table, Limit: aws.Int32(1), ConsistentRead: aws.Bool(true)}, noSDKRetry)
	})
	if err != nil {
		return fmt.Errorf("checking that the target %s is empty: %w", m.cfg.Target.Table, err)
	}
	if len(out.Items) == 0 || m.cfg.OverwriteTarget {
		return nil
	}
	return fmt.Errorf("migration %q: %w (%s, for one): a migration copies into an empty table, and its backfill never replaces "+
		"an item it finds. Empty the target table %s in %s, or let the migration replace its contents (overwrite_target = true: "+
		"every target item is deleted after the stream is captured, then the source is copied)",
		m.cfg.ID, ErrTargetNotEmpty, keyString(out.Items[0], m.dstKey), m.cfg.Target.Table, m.cfg.Target.Region)
}

// checkSourceStream refuses an existing source stream whose view type cannot
// serve the migration: version mode needs the old images, since a delete
// carries its version only there.
func (m *Migration) checkSourceStream(ctx context.Context) error {
	if m.cfg.VersionAttribute == "" {
		return nil
	}
	t, err := describeTable(ctx, m.src, m.cfg.Source.Table)
	if err != nil {
		return err
	}
	if spec := t.StreamSpecification; spec != nil && aws.ToBool(spec.StreamEnabled) && spec.StreamViewType != types.StreamViewTypeNewAndOldImages {
		return fmt.Errorf("migration %q: %w: version_attribute needs the source stream to carry old and new images "+
			"(NEW_AND_OLD_IMAGES), since a delete carries its version only in the old image; the stream of %s is %s. "+
			"Change the source table's stream_view_type to NEW_AND_OLD_IMAGES before the migration starts, or migrate without a version attribute",
			m.cfg.ID, ErrStreamView, m.cfg.Source.Table, spec.StreamViewType)
	}
	return nil
}

// clearTarget deletes every item of the target table (OverwriteTarget).
func (m *Migration) clearTarget(ctx context.Context) error {
	m.log.Info("overwrite_target: deleting every item of the target before the backfill", "table", m.cfg.Target.Table)
	var deleted int64
	var start Item
	for {
		out, err := call(ctx, m.log, "Scan target", func(ctx context.Context) (*dynamodb.ScanOutput, error) {
			return m.dst.Scan(ctx, &dynamodb.ScanInput{
				TableName: &m.cfg.Target.Table, ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
				ProjectionExpression: aws.String(projection(m.dstKey)), ExpressionAttributeNames: projectionNames(m.dstKey),
			}, noSDKRetry)
		})
		if err != nil {
			return err
		}
		reqs := make([]types.WriteRequest, len(out.Items))
		for i, k := range out.Items {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		if err := m.batchWrite(ctx, reqs); err != nil {
			return err
		}
		deleted += int64(len(reqs))
		if out.LastEvaluatedKey == nil {
			m.log.Info("target emptied", "table", m.cfg.Target.Table, "deleted", deleted)
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

// captureStream enables or adopts the source stream and waits until it is ENABLED.
// It looks again at once after enabling the stream (the table names its new stream
// right away), then every 50 ms, doubling up to a second: a stream is usually
// ENABLED within a second, and every moment spent here delays the apply.
func (m *Migration) captureStream(ctx context.Context) (arn string, estimate, size int64, err error) {
	wait := 50 * time.Millisecond
	for enabled := false; ; {
		t, err := describeTable(ctx, m.src, m.cfg.Source.Table)
		if err != nil {
			return "", 0, 0, err
		}
		spec := t.StreamSpecification
		if spec == nil || !aws.ToBool(spec.StreamEnabled) {
			m.log.Info("enabling the source stream", "table", m.cfg.Source.Table, "view_type", m.cfg.StreamViewType)
			_, err := m.src.UpdateTable(ctx, &dynamodb.UpdateTableInput{
				TableName: &m.cfg.Source.Table,
				StreamSpecification: &types.StreamSpecification{
					StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(m.cfg.StreamViewType),
				},
			})
			var inUse *types.ResourceInUseException
			if err != nil && !errors.As(err, &inUse) {
				return "", 0, 0, fmt.Errorf("enabling the stream on %s: %w", m.cfg.Source.Table, err)
			}
			if err == nil && !enabled {
				enabled = true
				continue
			}
		} else if arn := aws.ToString(t.LatestStreamArn); arn != "" {
			if m.cfg.VersionAttribute != "" && spec.StreamViewType != types.StreamViewTypeNewAndOldImages {
				return "", 0, 0, m.checkSourceStream(ctx)
			}
			if v := spec.StreamViewType; v == types.StreamViewTypeKeysOnly || v == types.StreamViewTypeOldImage {
				m.log.Warn("the source stream carries no new images; every changed item will be re-read from the source", "view_type", string(v))
			}
			out, err := m.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn, Limit: aws.Int32(1)})
			if err != nil {
				return "", 0, 0, fmt.Errorf("describing stream %s: %w", arn, err)
			}
			if out.StreamDescription.StreamStatus == streamtypes.StreamStatusEnabled {
				return arn, aws.ToInt64(t.ItemCount), aws.ToInt64(t.TableSizeBytes), nil
			}
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return "", 0, 0, err
		}
		wait = min(2*wait, time.Second)
	}
}

// checkState caches the phase and pinned ARN and checks that the source still
// streams into the pinned stream.
func (m *Migration) checkState(ctx context.Context, st Item) error {
	m.noteState(st)
	phase := Phase(sOf(st["phase"]))
	pinned := sOf(st["streamArn"])
	if phase == PhaseFailed {
		return &LossError{Reason: sOf(st["error"])}
	}
	if phase == PhaseCompleted {
		return nil
	}
	t, err := describeTable(ctx, m.src, m.cfg.Source.Table)
	if err != nil {
		return err
	}
	if spec := t.StreamSpecification; spec == nil || !aws.ToBool(spec.StreamEnabled) {
		return m.fail(ctx, fmt.Sprintf("the stream of source table %s was disabled; writes since then were not captured", m.cfg.Source.Table))
	}
	if cur := aws.ToString(t.LatestStreamArn); cur != pinned {
		return m.fail(ctx, fmt.Sprintf("the source stream changed from %s to %s (disabled and re-enabled?); changes in between were not captured", pinned, cur))
	}
	return nil
}

// refresh re-reads the state entry, and fails when the migration was
// forgotten or started again with other settings.
func (m *Migration) refresh(ctx context.Context) (Item, error) { return m.refreshState(ctx, true) }

// refreshState is refresh; settings false skips the settings check, for
// read-only callers (plan-time Pending) whose configuration may have changed.
func (m *Migration) refreshState(ctx context.Context, settings bool) (Item, error) {
	st, err := m.st.get(ctx, entryState)
	if err != nil {
		return nil, err
	}
	if st == nil {
		if m.st.generation() != "" {
			return nil, fmt.Errorf("migration %q: %w: its state is gone from %s; this worker stops", m.cfg.ID, ErrMigrationReplaced, m.cfg.CheckpointTable)
		}
		return nil, fmt.Errorf("migration %q has not been started (no state in %s)", m.cfg.ID, m.cfg.CheckpointTable)
	}
	if err := m.sameGeneration(st, settings); err != nil {
		return nil, err
	}
	// A process that did not call Start (plan-time Pending, say) reads the pinned stream here.
	m.noteState(st)
	m.refreshedAt.Store(time.Now().UnixMilli())
	if Phase(sOf(st["phase"])) == PhaseFailed {
		return st, &LossError{Reason: sOf(st["error"])}
	}
	return st, nil
}

// fail records a loss in the state entry (phase failed) and returns it.
func (m *Migration) fail(ctx context.Context, reason string) error {
	m.log.Error("migration failed: re-backfill required", "id", m.cfg.ID, "reason", reason)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := m.st.setPhase(ctx, PhaseFailed, Item{"error": sAV(reason)}, PhaseBackfilling, PhaseSyncing, PhaseCuttingOver); err != nil {
		m.log.Error("recording the failure in the checkpoint table", "error", err.Error())
	}
	m.phase.Store(PhaseFailed)
	return &LossError{Reason: reason}
}

// CheckTarget refuses, as Start would, a migration that has not started yet
// into a target that holds items without Config.OverwriteTarget
// (ErrTargetNotEmpty). It changes nothing, so a plan can call it.
func (m *Migration) CheckTarget(ctx context.Context) error {
	if fresh, err := m.st.fresh(ctx); err != nil || !fresh {
		return err
	}
	if err := m.prepare(ctx); err != nil {
		return err
	}
	return m.checkTarget(ctx)
}

// Forget deletes every checkpoint entry of this migration. It does not touch
// the source, the target or the stream. It leaves one small "retired" entry
// saying until when a worker of the forgotten migration could still write, so
// that a migration started again under the same id waits for that first.
func (m *Migration) Forget(ctx context.Context) error {
	_, err := describeTable(ctx, m.st.c, m.st.table)
	if isNotFound(err) {
		return nil
	}
	return m.st.retire(ctx)
}
