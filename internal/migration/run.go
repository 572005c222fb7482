package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// ErrVerificationFailed is returned by Cutover when source and target differ.
var ErrVerificationFailed = errors.New("verification found differences")

// run works on the migration (backfill segments and stream shards, sharing
// both with other workers through leases) until stop reports true, ctx ends, or
// an error occurs. Leases are released on return.
//
// Nothing is written once the migration is completed or cutting over (the
// application may write to the target by then): run returns at once in those
// phases, except for Drain (draining), which is the cutover's own step.
func (m *Migration) run(ctx context.Context, stop func() bool, draining bool) error {
	if err := m.prepare(ctx); err != nil {
		return err
	}
	st, err := m.refresh(ctx)
	if err != nil {
		return err
	}
	if err := m.checkState(ctx, st); err != nil {
		return err
	}
	switch p := m.cachedPhase(); {
	case p == PhaseCompleted:
		return nil
	case p == PhaseCuttingOver && !draining:
		return nil
	}
	quit := make(chan struct{})
	ctx, cancel := context.WithCancel(context.WithValue(ctx, quitKey{}, quit))
	errc := make(chan error, 4)
	var wg, workers sync.WaitGroup
	// Cancel first, then wait: readers release their leases on the way out.
	defer func() { cancel(); wg.Wait() }()
	report := func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			select {
			case errc <- err:
			default:
			}
		}
	}
	wg.Add(3)
	workers.Add(2)
	go func() { defer wg.Done(); defer workers.Done(); report(m.backfillLoop(ctx)) }()
	go func() { defer wg.Done(); defer workers.Done(); report(m.streamLoop(ctx, errc)) }()
	go func() { defer wg.Done(); m.progressLoop(ctx) }()
	// stop reads only what the workers keep in memory, so it is checked
	// often: every tick between the work being done and run returning is
	// added to the apply.
	tick := time.NewTicker(stopCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return err
		case <-tick.C:
			if m.cachedPhase() == PhaseFailed {
				_, err := m.refresh(ctx)
				return err
			}
			if stop() {
				return m.finishPages(ctx, quit, &workers, errc)
			}
		}
	}
}

// stopCheckInterval is how often run asks its stop function.
const stopCheckInterval = 50 * time.Millisecond

type quitKey struct{}

// quitting reports whether the run that ctx belongs to is stopping: workers
// finish the page in hand (so that none of its writes is abandoned in flight)
// and take no new one.
func quitting(ctx context.Context) bool {
	q, _ := ctx.Value(quitKey{}).(chan struct{})
	if q == nil {
		return false
	}
	select {
	case <-q:
		return true
	default:
		return false
	}
}

// sleepUnlessQuitting sleeps for d, or until the run that ctx belongs to is
// stopping (nil) or ctx ends (its error).
func sleepUnlessQuitting(ctx context.Context, d time.Duration) error {
	q, _ := ctx.Value(quitKey{}).(chan struct{})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-q:
		return nil
	case <-t.C:
		return nil
	}
}

// finishPages lets the workers write the pages in hand and checkpoint them,
// then returns. Their writes stay fenced by their leases and bounded by ctx (the
// caller's deadline); past a lease duration the pages are abandoned instead.
func (m *Migration) finishPages(ctx context.Context, quit chan struct{}, workers *sync.WaitGroup, errc <-chan error) error {
	close(quit)
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	t := time.NewTimer(m.cfg.LeaseDuration)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		m.log.Warn("pages still in flight after a lease duration; abandoning them", "id", m.cfg.ID)
	case <-ctx.Done():
	}
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// Backfill copies every existing item and returns when the backfill phase is
// over (also when other workers copied some segments). With
// HandOffInsertIfAbsent the stream is applied at the same time.
func (m *Migration) Backfill(ctx context.Context) error {
	return m.run(ctx, m.backfillDone, false)
}

// CatchUp applies everything written to the source before it was called, and
// returns: the backfill must be over, and every readable shard must have been
// read to its tip by a GetRecords call that started after CatchUp began, or be
// leased by another worker (which is trusted to read it; a crashed worker's
// shard is taken over after its lease expires, by the next CatchUp at the
// latest). Used by `terraform apply` when sync = "apply".
func (m *Migration) CatchUp(ctx context.Context) error {
	since := time.Now()
	return m.run(ctx, func() bool {
		if !m.backfillDone() {
			return false
		}
		ok, _ := m.caughtUp(since, false)
		return ok
	}, false)
}

