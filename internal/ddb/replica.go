package ddb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// FindReplica returns the Replicas[] entry of table for region, or nil.
func FindReplica(table *types.TableDescription, region string) *types.ReplicaDescription {
	if table == nil {
		return nil
	}
	for i := range table.Replicas {
		if aws.ToString(table.Replicas[i].RegionName) == region {
			return &table.Replicas[i]
		}
	}
	return nil
}

// FindReplicaByTwoPartKey describes table in the client's Region and returns its
// replica in region; a NotFoundError when the table or the replica does not exist.
func FindReplicaByTwoPartKey(ctx context.Context, client *dynamodb.Client, table, region string) (*types.TableDescription, *types.ReplicaDescription, error) {
	desc, err := FindTableByName(ctx, client, table)
	if err != nil {
		return nil, nil, err
	}
	r := FindReplica(desc, region)
	if r == nil {
		return desc, nil, &NotFoundError{What: fmt.Sprintf("replica of table %s", table), Region: region}
	}
	return desc, r, nil
}

// failedReplicaStatuses end a wait at once: the replica will not become ACTIVE by itself.
var failedReplicaStatuses = map[types.ReplicaStatus]bool{
	types.ReplicaStatusCreationFailed:                    true,
	types.ReplicaStatusRegionDisabled:                    true,
	types.ReplicaStatusInaccessibleEncryptionCredentials: true,
	types.ReplicaStatusReplicationNotAuthorized:          true,
	types.ReplicaStatusArchiving:                         true,
	types.ReplicaStatusArchived:                          true,
}

// ReplicaFailedError says the replica reached a status it does not leave by itself.
type ReplicaFailedError struct {
	Table, Region string
	Status        types.ReplicaStatus
	Description   string
}

