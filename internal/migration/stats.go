package migration

import (
	"context"
	"time"
)

// Stats is what this process did and holds, for metrics. It reads only memory
// (no request), so a metrics scrape costs nothing.
type Stats struct {
	Phase Phase // as last read from the state entry ("" before the first read)
	// RefreshedAt is when this process last read the state entry (zero before).
	RefreshedAt time.Time

	ItemsCopied    int64 // items this process backfilled
	RecordsApplied int64 // stream records this process applied
	WritesSkipped  int64 // conditional writes that found a newer value (version mode, insert-if-absent)
	Unprocessed    int64 // BatchWriteItem UnprocessedItems entries resubmitted
	// Throttles and Retries count attempts throttled, and attempts retried for
	// any reason, by every migration of this process.
	Throttles  int64
	Retries    int64
	LeasesHeld int64 // segment and shard leases held now
	LeasesLost int64 // leases lost so far (not renewed in time, or taken over)
	// ShardLag is, per shard this process reads, the age of the last applied
	// record while the shard is not caught up (0 when it is at its tip).
	ShardLag map[string]time.Duration
}

// Stats returns this process's counters (see Stats).
func (m *Migration) Stats() Stats {
	s := Stats{
		Phase:          m.cachedPhase(),
		ItemsCopied:    m.copied.Load(),
		RecordsApplied: m.applied.Load(),
		WritesSkipped:  m.skipped.Load(),
		Unprocessed:    m.unprocessed.Load(),
		Throttles:      throttles.Load(),
		Retries:        retries.Load(),
		LeasesHeld:     m.st.leasesHeld.Load(),
		LeasesLost:     m.st.leasesLost.Load(),
		ShardLag:       map[string]time.Duration{},
	}
	if ms := m.refreshedAt.Load(); ms > 0 {
		s.RefreshedAt = time.UnixMilli(ms)
	}
	m.shardMu.Lock()
	defer m.shardMu.Unlock()
	for id, r := range m.readers {
		r.mu.Lock()
		var d time.Duration
		if !r.behind.IsZero() {
			d = time.Since(r.behind)
		}
		r.mu.Unlock()
		s.ShardLag[id] = d
	}
	return s
}

// RunUntil is Run with a graceful stop: when stop is closed, the workers
// finish and checkpoint the pages in hand, take no new one, and release their
// leases with no write abandoned in flight, so another worker takes each
// segment or shard over at once instead of after the lease and a request
// lifetime. It returns nil then, as when the migration reaches cutting_over or
// completed; ctx ending still stops everything at once (ctx.Err()).
func (m *Migration) RunUntil(ctx context.Context, stop <-chan struct{}) error {
	return m.run(ctx, func() bool {
		select {
		case <-stop:
			return true
		default:
		}
		p := m.cachedPhase()
		return p == PhaseCuttingOver || p == PhaseCompleted
	}, false)
}