// Run keeps the target in sync until the migration reaches cutting_over or
// completed (returns nil) or ctx ends (returns ctx.Err()). This is the runner's loop.
func (m *Migration) Run(ctx context.Context) error {
	return m.run(ctx, func() bool {
		p := m.cachedPhase()
		return p == PhaseCuttingOver || p == PhaseCompleted
	}, false)
}

// Drain applies the stream until every shard is read to its end, or until
// every readable shard was read to its tip by this process and no record arrived
// for quiet. Shards leased by others are waited for (their leases expire, or
// their runners stop at cutover). Call it after writes to the source stopped.
func (m *Migration) Drain(ctx context.Context, quiet time.Duration) error {
	since := time.Now()
	return m.run(ctx, func() bool {
		if !m.backfillDone() {
			return false
		}
		ok, snap := m.caughtUp(since, true)
		if !ok {
			return false
		}
		if snap.allFinished {
			return true
		}
		last := time.UnixMilli(max(m.lastRecordsMs.Load(), since.UnixMilli()))
		return time.Since(last) >= quiet
	}, true)
}

// CutoverOptions tune Cutover.
type CutoverOptions struct {
	Quiet  time.Duration // Drain's quiet period; default 10 s
	Verify VerifyMode    // default VerifyFull
}

// ErrSourceStillWritten is returned by Cutover when the source stream received
// records after the drain: writes to the source have not stopped.
var ErrSourceStillWritten = errors.New("the source is still being written")

// Cutover marks the migration cutting_over (runners stop), drains the stream,
// removes leftover tombstones, verifies, checks that the stream stayed quiet
// through the verification, and marks the migration completed. Writes to the
// source must have stopped. On any failure (a verification difference reports
// ErrVerificationFailed with the report, records that arrived meanwhile
// ErrSourceStillWritten) the phase goes back to syncing, so runners resume and
// the cutover can be run again.
func (m *Migration) Cutover(ctx context.Context, opts CutoverOptions) (Report, error) {
	if opts.Quiet == 0 {
		opts.Quiet = 10 * time.Second
	}
	if opts.Verify == "" {
		opts.Verify = VerifyFull
	}
	if err := m.prepare(ctx); err != nil {
		return Report{}, err
	}
	st, err := m.refresh(ctx)
	if err != nil {
		return Report{}, err
	}
	if Phase(sOf(st["phase"])) == PhaseCompleted {
		return Report{}, nil
	}
	ok, err := m.st.setPhase(ctx, PhaseCuttingOver, nil, PhaseSyncing, PhaseCuttingOver)
	if err != nil {
		return Report{}, err
	}
	if !ok {
		return Report{}, fmt.Errorf("migration %q cannot cut over in phase %s: the backfill must be complete", m.cfg.ID, sOf(st["phase"]))
	}
	rep, err := m.cutover(ctx, opts)
	if err != nil {
		// Runners stopped when the phase became cutting_over: hand the
		// migration back to them (a loss has set it to failed instead).
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if back, perr := m.st.setPhase(rctx, PhaseSyncing, nil, PhaseCuttingOver); perr != nil {
			m.log.Error("the cutover failed and the phase could not be set back to syncing; run the cutover again", "id", m.cfg.ID, "error", perr.Error())
		} else if back {
			m.phase.Store(PhaseSyncing)
		}
		return rep, err
	}
	return rep, nil
}

func (m *Migration) cutover(ctx context.Context, opts CutoverOptions) (Report, error) {
	m.log.Info("cutting over: draining the stream", "id", m.cfg.ID, "quiet", opts.Quiet.String())
	if err := m.Drain(ctx, opts.Quiet); err != nil {
		return Report{}, err
	}
	if m.HandOff() == HandOffInsertIfAbsent {
		if err := m.removeTombstones(ctx); err != nil {
			return Report{}, err
		}
	}
	var rep Report
	var err error
	if opts.Verify != VerifyNone {
		if rep, err = m.Verify(ctx, opts.Verify); err != nil {
			return rep, err
		}
		if rep.Mismatched > 0 || rep.SourceItems != rep.TargetItems {
			return rep, fmt.Errorf("migration %q: %w: %d mismatched items, %d source vs %d target items", m.cfg.ID, ErrVerificationFailed, rep.Mismatched, rep.SourceItems, rep.TargetItems)
		}
	}
	// The drain ended on a quiet stream; a record that arrived since (during
	// the verification, say) was neither applied nor necessarily verified.
	p, err := m.Pending(ctx)
	if err != nil {
		return rep, err
	}
	if p.Records > 0 {
		return rep, fmt.Errorf("migration %q: %w: %d records arrived on the source stream after the drain (the oldest %s ago); "+
			"stop every writer of the source, then cut over again", m.cfg.ID, ErrSourceStillWritten, p.Records, p.OldestAge.Round(time.Second))
	}
	ok, err := m.st.setPhase(ctx, PhaseCompleted, Item{"completedAt": nAV(time.Now().UnixMilli())}, PhaseCuttingOver)
	if err != nil {
		return rep, err
	}
	if !ok {
		return rep, fmt.Errorf("migration %q left the cutting_over phase during the cutover (another process changed it); run the cutover again", m.cfg.ID)
	}
	m.phase.Store(PhaseCompleted)
	m.log.Info("migration completed", "id", m.cfg.ID)
	return rep, nil
}

