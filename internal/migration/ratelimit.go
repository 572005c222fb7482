package migration

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// rateLimiter is a token bucket measured in capacity units per second. Callers
// Wait before a request and Charge the ConsumedCapacity that DynamoDB reports
// afterwards, so the limit follows what the table really spent (item sizes,
// consistent reads, index writes) rather than an estimate. The bucket may go
// into debt after a large charge; Wait then blocks until it is repaid.
type rateLimiter struct {
	mu     sync.Mutex
	rate   float64 // units per second; 0 = unlimited
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

func newRateLimiter(unitsPerSecond float64) *rateLimiter {
	return &rateLimiter{
		rate:   unitsPerSecond,
		burst:  unitsPerSecond, // one second of budget
		tokens: unitsPerSecond,
		now:    time.Now,
		sleep:  sleepCtx,
	}
}

func (r *rateLimiter) refill() {
	now := r.now()
	if !r.last.IsZero() {
		r.tokens += now.Sub(r.last).Seconds() * r.rate
		if r.tokens > r.burst {
			r.tokens = r.burst
		}
	}
	r.last = now
}

// Wait blocks until the bucket holds a positive balance.
func (r *rateLimiter) Wait(ctx context.Context) error {
	if r.rate <= 0 {
		return ctx.Err()
	}
	for {
		r.mu.Lock()
		r.refill()
		if r.tokens > 0 {
			r.mu.Unlock()
			return nil
		}
		d := time.Duration(-r.tokens / r.rate * float64(time.Second))
		r.mu.Unlock()
		if d < time.Millisecond {
			d = time.Millisecond
		}
		if err := r.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Reserve waits like Wait, then spends units at once: a request's minimum cost
// is paid before it is sent, so requests in flight cannot overshoot the limit
// by more than the burst. Settle the difference with Adjust once DynamoDB
// reports what the request consumed.
func (r *rateLimiter) Reserve(ctx context.Context, units float64) error {
	if err := r.Wait(ctx); err != nil || r.rate <= 0 {
		return err
	}
	r.mu.Lock()
	r.refill()
	r.tokens -= units
	r.mu.Unlock()
	return nil
}

// Adjust settles a reservation: consumed units beyond it are spent, units
// reserved but not consumed are given back (up to the burst).
func (r *rateLimiter) Adjust(consumed, reserved float64) {
	if r.rate <= 0 || consumed == reserved {
		return
	}
	r.mu.Lock()
	r.refill()
	r.tokens -= consumed - reserved
	if r.tokens > r.burst {
		r.tokens = r.burst
	}
	r.mu.Unlock()
}

// Charge spends units from the bucket.
func (r *rateLimiter) Charge(units float64) {
	if r.rate <= 0 || units <= 0 {
		return
	}
	r.mu.Lock()
	r.refill()
	r.tokens -= units
	r.mu.Unlock()
}

// capacity is what a request charged to r asks DynamoDB to report: the total
// when r limits anything, none otherwise. Nothing else reads it, and answering
// costs the server work (DynamoDB Local spent about a quarter more CPU on a
// BatchWriteItem that returns it, measured on the emulator).
func (r *rateLimiter) capacity() types.ReturnConsumedCapacity {
	if r.rate > 0 {
		return types.ReturnConsumedCapacityTotal
	}
	return types.ReturnConsumedCapacityNone
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff returns the delay before retry number attempt (0-based): exponential
// from 50 ms, capped at max, with full jitter so that parallel workers spread out.
func backoff(attempt int, max time.Duration) time.Duration {
	d := 50 * time.Millisecond
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}
