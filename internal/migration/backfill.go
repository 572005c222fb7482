package migration

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// backfillLoop copies segments until every one is done, then ends the
// backfill phase (and, for HandOffInsertIfAbsent, sweeps the tombstones).
// Segments are taken in random order so that parallel scans (and their writes)
// land far apart in the key space. Segments leased by a live worker are left to
// it; an expired lease is taken over and resumed from its checkpointed
// ExclusiveStartKey.
func (m *Migration) backfillLoop(ctx context.Context) error {
	for m.cachedPhase() == PhaseBackfilling {
		if quitting(ctx) {
			return nil
		}
		if m.cfg.Backfill == BackfillRestore {
			if err := m.checkReplayDeadline(ctx); err != nil { // restore.go
				return err
			}
			done, err := m.restoreStep(ctx)
			if err != nil {
				return err
			}
			if !done { // another worker holds the restore
				if err := sleepCtx(ctx, m.cfg.LeaseDuration/3); err != nil {
					return err
				}
				continue
			}
			if m.cfg.Transform.IsZero() {
				// The restored items are the target items: nothing to rewrite.
				if err := m.finishBackfill(ctx); err != nil {
					return err
				}
				if _, err := m.refresh(ctx); err != nil {
					return err
				}
				continue
			}
		}
		if err := m.copySegments(ctx); err != nil {
			return err
		}
		if _, err := m.refresh(ctx); err != nil {
			return err
		}
	}
	if m.HandOff() == HandOffInsertIfAbsent && !m.swept.Load() && m.cachedPhase() == PhaseSyncing {
		// Any worker may sweep (again): a sweep cut short by a crash is redone.
		if err := m.removeTombstones(ctx); err != nil {
			return err
		}
		if ok, err := m.st.updateState(ctx, Item{"swept": &types.AttributeValueMemberBOOL{Value: true}}); err != nil || !ok {
			return errors.Join(err, m.replacedUnless(ok))
		}
		if _, err := m.refresh(ctx); err != nil {
			return err
		}
	}
	return nil
}

// backfillDone reports whether the backfill, including the tombstone sweep,
// is over.
func (m *Migration) backfillDone() bool {
	p := m.cachedPhase()
	return p != PhaseBackfilling && (m.HandOff() != HandOffInsertIfAbsent || m.swept.Load() || p != PhaseSyncing)
}

