package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

const (
	shardListInterval = time.Second
	// A shard first read from TRIM_HORIZON this long after a worker first listed
	// it may already have lost records to the 24 h retention.
	retentionSafety  = 23 * time.Hour
	streamCheckEvery = 10 // shard listings between checks of the source's stream ARN
)

// reader is the status of one shard this process reads.
type reader struct {
	mu       sync.Mutex
	tipAt    time.Time // start of the latest poll that reached the shard's tip (a short page), once that page is applied and checkpointed
	behind   time.Time // ApproximateCreationDateTime of the last applied record while not caught up
	finished bool
}

// shardSnapshot is the latest view of the shard tree, for CatchUp and Drain.
type shardSnapshot struct {
	at          time.Time
	ready       []string        // shards that may be read now
	otherOwned  map[string]bool // ready shards leased by another live worker
	allFinished bool            // every listed shard is finished
}

// streamLoop lists the shard tree, registers new shards, detects loss, and
// starts a reader for each ready shard it can lease.
func (m *Migration) streamLoop(ctx context.Context, errc chan<- error) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; !quitting(ctx); i++ {
		st, err := m.refresh(ctx)
		if err != nil {
			return err
		}
		if err := m.checkListingGap(ctx, st); err != nil {
			return err
		}
		if i%streamCheckEvery == streamCheckEvery-1 {
			if err := m.checkStreamARN(ctx); err != nil {
				return err
			}
		}
		if err := m.scheduleShards(ctx, &wg, errc, intOf(st["listedAt"])); err != nil {
			return err
		}
		if err := sleepUnlessQuitting(ctx, shardListInterval); err != nil {
			return err
		}
	}
	return nil
}

// listedEvery is how often the state's "listedAt" (when a worker last listed
// the shard tree) is brought forward.
const listedEvery = time.Minute

// checkListingGap fails the migration when no worker listed the shard tree for
// longer than the stream keeps records: a shard created and trimmed in that
// time was never seen, and its records are lost. A migration applied only by
// `terraform apply` (sync = "apply") that is left alone for a day ends here.
func (m *Migration) checkListingGap(ctx context.Context, st Item) error {
	listed := intOf(st["listedAt"])
	if listed == 0 {
		listed = intOf(st["capturedAt"])
	}
	if gap := time.Since(time.UnixMilli(listed)); gap > retentionSafety {
		return m.fail(ctx, fmt.Sprintf("no worker read the source stream for %s (since %s), longer than its 24 h retention: "+
			"shards created and trimmed in that time were never read. Keep a runner going (sync = \"external\") or apply at least daily",
			gap.Round(time.Minute), time.UnixMilli(listed).UTC().Format(time.RFC3339)))
	}
	return nil
}

func (m *Migration) checkStreamARN(ctx context.Context) error {
	t, err := describeTable(ctx, m.src, m.cfg.Source.Table)
	if err != nil {
		return err
	}
	pinned := m.streamARN.Load().(string)
	if spec := t.StreamSpecification; spec == nil || !aws.ToBool(spec.StreamEnabled) {
		return m.fail(ctx, fmt.Sprintf("the stream of source table %s was disabled; writes since then are not captured", m.cfg.Source.Table))
	}
	if cur := aws.ToString(t.LatestStreamArn); cur != pinned {
		return m.fail(ctx, fmt.Sprintf("the source stream changed from %s to %s; changes in between were not captured", pinned, cur))
	}
	return nil
}

// listShards pages through DescribeStream.
func (m *Migration) listShards(ctx context.Context) ([]shardInfo, error) {
	arn := m.streamARN.Load().(string)
	var out []shardInfo
	var start *string
	for {
		res, err := call(ctx, m.log, "DescribeStream", func(ctx context.Context) (*dynamodbstreams.DescribeStreamOutput, error) {
			return m.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn, ExclusiveStartShardId: start}, noSDKRetryStreams)
		})
		if isNotFound(err) {
			return nil, m.fail(ctx, fmt.Sprintf("the pinned stream %s no longer exists", arn))
		}
		if err != nil {
			return nil, err
		}
		for _, s := range res.StreamDescription.Shards {
			out = append(out, shardInfo{ID: aws.ToString(s.ShardId), Parent: aws.ToString(s.ParentShardId)})
		}
		start = res.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return out, nil
		}
	}
}

func (m *Migration) shardCheckpoints(ctx context.Context) (map[string]shardCheckpoint, error) {
	items, err := m.st.list(ctx, prefixShard)
	if err != nil {
		return nil, err
	}
	known := make(map[string]shardCheckpoint, len(items))
	for _, it := range items {
		ck := shardFromItem(it)
		known[ck.ID] = ck
	}
	return known, nil
}

