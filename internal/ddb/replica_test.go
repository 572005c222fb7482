package ddb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

func TestIsTableBusy(t *testing.T) {
	cases := []struct {
		err  error
		busy bool
	}{
		{&types.ResourceInUseException{Message: aws.String("Table is being updated")}, true},
		{fmt.Errorf("wrapped: %w", &types.ResourceInUseException{}), true},
		{&types.LimitExceededException{Message: aws.String("Too many replicas are being created or deleted simultaneously")}, true},
		{&types.LimitExceededException{Message: aws.String("Subscriber limit exceeded: too many tables")}, false},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "Table orders is in the process of being updated"}, true},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid"}, false},
		{&types.ResourceNotFoundException{}, false},
		{errors.New("connection refused"), false},
	}
	for _, c := range cases {
		if got := IsTableBusy(c.err); got != c.busy {
			t.Errorf("IsTableBusy(%v) = %v, want %v", c.err, got, c.busy)
		}
	}
}

func TestRetryWhileBusyRetriesOnlyBusy(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := RetryWhileBusy(ctx, time.Now().Add(time.Minute), func() error {
		calls++
		if calls < 2 {
			return &types.ResourceInUseException{}
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("busy then success: err=%v calls=%d, want nil after 2 calls", err, calls)
	}

	calls = 0
	boom := errors.New("access denied")
	if err := RetryWhileBusy(ctx, time.Now().Add(time.Minute), func() error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("other error: err=%v calls=%d, want it at once", err, calls)
	}

	start := time.Now()
	err = RetryWhileBusy(ctx, time.Now().Add(300*time.Millisecond), func() error { return &types.ResourceInUseException{} })
	var timeout *WaitTimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("always busy: err=%v, want a WaitTimeoutError", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("a 300ms deadline took %s", took)
	}
}

func TestPollUntilReportsLastStatusOnTimeout(t *testing.T) {
	last := "CREATING"
	start := time.Now()
	_, err := pollUntil(context.Background(), time.Now().Add(200*time.Millisecond), Poll{First: 20 * time.Millisecond, Max: 50 * time.Millisecond}, "the replica", &last,
		func() (*types.TableDescription, bool, error) { return nil, false, nil })
	if err == nil || err.Error() != "timed out waiting for the replica; last seen: CREATING" {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took < 200*time.Millisecond || took > time.Second {
		t.Fatalf("a 200ms deadline took %s", took)
	}
}

func TestPollUntilBacksOffToMax(t *testing.T) {
	var times []time.Time
	last := ""
	_, err := pollUntil(context.Background(), time.Now().Add(time.Minute), Poll{First: 20 * time.Millisecond, Max: 80 * time.Millisecond}, "x", &last,
		func() (*types.TableDescription, bool, error) {
			times = append(times, time.Now())
			return nil, len(times) == 6, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	// Delays 20, 40, 80, 80, 80 ms: doubling, then capped (uncapped, the last would be 320).
	for i, want := range []time.Duration{20, 40, 80, 80, 80} {
		if got := times[i+1].Sub(times[i]); got < want*time.Millisecond {
			t.Errorf("delay %d = %s, want at least %dms", i, got, want)
		}
	}
	if got := times[5].Sub(times[4]); got > 250*time.Millisecond {
		t.Errorf("last delay = %s: not capped at 80ms", got)
	}
}

func TestKeyedMutexSerializesPerKey(t *testing.T) {
	var k KeyedMutex
	var inA, maxA, inB atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			unlock := k.Lock("a")
			defer unlock()
			n := inA.Add(1)
			if n > maxA.Load() {
				maxA.Store(n)
			}
			time.Sleep(2 * time.Millisecond)
			inA.Add(-1)
		}()
		go func() {
			defer wg.Done()
			unlock := k.Lock("b")
			defer unlock()
			inB.Add(1)
			time.Sleep(2 * time.Millisecond)
			inB.Add(-1)
		}()
	}
	wg.Wait()
	if maxA.Load() != 1 {
		t.Fatalf("%d holders of key a at once, want 1", maxA.Load())
	}
}

func TestFindReplicaAndOrderedKeySchema(t *testing.T) {
	table := &types.TableDescription{Replicas: []types.ReplicaDescription{
		{RegionName: aws.String("eu-west-1"), ReplicaStatus: types.ReplicaStatusActive},
		{RegionName: aws.String("ap-south-1"), ReplicaStatus: types.ReplicaStatusCreating},
	}}
	if r := FindReplica(table, "ap-south-1"); r == nil || r.ReplicaStatus != types.ReplicaStatusCreating {
		t.Fatalf("FindReplica(ap-south-1) = %+v", r)
	}
	if r := FindReplica(table, "us-east-1"); r != nil {
		t.Fatalf("FindReplica(us-east-1) = %+v, want nil", r)
	}
	ks := OrderedKeySchema([]types.KeySchemaElement{
		{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
	})
	if aws.ToString(ks[0].AttributeName) != "pk" || aws.ToString(ks[1].AttributeName) != "sk" {
		t.Fatalf("OrderedKeySchema = %v", ks)
	}
}