// copySegments makes one pass over the unfinished segments.
func (m *Migration) copySegments(ctx context.Context) error {
	entries, err := m.st.list(ctx, prefixSegment)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	exists := map[string]bool{}
	for _, e := range entries {
		exists[sOf(e[attrEntry])] = true
		if boolOf(e["done"]) {
			done[sOf(e[attrEntry])] = true
		}
	}
	if len(done) == m.cfg.Segments {
		return m.finishBackfill(ctx)
	}
	var todo []int
	for n := 0; n < m.cfg.Segments; n++ {
		if !done[segmentEntry(n)] {
			todo = append(todo, n)
		}
	}
	rand.Shuffle(len(todo), func(i, j int) { todo[i], todo[j] = todo[j], todo[i] })
	// Each worker claims its segment itself, so that workers start together
	// and a worker that finishes a segment claims the next at once: claimed one
	// after the other, eight segments took half a second to start, and the
	// same again when the first eight finished together.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.cfg.Parallelism)
	var worked, stop atomic.Bool // stop: no more claims in this pass
	var initMu sync.Mutex        // guards initErr
	var initErr error
	for _, n := range todo {
		if quitting(ctx) || stop.Load() {
			break
		}
		g.Go(func() error {
			if stop.Load() || quitting(gctx) {
				return nil
			}
			if !exists[segmentEntry(n)] {
				// One entry is created at a time: each creation is a
				// transaction that also checks the state entry, and DynamoDB
				// cancels transactions on the same item that overlap
				// (TransactionConflict).
				initMu.Lock()
				_, err := m.st.initEntry(gctx, segmentEntry(n), nil)
				if err != nil && initErr == nil {
					initErr = err
				}
				initMu.Unlock()
				if err != nil {
					// The segments in hand finish; the error ends the pass.
					stop.Store(true)
					return nil
				}
			}
			l, ck, err := m.st.acquire(gctx, segmentEntry(n), nil)
			if err != nil {
				stop.Store(true)
				return nil
			}
			if l == nil {
				return nil // another worker holds it, or it is done
			}
			worked.Store(true)
			defer l.release()
			err = m.copySegment(l, n, ck)
			if err != nil && l.lost() {
				m.log.Warn("segment lease lost; it resumes from its checkpoint", "segment", n)
				return nil
			}
			return err
		})
	}
	werr := g.Wait()
	if initErr != nil {
		return initErr
	}
	if werr != nil {
		return werr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !worked.Load() {
		// Other workers hold the rest; look again when their leases could expire.
		return sleepCtx(ctx, m.cfg.LeaseDuration/3)
	}
	return nil
}

// scanSegmentBytes is about how much of the source one Scan segment should
// hold: one page, half of the most a page can hold (1 MB). DynamoDB Local reads
// a segment from its start again for every page, so the cost of a segment grows
// with the square of its pages (100,000 items of 1 KB cost its server 15.2 s of
// CPU to scan in 16 segments, 5.0 s in 64 and 4.0 s in 256, measured on the
// emulator; on a warm server 112 and 224 segments cost the same, about 2 s); on
// DynamoDB a page costs the same wherever it starts, and a segment of one page
// no more than any other. Half pages halve what the backfill holds in memory
// (decoded pages are most of the provider's heap: 99 MB peak RSS against 141 MB
// with full pages, 100,000 items of 1 KB), which leaves room for the provider's
// less frequent garbage collection (main.go).
const scanSegmentBytes = 1 << 19

// scanSegmentItems is about how many items one Scan segment should hold. A
// page of small items holds more of them than a page of large ones, and what the
// engine holds in memory grows with the items in hand (a decoded item takes
// several times its size), so a segment is sized by both: memory stays flat
// whatever the item size.
const scanSegmentItems = 500

// scanPageItems caps each Scan page (Limit), for when the item count the split
// was made from is stale (DynamoDB updates it about every six hours).
const scanPageItems = 2 * scanSegmentItems

// maxTotalSegments is the largest TotalSegments a Scan accepts.
const maxTotalSegments = 1_000_000

// scanSplitFor is how many Scan segments each backfill segment is read as, one
// after the other, so that each holds about scanSegmentBytes and at most about
// scanSegmentItems of a source of sizeBytes and items. Backfill segments stay the
// unit of leases and checkpoints; the split is fixed at the start of a migration
// (the state entry records it), since a checkpoint's position means something
// only within its Scan segment.
func scanSplitFor(sizeBytes, items int64, segments int) int64 {
	per := int64(segments)
	split := max(ceilDiv(sizeBytes, per*scanSegmentBytes), ceilDiv(items, per*scanSegmentItems))
	return max(1, min(split, int64(maxTotalSegments/segments)))
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

type scanPage struct {
	items   []Item
	lastKey Item
	sub     int64 // the Scan segment within the backfill segment
}

// copySegment scans one segment from its checkpoint and writes every page,
// checkpointing the page's LastEvaluatedKey only after all its items are
// written. The next page is read while the current one is written: two pages
// (each ≤ 1 MB and ≤ scanPageItems items, and usually about scanSegmentBytes)
// per segment in memory at most.
// Segment n is read as Scan segments n*split .. n*split+split-1 of
// Segments*split, in order; the checkpoint holds the Scan segment in progress
// ("sub") and the position in it ("lastKey").
func (m *Migration) copySegment(l *lease, n int, ck Item) error {
	ctx := l.ctx
	start := mAV(ck["lastKey"])
	split, sub := m.scanSplit.Load(), intOf(ck["sub"])
	pages := make(chan scanPage, 1)
	// A restore migration's pass rewrites the restored target in place.
	from, table, what := m.src, m.cfg.Source.Table, "source"
	inPlace := m.cfg.Backfill == BackfillRestore
	if inPlace {
		from, table, what = m.dst, m.cfg.Target.Table, "restored target"
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pages)
		for !quitting(gctx) {
			if err := m.readLim.Wait(gctx); err != nil {
				return err
			}
			out, err := callRead(gctx, m.log, "Scan "+what, func(ctx context.Context) (*dynamodb.ScanOutput, error) {
				return from.Scan(ctx, &dynamodb.ScanInput{
					TableName:              &table,
					Segment:                aws.Int32(int32(int64(n)*split + sub)),
					TotalSegments:          aws.Int32(int32(int64(m.cfg.Segments) * split)),
					ConsistentRead:         aws.Bool(true),
					ExclusiveStartKey:      start,
					Limit:                  aws.Int32(scanPageItems),
					ReturnConsumedCapacity: m.readLim.capacity(),
				}, noSDKRetry)
			})
			if err != nil {
				return err
			}
			m.chargeRead(one(out.ConsumedCapacity)...)
			select {
			case pages <- scanPage{items: out.Items, lastKey: out.LastEvaluatedKey, sub: sub}:
			case <-gctx.Done():
				return gctx.Err()
			}
			start = out.LastEvaluatedKey
			if start == nil {
				if sub++; sub == split {
					return nil
				}
			}
		}
		return nil
	})
	g.Go(func() error {
		// The segment's writes are conditional once the migration switched from
		// replay (switch.go); the switch is acknowledged in the segment's entry,
		// under its lease, before the first conditional write, and from then on
		// every owner of the segment writes conditionally.
		acked := boolOf(ck[attrConditional])
		conditional := acked || m.HandOff() != HandOffReplay || m.cfg.VersionAttribute != ""
		// The position is saved at most every checkpointEvery, and always when
		// the segment is done or its pages stop: a page written but not yet
		// checkpointed is written again by whoever resumes the segment.
		var due *update // the latest written position, not saved yet
		var unsaved int64
		saved := time.Now()
		save := func(u update) error {
			u.add = map[string]int64{"items": unsaved}
			if _, err := l.save(gctx, u); err != nil {
				return err
			}
			m.copied.Add(unsaved)
			due, unsaved, saved = nil, 0, time.Now()
			return nil
		}
		for p := range pages {
			if inPlace {
				if err := m.checkReplayDeadline(gctx); err != nil { // restore.go
					return err
				}
			}
			if !conditional && m.HandOff() != HandOffReplay {
				conditional = true
			}
			if conditional && !acked && m.switched.Load() {
				if err := m.acknowledgeSwitch(gctx, l, n); err != nil {
					return err
				}
				acked = true
			}
			items := make([]Item, 0, len(p.items))
			for _, it := range p.items {
				t, err := m.transformItem(it)
				if err != nil {
					return err
				}
				if inPlace && ItemsEqual(t, it) {
					continue // unchanged by the transform: no write
				}
				items = append(items, t)
			}
			// Every write is fenced by the lease (see call); the page is
			// checkpointed only when all of them landed.
			if err := m.backfillWrite(gctx, items, conditional); err != nil {
				return err
			}
			unsaved += int64(len(items))
			var u update
			switch {
			case p.lastKey != nil:
				u.set = Item{"sub": nAV(p.sub), "lastKey": &types.AttributeValueMemberM{Value: p.lastKey}}
			case p.sub+1 < split:
				u.set = Item{"sub": nAV(p.sub + 1)}
				u.remove = []string{"lastKey"}
			default:
				u.set = Item{"done": &types.AttributeValueMemberBOOL{Value: true}}
				u.remove = []string{"lastKey"}
				return save(u)
			}
			if time.Since(saved) < checkpointEvery {
				due = &u
				continue
			}
			if err := save(u); err != nil {
				return err
			}
		}
		if due != nil && gctx.Err() == nil {
			return save(*due) // the run is stopping
		}
		return nil
	})
	return g.Wait()
}