// scheduleShards lists the shard tree, registers new shards, and starts readers.
// listedAt is when a worker last listed the tree (the state's "listedAt", or
// the capture time): a shard absent then may have been created right after it,
// so that is the age a new shard is registered with ("seenAt"); a child whose
// parent is finished is no younger than the parent's finish. The retention
// check in iterator uses it, so a shard's trimmed head is never skipped.
func (m *Migration) scheduleShards(ctx context.Context, wg *sync.WaitGroup, errc chan<- error, listedAt int64) error {
	listing, err := m.listShards(ctx)
	if err != nil {
		return err
	}
	known, err := m.shardCheckpoints(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, s := range listing {
		if _, ok := known[s.ID]; ok {
			continue
		}
		seen := newShardSeenAt(now.UnixMilli(), listedAt, known[s.Parent])
		item := Item{"parent": sAV(s.Parent), "seenAt": nAV(seen)}
		if _, err := m.st.initEntry(ctx, prefixShard+s.ID, item); err != nil {
			return err
		}
		known[s.ID] = shardCheckpoint{ID: s.ID, Parent: s.Parent, SeenAt: seen}
	}
	if listedAt > 0 && now.Sub(time.UnixMilli(listedAt)) > listedEvery {
		if ok, err := m.st.updateState(ctx, Item{"listedAt": nAV(now.UnixMilli())}); err != nil || !ok {
			return errors.Join(err, m.replacedUnless(ok))
		}
	}
	for _, id := range vanishedShards(listing, known) {
		if err := m.confirmVanished(ctx, id); err != nil {
			return err
		}
	}
	ready := readyShards(listing, known)
	snap := shardSnapshot{at: now, ready: ready, otherOwned: map[string]bool{}, allFinished: len(ready) == 0}
	for _, s := range listing {
		if !known[s.ID].Finished {
			snap.allFinished = false
		}
	}
	// HandOffReplay applies the stream only after the backfill; a replay
	// switched to conditional writes, once every segment acknowledged it.
	hold := m.cachedPhase() == PhaseBackfilling && (m.HandOff() == HandOffReplay || !m.switchAcknowledged(ctx))
	for _, id := range ready {
		ck := known[id]
		if ck.Owner != "" && ck.Owner != m.cfg.Owner && ck.LeaseMs > now.UnixMilli() {
			snap.otherOwned[id] = true
			continue
		}
		m.shardMu.Lock()
		_, running := m.readers[id]
		m.shardMu.Unlock()
		if running || hold {
			continue
		}
		l, item, err := m.st.acquire(ctx, prefixShard+id, nil)
		if err != nil {
			return err
		}
		if l == nil {
			snap.otherOwned[id] = true
			continue
		}
		r := &reader{}
		m.shardMu.Lock()
		m.readers[id] = r
		m.shardMu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := m.readShard(l, shardFromItem(item), r)
			if err != nil && l.lost() {
				err = errLeaseLost
			}
			l.release()
			m.shardMu.Lock()
			delete(m.readers, id)
			m.shardMu.Unlock()
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, errLeaseLost) {
				select {
				case errc <- fmt.Errorf("shard %s: %w", id, err):
				default:
				}
			} else if errors.Is(err, errLeaseLost) {
				m.log.Warn("shard lease lost; another worker continues", "shard", id)
			}
		}()
	}
	m.shardMu.Lock()
	m.snap = snap
	m.shardMu.Unlock()
	return nil
}

// confirmVanished checks a shard that is unfinished in the checkpoint table but
// missing from the listing; a listing can be briefly inconsistent, the shard
// itself cannot lie.
func (m *Migration) confirmVanished(ctx context.Context, id string) error {
	arn := m.streamARN.Load().(string)
	_, err := call(ctx, m.log, "GetShardIterator", func(ctx context.Context) (*dynamodbstreams.GetShardIteratorOutput, error) {
		return m.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: &arn, ShardId: &id, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		}, noSDKRetryStreams)
	})
	var trimmed *streamtypes.TrimmedDataAccessException
	if isNotFound(err) || errors.As(err, &trimmed) {
		return m.fail(ctx, fmt.Sprintf("shard %s vanished from the stream before it was read to its end", id))
	}
	return err
}

