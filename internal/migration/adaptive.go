package migration

import (
	"context"
	"sync"
	"time"
)

// adaptiveLimit bounds the single-item (conditional) writes in flight, and
// moves the bound to what the target takes: it grows by a step each time a
// window of writes finished with a latency close to the best seen (the target
// keeps up, so more in flight means more throughput), and halves when a write
// is throttled or the latency climbs well above the best (the target or the
// network is saturated). A fixed bound is latency-bound: 64 writes in flight at
// 100 ms cross-Region is 640 items/s whatever the table can take.
type adaptiveLimit struct {
	mu       sync.Mutex
	limit    int
	min, max int
	inFlight int
	wake     chan struct{} // closed and replaced when a slot frees or the limit grows

	// The current window: completions and their summed latency.
	n     int
	sum   time.Duration
	best  time.Duration // lowest window mean seen
	throt bool          // a throttle in this window
}

const (
	adaptiveWindow = 32  // completions per decision
	adaptiveGrowth = 1.3 // a window mean within this factor of the best counts as flat
	adaptiveShrink = 2.0 // a window mean above this factor of the best halves the limit
)

func newAdaptiveLimit(start, lo, hi int) *adaptiveLimit {
	return &adaptiveLimit{limit: start, min: lo, max: hi, wake: make(chan struct{})}
}

// acquire waits for a slot.
func (a *adaptiveLimit) acquire(ctx context.Context) error {
	for {
		a.mu.Lock()
		if a.inFlight < a.limit {
			a.inFlight++
			a.mu.Unlock()
			return nil
		}
		wake := a.wake
		a.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release frees a slot and records how the write went: its latency, and
// whether it was throttled (latency is then not counted).
func (a *adaptiveLimit) release(latency time.Duration, throttled, counted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	if throttled {
		a.throt = true
	} else if counted {
		a.n++
		a.sum += latency
	}
	if a.n >= adaptiveWindow || (a.throt && a.n > 0) || (a.throt && a.inFlight == 0) {
		a.decide()
	}
	close(a.wake)
	a.wake = make(chan struct{})
}

func (a *adaptiveLimit) decide() {
	var mean time.Duration
	if a.n > 0 {
		mean = a.sum / time.Duration(a.n)
	}
	switch {
	case a.throt:
		a.limit = max(a.min, a.limit/2)
	case a.best == 0 || mean < a.best:
		a.best = mean
		a.limit = min(a.max, a.limit+a.step())
	case float64(mean) <= adaptiveGrowth*float64(a.best):
		a.limit = min(a.max, a.limit+a.step())
	case float64(mean) > adaptiveShrink*float64(a.best):
		a.limit = max(a.min, a.limit/2)
	}
	if mean > a.best {
		// Let the reference follow a lasting change of the target's latency.
		a.best += (mean - a.best) / 16
	}
	a.n, a.sum, a.throt = 0, 0, false
}

// step grows the limit by an eighth (at least 4): additive enough to probe,
// fast enough to reach hundreds in a few windows.
func (a *adaptiveLimit) step() int { return max(4, a.limit/8) }

func (a *adaptiveLimit) current() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limit
}