// checkpointEvery is how often a backfill segment saves its position at most.
// Each save is a conditional UpdateItem on the checkpoint table, which on the
// emulator costs DynamoDB Local about 3 ms of CPU, as much as 15 items of the
// copy; saving every page cost a 100,000-item backfill about 200 of them. When a
// process stops or loses the lease, whoever resumes the segment scans again from
// its last saved position and writes those pages again, as it always did for a
// page written but not yet saved; at most this interval of work is repeated.
const checkpointEvery = 2 * time.Second

// backfillWrite writes one page. Unconditional (HandOffReplay, no version
// attribute, no switch acknowledged) the stream has not been applied yet, so
// plain BatchWriteItem is correct and fastest. Otherwise each item is a conditional insert: it never replaces what
// the stream (or, in version mode, a newer direct write) already put there, and
// never replaces a tombstone.
func (m *Migration) backfillWrite(ctx context.Context, items []Item, conditional bool) error {
	if !conditional {
		reqs := make([]types.WriteRequest, len(items))
		for i, it := range items {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		if err := m.batchWrite(ctx, reqs); err != nil {
			return err
		}
		m.batchCopied.Add(int64(len(items)))
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.items.max) // m.items bounds requests; this bounds goroutines
	for _, it := range items {
		g.Go(func() error {
			names := map[string]string{"#hk": m.dstKey[0]}
			values := Item{}
			cond := "attribute_not_exists(#hk)"
			if m.cfg.VersionAttribute != "" {
				// An older direct write is replaced; what the stream wrote
				// (marked while the backfill runs) and tombstones never are.
				if v := m.versionOf(it); v != nil {
					names["#v"] = m.cfg.VersionAttribute
					names["#s"] = StreamedAttribute
					values[":v"] = v
					cond += " OR (#v < :v AND attribute_not_exists(#s))"
				}
			}
			return m.conditionalPut(gctx, it, cond, names, values)
		})
	}
	return g.Wait()
}

// finishBackfill moves the migration to syncing: from now on stream deletes
// delete instead of leaving tombstones.
func (m *Migration) finishBackfill(ctx context.Context) error {
	ok, err := m.st.setPhase(ctx, PhaseSyncing, Item{"backfillDoneAt": nAV(time.Now().UnixMilli())}, PhaseBackfilling)
	if err != nil {
		return err
	}
	if ok {
		m.log.Info("backfill complete", "id", m.cfg.ID)
	}
	return nil
}

// removeTombstones deletes every tombstone item in the target, each only if it
// is still a tombstone (a newer streamed put wins), and, in version mode,
// removes the StreamedAttribute mark from the items that still carry it.
func (m *Migration) removeTombstones(ctx context.Context) error {
	segs := max(1, m.cfg.Parallelism)
	g, gctx := errgroup.WithContext(ctx)
	removed := make([]int64, segs)
	unmarked := make([]int64, segs)
	filter := "attribute_exists(#t)"
	names := withTomb(projectionNames(m.dstKey))
	proj := projection(m.dstKey) + ", #t"
	if m.cfg.VersionAttribute != "" {
		filter += " OR attribute_exists(#s)"
		names["#s"] = StreamedAttribute
	}
	for seg := 0; seg < segs; seg++ {
		g.Go(func() error {
			var start Item
			for {
				out, err := callRead(gctx, m.log, "Scan target", func(ctx context.Context) (*dynamodb.ScanOutput, error) {
					return m.dst.Scan(ctx, &dynamodb.ScanInput{
						TableName:                &m.cfg.Target.Table,
						Segment:                  aws.Int32(int32(seg)),
						TotalSegments:            aws.Int32(int32(segs)),
						ConsistentRead:           aws.Bool(true),
						FilterExpression:         &filter,
						ProjectionExpression:     &proj,
						ExpressionAttributeNames: names,
						ExclusiveStartKey:        start,
					}, noSDKRetry)
				})
				if err != nil {
					return err
				}
				for _, it := range out.Items {
					_, tomb := it[TombstoneAttribute]
					k := project(it, m.dstKey)
					if !tomb {
						if err := m.unmark(gctx, k); err != nil {
							return err
						}
						unmarked[seg]++
						continue
					}
					if err := m.conditionalDelete(gctx, k, "attribute_exists(#t)", map[string]string{"#t": TombstoneAttribute}, nil); err != nil {
						return err
					}
					removed[seg]++
				}
				if out.LastEvaluatedKey == nil {
					return nil
				}
				start = out.LastEvaluatedKey
			}
		})
	}
	err := g.Wait()
	var total, marks int64
	for i := range removed {
		total += removed[i]
		marks += unmarked[i]
	}
	m.log.Info("tombstones removed", "count", total)
	if m.cfg.VersionAttribute != "" {
		m.log.Info("streamed marks removed", "count", marks)
	}
	return err
}

func projection(names []string) string {
	ps := make([]string, len(names))
	for i := range names {
		ps[i] = "#k" + string(rune('0'+i))
	}
	return strings.Join(ps, ", ")
}

func projectionNames(names []string) map[string]string {
	out := map[string]string{}
	for i, n := range names {
		out["#k"+string(rune('0'+i))] = n
	}
	return out
}

func withTomb(names map[string]string) map[string]string {
	names["#t"] = TombstoneAttribute
	return names
}
