package migration

import (
	"context"
	"errors"
	"fmt"
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
func call[T any](ctx context.Context, log Logger, op string, f func(context.Context) (T, error)) (T, error) {
	var zero T
	start := time.Now()
	transient := 0
	for attempt := 0; ; attempt++ {
		out, err := f(ctx)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		switch {
		case isThrottle(err):
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
			return zero, err
		}
	}
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