// iterator returns an iterator just after seq, or at TRIM_HORIZON when nothing
// of the shard has been applied yet.
func (m *Migration) iterator(ctx context.Context, ck shardCheckpoint, seq string) (string, error) {
	arn := m.streamARN.Load().(string)
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: &ck.ID, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
	if seq != "" {
		in.ShardIteratorType = streamtypes.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = &seq
	} else if ck.SeenAt > 0 && time.Since(time.UnixMilli(ck.SeenAt)) > retentionSafety {
		return "", m.fail(ctx, fmt.Sprintf("shard %s was first seen %s ago and never read; records older than the 24 h retention may be gone", ck.ID, time.Since(time.UnixMilli(ck.SeenAt)).Round(time.Minute)))
	}
	out, err := call(ctx, m.log, "GetShardIterator", func(ctx context.Context) (*dynamodbstreams.GetShardIteratorOutput, error) {
		return m.streams.GetShardIterator(ctx, in, noSDKRetryStreams)
	})
	if err != nil {
		return "", m.classifyReadError(ctx, ck.ID, seq, err)
	}
	return aws.ToString(out.ShardIterator), nil
}

// trimmedBeforeCapture reports whether records trimmed from a shard of which
// nothing was applied are all older than the capture: trimming removes records
// older than 24 h, so while the capture (and the shard's registration) is
// younger than that, no trimmed record can be one the scan missed.
func (m *Migration) trimmedBeforeCapture(ck shardCheckpoint) bool {
	captured := m.capturedAt.Load()
	oldest := captured
	if ck.SeenAt > 0 {
		oldest = min(oldest, ck.SeenAt)
	}
	return captured > 0 && time.Since(time.UnixMilli(oldest)) < retentionSafety
}

// classifyReadError turns the errors that mean "records are gone" into a
// recorded loss. A trimmed position that was never checkpointed (TRIM_HORIZON
// raced with trimming) is retried by the caller only through iterator, which
// checks the shard's age.
func (m *Migration) classifyReadError(ctx context.Context, shard, seq string, err error) error {
	var trimmed *streamtypes.TrimmedDataAccessException
	switch {
	case errors.As(err, &trimmed) && seq != "":
		return m.fail(ctx, fmt.Sprintf("shard %s was trimmed past the checkpointed sequence number %s", shard, seq))
	case errors.As(err, &trimmed):
		return m.fail(ctx, fmt.Sprintf("shard %s was trimmed before any of it was read, and its trimmed records may be newer than the capture", shard))
	case isNotFound(err):
		return m.fail(ctx, fmt.Sprintf("shard %s or its stream vanished before it was read to its end", shard))
	}
	return err
}

// readShard applies one shard in order, from its checkpoint to its end.
// Each page is applied (deduplicated per key) and only then checkpointed, so a
// crash replays at most one page, in order, which ends in the same state.
func (m *Migration) readShard(l *lease, ck shardCheckpoint, r *reader) error {
	ctx := l.ctx
	seq := ck.Seq
	iter, err := m.iterator(ctx, ck, seq)
	if err != nil {
		return err
	}
	for !quitting(ctx) {
		pollStart := time.Now()
		out, err := callRead(ctx, m.log, "GetRecords", func(ctx context.Context) (*dynamodbstreams.GetRecordsOutput, error) {
			return m.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: &iter, Limit: aws.Int32(1000)}, noSDKRetryStreams)
		})
		var expired *streamtypes.ExpiredIteratorException
		if errors.As(err, &expired) {
			m.log.Debug("shard iterator expired; re-acquiring after the last applied record", "shard", ck.ID)
			if iter, err = m.iterator(ctx, ck, seq); err != nil {
				return err
			}
			continue
		}
		var trimmed *streamtypes.TrimmedDataAccessException
		if errors.As(err, &trimmed) && seq == "" && m.trimmedBeforeCapture(ck) {
			// Nothing of this shard was applied and the trimmed records are
			// older than the capture (the scan holds their effect): start
			// again from the new oldest record.
			m.log.Info("shard trimmed before its first record was applied; the trimmed records predate the capture, reading on from the oldest record", "shard", ck.ID)
			if iter, err = m.iterator(ctx, ck, ""); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return m.classifyReadError(ctx, ck.ID, seq, err)
		}
		if n := len(out.Records); n > 0 {
			cs, err := m.changesFromRecords(out.Records)
			if err != nil {
				return err
			}
			tombstones := m.HandOff() == HandOffInsertIfAbsent && m.cachedPhase() == PhaseBackfilling
			// Every write of the page is fenced by the lease (see call); an
			// error leaves the page unapplied and unchecked, to be read again.
			if err := m.applyChanges(ctx, cs, tombstones); err != nil {
				return err
			}
			if tombstones {
				if err := m.settleTombstones(ctx, cs); err != nil {
					return err
				}
			}
			last := out.Records[n-1].Dynamodb
			seq = aws.ToString(last.SequenceNumber)
			var lastMs int64
			if last.ApproximateCreationDateTime != nil {
				lastMs = last.ApproximateCreationDateTime.UnixMilli()
			}
			if _, err := l.save(ctx, update{set: Item{"seq": sAV(seq), "lastMs": nAV(lastMs)}, add: map[string]int64{"applied": int64(n)}}); err != nil {
				return err
			}
			m.applied.Add(int64(n))
			m.lastRecordsMs.Store(time.Now().UnixMilli())
			r.mu.Lock()
			r.behind = time.UnixMilli(lastMs)
			r.mu.Unlock()
		}
		// The shard is at its tip only once the short page's records are
		// applied and checkpointed: a drain that stops on it leaves nothing
		// behind the checkpoint.
		if short(out.Records) {
			r.mu.Lock()
			r.tipAt = pollStart
			r.mu.Unlock()
		}
		if out.NextShardIterator == nil {
			if _, err := l.save(ctx, update{set: Item{"done": &types.AttributeValueMemberBOOL{Value: true}, "doneAt": nAV(time.Now().UnixMilli())}}); err != nil {
				return err
			}
			r.mu.Lock()
			r.finished = true
			r.mu.Unlock()
			m.log.Debug("shard finished", "shard", ck.ID)
			return nil
		}
		iter = *out.NextShardIterator
		if len(out.Records) == 0 {
			r.mu.Lock()
			r.behind = time.Time{}
			r.mu.Unlock()
			// A run that stops (finishPages) waits for its readers: the wait
			// ends with the run, not after the poll interval.
			if err := sleepUnlessQuitting(ctx, m.cfg.PollInterval); err != nil {
				return err
			}
		}
	}
	return nil
}