// Status is a migration's position, read from the checkpoint table.
type Status struct {
	Phase           Phase
	HandOff         HandOff // the hand-off in force (what auto chose)
	Error           string
	StreamARN       string
	StartedAt       time.Time
	BackfillDoneAt  time.Time
	EstimatedItems  int64 // source ItemCount at capture (DynamoDB updates it about every 6 h)
	ItemsCopied     int64
	Segments        int
	SegmentsDone    int
	RecordsApplied  int64
	Shards          int
	ShardsFinished  int
	LastAppliedTime time.Time // ApproximateCreationDateTime of the newest applied record
	Verification    *Report
}

// Status reads the checkpoint table. It takes no leases.
func (m *Migration) Status(ctx context.Context) (Status, error) {
	st, err := m.st.get(ctx, entryState)
	if err != nil {
		return Status{}, err
	}
	if st == nil {
		return Status{}, fmt.Errorf("migration %q: %w", m.cfg.ID, ErrNotStarted)
	}
	if err := m.sameGeneration(st, false); err != nil {
		return Status{}, err
	}
	s := Status{
		Phase:          Phase(sOf(st["phase"])),
		HandOff:        HandOff(sOf(st["handOff"])),
		Error:          sOf(st["error"]),
		StreamARN:      sOf(st["streamArn"]),
		StartedAt:      time.UnixMilli(intOf(st["capturedAt"])),
		EstimatedItems: intOf(st["estimate"]),
		Segments:       m.cfg.Segments,
	}
	if v := intOf(st["backfillDoneAt"]); v > 0 {
		s.BackfillDoneAt = time.UnixMilli(v)
	}
	if v := mAV(st["verification"]); v != nil {
		r := reportFromItem(v)
		s.Verification = &r
	}
	segs, err := m.st.list(ctx, prefixSegment)
	if err != nil {
		return s, err
	}
	for _, e := range segs {
		s.ItemsCopied += intOf(e["items"])
		if boolOf(e["done"]) {
			s.SegmentsDone++
		}
	}
	shards, err := m.shardCheckpoints(ctx)
	if err != nil {
		return s, err
	}
	for _, ck := range shards {
		s.Shards++
		s.RecordsApplied += ck.Applied
		if ck.Finished {
			s.ShardsFinished++
		}
		if t := time.UnixMilli(ck.LastMs); ck.LastMs > 0 && t.After(s.LastAppliedTime) {
			s.LastAppliedTime = t
		}
	}
	return s, nil
}

// Pending is the backlog of unapplied stream records.
type Pending struct {
	Records int64
	// Complete is false when the count stopped at the read budget (more may wait).
	Complete bool
	// OldestAge is the age of the oldest unapplied record (0 when none): the sync lag.
	OldestAge time.Duration
}

// pendingPageBudget bounds how many GetRecords pages Pending reads per shard.
const pendingPageBudget = 20

