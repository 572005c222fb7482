package migration

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"
)

// Retry policy. Throttling is retried for as long as it lasts up to
// maxThrottleWait (the table is alive, only busy); server errors and broken
// connections a bounded number of times; everything else fails at once.
const (
	maxBackoff      = 5 * time.Second
	maxThrottleWait = 15 * time.Minute
	maxTransient    = 12
	// maxReadTimeout bounds the doubling timeout of a read under a lease.
	maxReadTimeout = 5 * time.Minute
)

// isThrottle reports the typed throttling errors of DynamoDB and Streams.
func isThrottle(err error) bool {
	var pt *types.ProvisionedThroughputExceededException
	var th *types.ThrottlingException
	var le *types.LimitExceededException // DynamoDB: control-plane concurrency; the SDK treats it as a throttle
	var sle *streamtypes.LimitExceededException
	if errors.As(err, &pt) || errors.As(err, &th) || errors.As(err, &le) || errors.As(err, &sle) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "RequestLimitExceeded", "ThrottlingException", "Throttling", "TooManyRequestsException":
			return true
		}
	}
	return false
}

var transientErrors = retry.IsErrorRetryables(append([]retry.IsErrorRetryable{}, retry.DefaultRetryables...))

// isTransient reports 5xx responses and connection failures, as the SDK's own
// retryer classifies them.
func isTransient(err error) bool {
	return transientErrors.IsErrorRetryable(err) == aws.TrueTernary
}

// noSDKRetry makes our loop the only retry layer, so that the SDK's retry quota
// cannot run dry under many parallel workers ("retry quota exceeded") and every
// attempt goes through the rate limiter.
func noSDKRetry(o *dynamodb.Options)               { o.Retryer = aws.NopRetryer{} }
func noSDKRetryStreams(o *dynamodbstreams.Options) { o.Retryer = aws.NopRetryer{} }

// call runs f until it succeeds, fails with a non-retryable error, or the retry
// budget for throttling or transient errors is spent. op names the call in errors.
//
// Under a lease (ctx derived from a lease's context), every attempt is checked
// against the lease first and carries a deadline at the lease's safety
// margin and at most Config.RequestTimeout away: nothing is sent once the
// lease could have been lost, and nothing stays in flight past it, except the
// reads of callRead.
func call[T any](ctx context.Context, log Logger, op string, f func(context.Context) (T, error)) (T, error) {
	return callx(ctx, log, op, callBounded, f)
}

// callRead is call for reads of table items and stream records: under a lease
// it needs no fence (a read changes nothing), so it ends only when the lease
// is lost, and an attempt that times out is sent again with twice the time, so
// that a backend slower than Config.RequestTimeout is waited for instead of
// asked again forever.
func callRead[T any](ctx context.Context, log Logger, op string, f func(context.Context) (T, error)) (T, error) {
	return callx(ctx, log, op, callReadOnly, f)
}

type callKind int

const (
	callBounded  callKind = iota // under a lease: bounded by its margin and Config.RequestTimeout
	callWriting                  // the same, after the lease's fence; a timeout delays the next write
	callReadOnly                 // under a lease: ends when it is lost; doubling timeouts
)

// callWrite is call for writes to the target: it waits out the lease's fence
// before each attempt, and an attempt given up in flight (the server may still
// apply it) delays the lease's next write by a request lifetime.
func callWrite[T any](ctx context.Context, log Logger, op string, f func(context.Context) (T, error)) (T, error) {
	return callx(ctx, log, op, callWriting, f)
}

func callx[T any](ctx context.Context, log Logger, op string, kind callKind, f func(context.Context) (T, error)) (T, error) {
	var zero T
	write := kind == callWriting
	l := leaseOf(ctx)
	start := time.Now()
	transient := 0
	var readTimeout time.Duration
	if l != nil {
		readTimeout = l.s.reqTimeout
	}
	for attempt := 0; ; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		switch {
		case l != nil && kind != callReadOnly:
			if write {
				if err := l.awaitFence(ctx); err != nil {
					return zero, leaseErr(l, err)
				}
			}
			var err error
			if actx, cancel, err = l.bound(ctx); err != nil {
				return zero, leaseErr(l, err)
			}
			if l.s.reqTimeout > 0 {
				var c2 context.CancelFunc
				actx, c2 = context.WithTimeout(actx, l.s.reqTimeout)
				c1 := cancel
				cancel = func() { c2(); c1() }
			}
		case l != nil:
			// See callRead.
			if err := l.check(); err != nil {
				return zero, leaseErr(l, err)
			}
			if readTimeout > 0 {
				actx, cancel = context.WithTimeout(ctx, readTimeout)
			}
		}
		out, err := f(actx)
		timedOut := err != nil && actx.Err() != nil
		cancel()
		if err == nil {
			return out, nil
		}
		if timedOut && write && l != nil {
			// The request may still be applied by the server: no later write
			// of this lease may be sent before it can no longer land.
			l.abandon(time.Now())
		}
		if ctx.Err() != nil {
			return zero, leaseErr(l, context.Cause(ctx))
		}
		if timedOut && l != nil {
			if err := l.check(); err != nil {
				return zero, leaseErr(l, err)
			}
			if kind == callReadOnly && readTimeout > 0 {
				readTimeout = min(2*readTimeout, maxReadTimeout)
				log.Warn("read timed out; retrying with a longer timeout", "op", op, "timeout", readTimeout.String())
			} else {
				log.Debug("request timed out; retrying", "op", op)
			}
			continue
		}
		retries.Add(1)
		switch {
		case isThrottle(err):
			throttles.Add(1)
			if n, ok := ctx.Value(throttleKey{}).(*atomic.Int64); ok {
				n.Add(1)
			}
			if time.Since(start) > maxThrottleWait {
				return zero, fmt.Errorf("%s: still throttled after %s: %w", op, maxThrottleWait, err)
			}
		case isTransient(err):
			transient++
			if transient > maxTransient {
				return zero, fmt.Errorf("%s: failed %d times: %w", op, transient, err)
			}
			log.Debug("retrying after a transient error", "op", op, "attempt", transient, "error", err.Error())
		default:
			return zero, fmt.Errorf("%s: %w", op, err)
		}
		if err := sleepCtx(ctx, backoff(attempt, maxBackoff)); err != nil {
			return zero, leaseErr(l, context.Cause(ctx))
		}
	}
}

// throttles and retries count, for the whole process, the attempts that were
// throttled and the attempts that were retried for any reason (Stats).
var throttles, retries atomic.Int64

// throttleKey marks a context whose calls count their throttled attempts in
// an *atomic.Int64 (for the adaptive write concurrency).
type throttleKey struct{}

// leaseErr prefers the lease's own reason (errLeaseLost) over the plain
// cancellation that its context reports.
func leaseErr(l *lease, err error) error {
	if l != nil && l.lost() {
		return context.Cause(l.ctx)
	}
	return err
}

func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	var snf *streamtypes.ResourceNotFoundException
	return errors.As(err, &nf) || errors.As(err, &snf)
}