// settleTombstones closes the race between a tombstone written with a stale
// view of the phase and the tombstone sweep at the end of the backfill: after
// writing, the phase is read again (strongly consistent). If the backfill is
// still running, the sweep has not started and will find these tombstones;
// otherwise this reader removes its own (each only if still a tombstone), and,
// in version mode, the marks of its puts (StreamedAttribute).
func (m *Migration) settleTombstones(ctx context.Context, cs []change) error {
	if _, err := m.refresh(ctx); err != nil {
		return err
	}
	if m.cachedPhase() == PhaseBackfilling {
		return nil
	}
	for _, c := range cs {
		if c.put != nil {
			if m.cfg.VersionAttribute != "" {
				if err := m.unmark(ctx, c.tkey); err != nil {
					return err
				}
			}
			continue
		}
		if err := m.conditionalDelete(ctx, c.tkey, "attribute_exists(#t)", map[string]string{"#t": TombstoneAttribute}, nil); err != nil {
			return err
		}
	}
	return nil
}

// short reports whether a GetRecords page stopped at the shard's tip rather
// than at the 1,000-record or 1 MB page limit: every record written before the
// request started is then in this page or an earlier one.
func short(recs []streamtypes.Record) bool {
	if len(recs) >= 1000 {
		return false
	}
	var size int64
	for _, r := range recs {
		if r.Dynamodb != nil {
			size += aws.ToInt64(r.Dynamodb.SizeBytes)
		}
	}
	return size < 900<<10
}

// caughtUp reports whether every ready shard has been read to its tip (or
// finished) by a poll that started after since, or is read by another live worker.
// Strict (Drain) also waits for shards leased by others: their owner may be
// dead, and the drain must read them itself once the lease expires.
func (m *Migration) caughtUp(since time.Time, strict bool) (bool, shardSnapshot) {
	m.shardMu.Lock()
	defer m.shardMu.Unlock()
	snap := m.snap
	if snap.at.Before(since) {
		return false, snap
	}
	for _, id := range snap.ready {
		if snap.otherOwned[id] && !strict {
			continue
		}
		r, ok := m.readers[id]
		if !ok {
			return false, snap
		}
		r.mu.Lock()
		done := r.finished || r.tipAt.After(since)
		r.mu.Unlock()
		if !done {
			return false, snap
		}
	}
	return true, snap
}

// lag is how far behind the source the slowest shard of this process is.
func (m *Migration) lag() time.Duration {
	m.shardMu.Lock()
	defer m.shardMu.Unlock()
	var d time.Duration
	for _, r := range m.readers {
		r.mu.Lock()
		if !r.behind.IsZero() {
			d = max(d, time.Since(r.behind))
		}
		r.mu.Unlock()
	}
	return d
}