func (e *ReplicaFailedError) Error() string {
	msg := fmt.Sprintf("replica of table %s in %s is %s", e.Table, e.Region, e.Status)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// WaitTimeoutError says a wait reached its deadline, and in which state it was stuck.
type WaitTimeoutError struct {
	What string
	Last string
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("timed out waiting for %s; last seen: %s", e.What, e.Last)
}

// Poll controls how waiters poll.
type Poll struct {
	// First is the first delay, doubled after every poll up to Max.
	First, Max time.Duration
	// AppearWithin bounds how long a created replica may be absent from Replicas[]
	// before the wait fails (AWS can abort a create without a CREATION_FAILED entry).
	AppearWithin time.Duration
	// Progress, when set, is told every status change and progress percentage.
	Progress func(status string, percent string)
}

// DefaultPoll polls often at first, then every 3 s: an ACTIVE status is seen within
// one poll without hammering DescribeTable during long creates.
var DefaultPoll = Poll{First: 250 * time.Millisecond, Max: 3 * time.Second, AppearWithin: 5 * time.Minute}

func (p Poll) withDefaults() Poll {
	if p.First <= 0 {
		p.First = DefaultPoll.First
	}
	if p.Max <= 0 {
		p.Max = DefaultPoll.Max
	}
	if p.AppearWithin <= 0 {
		p.AppearWithin = DefaultPoll.AppearWithin
	}
	return p
}

// WaitReplicaActive polls the table in the client's Region until the replica in region
// is ACTIVE. It fails at once on a failed status, and when the replica has not appeared
// in Replicas[] within p.AppearWithin. Unknown statuses count as not ready.
func WaitReplicaActive(ctx context.Context, client *dynamodb.Client, table, region string, deadline time.Time, p Poll) (*types.TableDescription, error) {
	p = p.withDefaults()
	var last string
	appearBy := time.Now().Add(p.AppearWithin)
	return pollUntil(ctx, deadline, p, fmt.Sprintf("replica of table %s in %s to become ACTIVE", table, region), &last,
		func() (*types.TableDescription, bool, error) {
			desc, r, err := FindReplicaByTwoPartKey(ctx, client, table, region)
			if IsNotFound(err) && desc != nil {
				last = "not listed in Replicas[]"
				if time.Now().After(appearBy) {
					return nil, false, fmt.Errorf("replica of table %s in %s did not appear in the table's replicas within %s: "+
						"the create was abandoned by DynamoDB; check the Region is enabled for the account and retry", table, region, p.AppearWithin)
				}
				return nil, false, nil
			}
			if err != nil {
				return nil, false, err
			}
			last = string(r.ReplicaStatus)
			if p.Progress != nil {
				p.Progress(last, aws.ToString(r.ReplicaStatusPercentProgress))
			}
			if failedReplicaStatuses[r.ReplicaStatus] {
				return nil, false, &ReplicaFailedError{Table: table, Region: region, Status: r.ReplicaStatus, Description: aws.ToString(r.ReplicaStatusDescription)}
			}
			return desc, r.ReplicaStatus == types.ReplicaStatusActive, nil
		})
}

// WaitReplicaDeleted polls until the replica in region is gone from Replicas[] (or the
// table itself is gone).
func WaitReplicaDeleted(ctx context.Context, client *dynamodb.Client, table, region string, deadline time.Time, p Poll) error {
	p = p.withDefaults()
	var last string
	_, err := pollUntil(ctx, deadline, p, fmt.Sprintf("replica of table %s in %s to be deleted", table, region), &last,
		func() (*types.TableDescription, bool, error) {
			desc, r, err := FindReplicaByTwoPartKey(ctx, client, table, region)
			if IsNotFound(err) {
				return desc, true, nil
			}
			if err != nil {
				return nil, false, err
			}
			last = string(r.ReplicaStatus)
			if p.Progress != nil {
				p.Progress(last, aws.ToString(r.ReplicaStatusPercentProgress))
			}
			return nil, false, nil
		})
	return err
}

// WaitTableDeleted polls the client's Region until table no longer exists; DynamoDB
// drops a removed replica's table some time after the replica leaves Replicas[].
func WaitTableDeleted(ctx context.Context, client *dynamodb.Client, table string, deadline time.Time, p Poll) error {
	p = p.withDefaults()
	last := "exists"
	_, err := pollUntil(ctx, deadline, p, fmt.Sprintf("table %s in %s to be deleted", table, client.Options().Region), &last,
		func() (*types.TableDescription, bool, error) {
			desc, err := FindTableByName(ctx, client, table)
			if IsNotFound(err) {
				return nil, true, nil
			}
			if err != nil {
				return nil, false, err
			}
			last = string(desc.TableStatus)
			return nil, false, nil
		})
	return err
}

// pollUntil calls check with doubling delays capped at p.Max until it reports done, fails,
// or the deadline passes; last is what the timeout error reports as the stuck state.
func pollUntil(ctx context.Context, deadline time.Time, p Poll, what string, last *string, check func() (*types.TableDescription, bool, error)) (*types.TableDescription, error) {
	delay := p.First
	for {
		desc, done, err := check()
		if err != nil {
			return nil, err
		}
		if done {
			return desc, nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, &WaitTimeoutError{What: what, Last: *last}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(delay, remaining)):
		}
		delay = min(2*delay, p.Max)
	}
}

// IsTableBusy reports errors DynamoDB returns when another change to the table (or one
// of its replicas) is in progress: the same request succeeds once that change ends.
func IsTableBusy(err error) bool {
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return true
	}
	var limit *types.LimitExceededException
	if errors.As(err, &limit) {
		return strings.Contains(strings.ToLower(aws.ToString(limit.Message)), "simultaneous")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" {
		return strings.Contains(ae.ErrorMessage(), "in the process of being updated")
	}
	return false
}

// RetryWhileBusy calls fn until it succeeds, fails with an error other than a busy
// table, or the deadline passes. Delays double from 1 s up to 10 s.
func RetryWhileBusy(ctx context.Context, deadline time.Time, fn func() error) error {
	delay := time.Second
	for {
		err := fn()
		if err == nil || !IsTableBusy(err) {
			return err
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return &WaitTimeoutError{What: "the table to finish another change", Last: err.Error()}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(delay, remaining)):
		}
		delay = min(2*delay, 10*time.Second)
	}
}
