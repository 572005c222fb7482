package migration

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// attrConditional marks a segment entry whose owner acknowledged, under its
// lease, that the segment's writes are conditional from then on.
const attrConditional = "conditional"

// The switch from replay to insert-if-absent, for a replay backfill (chosen by
// HandOffAuto) whose ETA grows past Config.ReplayWithin while it runs: the
// stream cannot wait for the end of such a backfill without risking its 24 h
// retention. The state entry's handOff goes from replay to insert_if_absent
// (conditionally, once, with switchedAt); from then on
//
//   - a segment's writes become conditional inserts at its next page, and its
//     owner records the acknowledgement in the segment's entry under its lease
//     (after the lease's fence, so that no unconditional write of an earlier
//     owner or an abandoned request can still land) before the first one; a
//     segment acknowledged once is written conditionally by every later owner;
//   - the stream stays held until every segment is done or acknowledged, then
//     it is applied from the capture with the insert-if-absent rules (deletes
//     leave tombstones until the backfill ends, swept afterwards).
//
// So when the first stream record is applied, every unconditional backfill
// write has landed (a done segment's writes all returned before it was marked
// done; an acknowledged one's before the acknowledgement), and every later
// backfill write only inserts an absent key. The stream, replayed in order
// from the capture, takes each key it touches to its current state (the
// replay argument); a key it does not touch was not changed since the capture,
// so its scanned value is current. A conditional insert never replaces what
// the stream wrote, nor a tombstone, as with HandOffInsertIfAbsent from the start
// (TestFaultReplaySwitchesToConditionalWrites).

// maybeSwitch switches a running replay backfill to conditional writes when,
// at the measured rate (items/s), it would end later than Config.ReplayWithin
// after the capture.
func (m *Migration) maybeSwitch(ctx context.Context, s Status, rate float64) {
	if m.cfg.HandOff != HandOffAuto || m.HandOff() != HandOffReplay || m.cfg.VersionAttribute != "" ||
		s.Phase != PhaseBackfilling || rate <= 0 {
		return
	}
	var remaining float64
	switch {
	case s.EstimatedItems > s.ItemsCopied:
		remaining = float64(s.EstimatedItems - s.ItemsCopied)
	case s.SegmentsDone > 0 && s.SegmentsDone < s.Segments:
		remaining = float64(s.ItemsCopied) / float64(s.SegmentsDone) * float64(s.Segments-s.SegmentsDone)
	default:
		return
	}
	eta := time.Duration(remaining / rate * float64(time.Second))
	since := time.Since(time.UnixMilli(m.capturedAt.Load()))
	if since+eta <= m.cfg.ReplayWithin {
		return
	}
	_, ok, err := m.st.update(ctx, entryState, update{
		set:    Item{"handOff": sAV(string(HandOffInsertIfAbsent)), "switchedAt": nAV(time.Now().UnixMilli())},
		cond:   "#gen = :gen AND #h = :replay AND #p = :backfilling",
		names:  map[string]string{"#gen": attrGen, "#h": "handOff", "#p": "phase"},
		values: Item{":gen": sAV(m.st.generation()), ":replay": sAV(string(HandOffReplay)), ":backfilling": sAV(string(PhaseBackfilling))},
	})
	if err != nil {
		m.log.Warn("could not switch the backfill to conditional writes; trying again", "id", m.cfg.ID, "error", err)
		return
	}
	if ok {
		m.log.Warn("the replay backfill would end too late for the stream's retention: switching the remaining segments to conditional writes",
			"id", m.cfg.ID, "eta", eta.Round(time.Second).String(), "since_capture", since.Round(time.Second).String(),
			"replay_within", m.cfg.ReplayWithin.String())
	}
	if _, err := m.refresh(ctx); err != nil {
		m.log.Warn("refreshing the state after the switch", "id", m.cfg.ID, "error", err)
	}
}

// acknowledgeSwitch records, under segment n's lease, that its writes are
// conditional from now on, once no earlier unconditional write of the
// segment can still land.
func (m *Migration) acknowledgeSwitch(ctx context.Context, l *lease, n int) error {
	if err := l.awaitFence(ctx); err != nil {
		return err
	}
	if _, err := l.save(ctx, update{set: Item{attrConditional: &types.AttributeValueMemberBOOL{Value: true}}}); err != nil {
		return fmt.Errorf("acknowledging conditional writes for segment %d: %w", n, err)
	}
	m.log.Info("segment switched to conditional writes", "id", m.cfg.ID, "segment", n)
	return nil
}

// switchAcknowledged reports whether the stream may be applied during the
// backfill as far as a switch goes: no switch, or every segment is done or
// acknowledged.
func (m *Migration) switchAcknowledged(ctx context.Context) bool {
	if !m.switched.Load() || m.allAcked.Load() {
		return true
	}
	entries, err := m.st.list(ctx, prefixSegment)
	if err != nil {
		m.log.Warn("listing segments for the switch to conditional writes", "id", m.cfg.ID, "error", err)
		return false
	}
	ok := 0
	for _, e := range entries {
		if boolOf(e["done"]) || boolOf(e[attrConditional]) {
			ok++
		}
	}
	if ok < m.cfg.Segments {
		return false
	}
	m.allAcked.Store(true)
	m.log.Info("every segment writes conditionally: the stream is applied from the capture", "id", m.cfg.ID)
	return true
}