// Pending counts records not yet applied, by reading (not applying) every
// unfinished shard from its checkpoint. It takes no leases and changes nothing,
// so `terraform plan` can call it.
func (m *Migration) Pending(ctx context.Context) (Pending, error) {
	p := Pending{Complete: true}
	if _, err := m.refreshState(ctx, false); err != nil {
		return p, err
	}
	listing, err := m.listShards(ctx)
	if err != nil {
		return p, err
	}
	known, err := m.shardCheckpoints(ctx)
	if err != nil {
		return p, err
	}
	arn := m.streamARN.Load().(string)
	var oldest time.Time
	for _, s := range listing {
		ck := known[s.ID]
		if ck.Finished {
			continue
		}
		ck.ID = s.ID
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: &ck.ID, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
		if ck.Seq != "" {
			in.ShardIteratorType = streamtypes.ShardIteratorTypeAfterSequenceNumber
			in.SequenceNumber = &ck.Seq
		}
		it, err := call(ctx, m.log, "GetShardIterator", func(ctx context.Context) (*dynamodbstreams.GetShardIteratorOutput, error) {
			return m.streams.GetShardIterator(ctx, in, noSDKRetryStreams)
		})
		if err != nil {
			var trimmed *streamtypes.TrimmedDataAccessException
			if errors.As(err, &trimmed) && ck.Seq != "" {
				return p, &LossError{Reason: fmt.Sprintf("shard %s was trimmed past the checkpointed sequence number %s", s.ID, ck.Seq)}
			}
			return p, err
		}
		iter := it.ShardIterator
		expired, shardCounted := 0, int64(0)
		for page := 0; iter != nil; page++ {
			if page == pendingPageBudget {
				p.Complete = false
				break
			}
			out, err := callRead(ctx, m.log, "GetRecords", func(ctx context.Context) (*dynamodbstreams.GetRecordsOutput, error) {
				return m.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)}, noSDKRetryStreams)
			})
			var exp *streamtypes.ExpiredIteratorException
			if errors.As(err, &exp) && expired < 3 {
				// Count this shard again from its checkpoint with a fresh iterator.
				expired++
				if it, err = call(ctx, m.log, "GetShardIterator", func(ctx context.Context) (*dynamodbstreams.GetShardIteratorOutput, error) {
					return m.streams.GetShardIterator(ctx, in, noSDKRetryStreams)
				}); err != nil {
					return p, err
				}
				p.Records -= shardCounted
				shardCounted, page, iter = 0, -1, it.ShardIterator
				continue
			}
			if err != nil {
				return p, err
			}
			shardCounted += int64(len(out.Records))
			p.Records += int64(len(out.Records))
			for _, r := range out.Records {
				if t := r.Dynamodb.ApproximateCreationDateTime; t != nil && (oldest.IsZero() || t.Before(oldest)) {
					oldest = *t
				}
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	if !oldest.IsZero() {
		p.OldestAge = time.Since(oldest)
	}
	return p, nil
}

// progressLoop logs percent, items/s and ETA during the backfill, and records/s
// and lag afterwards, every ProgressInterval.
func (m *Migration) progressLoop(ctx context.Context) {
	t := time.NewTicker(m.cfg.ProgressInterval)
	defer t.Stop()
	prevCopied, prevApplied, prevSkipped := int64(-1), m.applied.Load(), m.skipped.Load()
	prevAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if skipped := m.skipped.Load(); skipped > prevSkipped {
			m.log.Info("conditional writes skipped: the target already held the item (insert-if-absent backfill) or a newer version (version_attribute)",
				"id", m.cfg.ID, "skipped", skipped-prevSkipped, "skipped_total", skipped)
			prevSkipped = skipped
		}
		now := time.Now()
		dt := now.Sub(prevAt).Seconds()
		applied := m.applied.Load()
		recRate := float64(applied-prevApplied) / dt
		prevApplied, prevAt = applied, now
		if m.cachedPhase() != PhaseBackfilling {
			m.log.Info("sync progress", "id", m.cfg.ID, "phase", string(m.cachedPhase()),
				"records_applied", applied, "records_per_second", int64(recRate), "lag", m.lag().Round(time.Millisecond).String())
			continue
		}
		s, err := m.Status(ctx)
		if err != nil {
			continue
		}
		if prevCopied < 0 {
			prevCopied = s.ItemsCopied
		}
		rate := float64(s.ItemsCopied-prevCopied) / dt
		prevCopied = s.ItemsCopied
		m.maybeSwitch(ctx, s, rate)
		percent := 100 * float64(s.SegmentsDone) / float64(s.Segments)
		if s.EstimatedItems > 0 {
			percent = max(percent, min(99.9, 100*float64(s.ItemsCopied)/float64(s.EstimatedItems)))
		}
		eta := "unknown"
		if rate > 0 && s.EstimatedItems > s.ItemsCopied {
			eta = (time.Duration(float64(s.EstimatedItems-s.ItemsCopied)/rate) * time.Second).String()
		}
		m.log.Info("backfill progress", "id", m.cfg.ID, "percent", fmt.Sprintf("%.1f", percent),
			"items_copied", s.ItemsCopied, "items_per_second", int64(rate), "eta", eta,
			"segments_done", s.SegmentsDone, "segments", s.Segments, "records_applied", applied)
	}
}
