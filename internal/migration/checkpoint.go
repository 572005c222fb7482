package migration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Checkpoint table layout: partition key "migration" (the migration id), sort
// key "entry":
//
//	config          the stored Config and its fingerprint
//	state           phase, pinned stream ARN, capture time, estimate, error, verification
//	segment#0000007 ExclusiveStartKey ("lastKey"), done, items copied, lease
//	shard#<id>      parent, last applied sequence number ("seq"), done (finished), records applied, lease
//
// Every write is conditional: leases by owner and expiry, progress only by the
// lease holder, phase changes only from the expected phase.
const (
	attrMigration = "migration"
	attrEntry     = "entry"
	entryConfig   = "config"
	entryState    = "state"
	prefixSegment = "segment#"
	prefixShard   = "shard#"
)

// Phase is the life-cycle position of a migration.
type Phase string

const (
	PhaseBackfilling Phase = "backfilling"
	PhaseSyncing     Phase = "syncing"
	PhaseCuttingOver Phase = "cutting_over"
	PhaseCompleted   Phase = "completed"
	PhaseFailed      Phase = "failed"
)

var errLeaseLost = errors.New("lease lost to another worker")

func entryKey(id, entry string) Item {
	return Item{attrMigration: sAV(id), attrEntry: sAV(entry)}
}

func segmentEntry(n int) string { return fmt.Sprintf("%s%07d", prefixSegment, n) }

type store struct {
	c     DynamoDBAPI
	table string
	id    string
	owner string
	lease time.Duration
	log   Logger
	now   func() time.Time
}

func (s *store) key(entry string) Item { return entryKey(s.id, entry) }

// ensureTable creates the checkpoint table (on-demand) unless it exists, and
// waits until it is ACTIVE.
func (s *store) ensureTable(ctx context.Context) error {
	_, err := s.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	if isNotFound(err) {
		_, err = s.c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: &s.table,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String(attrMigration), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String(attrEntry), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrMigration), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrEntry), KeyType: types.KeyTypeRange},
			},
			BillingMode: types.BillingModePayPerRequest,
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) { // another worker created it first
			return fmt.Errorf("creating checkpoint table %s: %w", s.table, err)
		}
	} else if err != nil {
		return fmt.Errorf("describing checkpoint table %s: %w", s.table, err)
	}
	return waitTableActive(ctx, s.c, s.table)
}

func waitTableActive(ctx context.Context, c DynamoDBAPI, table string) error {
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("describing %s: %w", table, err)
		}
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

func (s *store) get(ctx context.Context, entry string) (Item, error) {
	out, err := call(ctx, s.log, "GetItem checkpoint", func(ctx context.Context) (*dynamodb.GetItemOutput, error) {
		return s.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: s.key(entry), ConsistentRead: aws.Bool(true)}, noSDKRetry)
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// list returns every entry whose sort key starts with prefix, strongly consistent.
func (s *store) list(ctx context.Context, prefix string) ([]Item, error) {
	var items []Item
	var start Item
	for {
		// DynamoDB refuses an empty begins_with operand: no prefix means every entry.
		in := &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    aws.String("#m = :m"),
			ExpressionAttributeNames:  map[string]string{"#m": attrMigration},
			ExpressionAttributeValues: Item{":m": sAV(s.id)},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		}
		if prefix != "" {
			in.KeyConditionExpression = aws.String("#m = :m AND begins_with(#e, :p)")
			in.ExpressionAttributeNames["#e"] = attrEntry
			in.ExpressionAttributeValues[":p"] = sAV(prefix)
		}
		out, err := call(ctx, s.log, "Query checkpoint", func(ctx context.Context) (*dynamodb.QueryOutput, error) {
			return s.c.Query(ctx, in, noSDKRetry)
		})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			return items, nil
		}
		start = out.LastEvaluatedKey
	}
}

// putIfAbsent writes item under entry unless the entry exists; reports whether it wrote.
func (s *store) putIfAbsent(ctx context.Context, entry string, item Item) (bool, error) {
	full := s.key(entry)
	for k, v := range item {
		full[k] = v
	}
	_, err := call(ctx, s.log, "PutItem checkpoint", func(ctx context.Context) (*dynamodb.PutItemOutput, error) {
		return s.c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                &s.table,
			Item:                     full,
			ConditionExpression:      aws.String("attribute_not_exists(#e)"),
			ExpressionAttributeNames: map[string]string{"#e": attrEntry},
		}, noSDKRetry)
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// update runs a conditional UpdateItem; cond may be empty. ok is false when the
// condition did not hold.
type update struct {
	set    Item
	add    map[string]int64
	remove []string
	cond   string
	names  map[string]string
	values Item
}

func (s *store) update(ctx context.Context, entry string, u update) (Item, bool, error) {
	names := map[string]string{}
	values := Item{}
	for k, v := range u.names {
		names[k] = v
	}
	for k, v := range u.values {
		values[k] = v
	}
	var sets, adds, removes []string
	i := 0
	for _, k := range sortedKeys(u.set) {
		n, v := fmt.Sprintf("#s%d", i), fmt.Sprintf(":s%d", i)
		names[n], values[v] = k, u.set[k]
		sets = append(sets, n+" = "+v)
		i++
	}
	for _, k := range sortedKeys(u.add) {
		n, v := fmt.Sprintf("#a%d", i), fmt.Sprintf(":a%d", i)
		names[n], values[v] = k, nAV(u.add[k])
		adds = append(adds, n+" "+v)
		i++
	}
	for _, k := range u.remove {
		n := fmt.Sprintf("#r%d", i)
		names[n] = k
		removes = append(removes, n)
		i++
	}
	var expr []string
	if len(sets) > 0 {
		expr = append(expr, "SET "+strings.Join(sets, ", "))
	}
	if len(adds) > 0 {
		expr = append(expr, "ADD "+strings.Join(adds, ", "))
	}
	if len(removes) > 0 {
		expr = append(expr, "REMOVE "+strings.Join(removes, ", "))
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      s.key(entry),
		UpdateExpression:         aws.String(strings.Join(expr, " ")),
		ExpressionAttributeNames: names,
		ReturnValues:             types.ReturnValueAllNew,
	}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	if u.cond != "" {
		in.ConditionExpression = aws.String(u.cond)
	}
	out, err := call(ctx, s.log, "UpdateItem checkpoint", func(ctx context.Context) (*dynamodb.UpdateItemOutput, error) {
		return s.c.UpdateItem(ctx, in, noSDKRetry)
	})
	if isConditionFailed(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return out.Attributes, true, nil
}

// setPhase moves the state from one of the phases in from to to.
func (s *store) setPhase(ctx context.Context, to Phase, extra Item, from ...Phase) (bool, error) {
	set := Item{"phase": sAV(string(to)), "updatedAt": nAV(s.now().UnixMilli())}
	for k, v := range extra {
		set[k] = v
	}
	var conds []string
	values := Item{}
	for i, p := range from {
		v := fmt.Sprintf(":from%d", i)
		conds = append(conds, "#phase = "+v)
		values[v] = sAV(string(p))
	}
	_, ok, err := s.update(ctx, entryState, update{
		set:    set,
		cond:   "attribute_exists(#phase) AND (" + strings.Join(conds, " OR ") + ")",
		names:  map[string]string{"#phase": "phase"},
		values: values,
	})
	return ok, err
}

// lease is a held claim on one segment or shard entry. A goroutine renews it
// every third of its duration. If renewal fails or cannot finish a third of a
// lease before expiry, ctx is cancelled with errLeaseLost, so a paused or
// partitioned holder stops writing before another worker may take over (a third
// of the lease is left for clock skew between workers).
type lease struct {
	s      *store
	entry  string
	until  atomic.Int64 // unix ms
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
}

// acquire claims entry if it is free, expired or already ours, and not done.
// It returns nil (no error) when another live owner holds it or it is done.
func (s *store) acquire(ctx context.Context, entry string, init Item) (*lease, Item, error) {
	now := s.now()
	until := now.Add(s.lease).UnixMilli()
	set := Item{"owner": sAV(s.owner), "leaseUntil": nAV(until)}
	for k, v := range init {
		set[k] = v
	}
	item, ok, err := s.update(ctx, entry, update{
		set: set,
		cond: "(attribute_not_exists(#owner) OR #until < :now OR #owner = :me) AND " +
			"(attribute_not_exists(#done) OR #done = :false)",
		names:  map[string]string{"#owner": "owner", "#until": "leaseUntil", "#done": "done"},
		values: Item{":now": nAV(now.UnixMilli()), ":me": sAV(s.owner), ":false": &types.AttributeValueMemberBOOL{Value: false}},
	})
	if err != nil || !ok {
		return nil, nil, err
	}
	l := &lease{s: s, entry: entry}
	l.until.Store(until)
	l.ctx, l.cancel = context.WithCancelCause(ctx)
	l.wg.Add(1)
	go l.renewLoop()
	return l, item, nil
}

func (l *lease) margin() time.Time {
	return time.UnixMilli(l.until.Load()).Add(-l.s.lease / 3)
}

func (l *lease) renewLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.s.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithDeadline(l.ctx, l.margin())
		_, err := l.save(rctx, update{})
		cancel()
		if err != nil {
			if l.ctx.Err() == nil {
				l.s.log.Warn("lease renewal failed; stopping work on it", "entry", l.entry, "error", err.Error())
				l.cancel(fmt.Errorf("%s: %w", l.entry, errLeaseLost))
			}
			return
		}
	}
}

// check ends the lease if its safety margin has passed without a renewal (the
// process was paused, or the checkpoint table unreachable); call it before writing.
func (l *lease) check() error {
	if time.Now().After(l.margin()) {
		l.cancel(fmt.Errorf("%s: not renewed in time: %w", l.entry, errLeaseLost))
	}
	return context.Cause(l.ctx)
}

// lost reports whether the lease ended because it could not be kept.
func (l *lease) lost() bool { return errors.Is(context.Cause(l.ctx), errLeaseLost) }

// save records progress (and renews the lease) if this worker still owns it.
func (l *lease) save(ctx context.Context, u update) (Item, error) {
	until := l.s.now().Add(l.s.lease).UnixMilli()
	if u.set == nil {
		u.set = Item{}
	}
	u.set["leaseUntil"] = nAV(until)
	u.cond = "#owner = :me"
	u.names = map[string]string{"#owner": "owner"}
	u.values = Item{":me": sAV(l.s.owner)}
	item, ok, err := l.s.update(ctx, l.entry, u)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", l.entry, errLeaseLost)
	}
	l.until.Store(until)
	return item, nil
}

// release stops renewal and gives the entry up for others (best effort: an
// unreleased lease simply expires).
func (l *lease) release() {
	l.cancel(context.Canceled)
	l.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := l.s.update(ctx, l.entry, update{
		remove: []string{"owner", "leaseUntil"},
		cond:   "#owner = :me",
		names:  map[string]string{"#owner": "owner"},
		values: Item{":me": sAV(l.s.owner)},
	})
	if err != nil {
		l.s.log.Debug("releasing lease", "entry", l.entry, "error", err.Error())
	}
}

// deleteAll removes every entry of the migration.
func (s *store) deleteAll(ctx context.Context) error {
	items, err := s.list(ctx, "")
	if err != nil {
		return err
	}
	for len(items) > 0 {
		n := min(25, len(items))
		reqs := make([]types.WriteRequest, n)
		for i, it := range items[:n] {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: s.key(sOf(it[attrEntry]))}}
		}
		items = items[n:]
		for len(reqs) > 0 {
			out, err := call(ctx, s.log, "BatchWriteItem checkpoint", func(ctx context.Context) (*dynamodb.BatchWriteItemOutput, error) {
				return s.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}}, noSDKRetry)
			})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[s.table]
			if len(reqs) > 0 {
				if err := sleepCtx(ctx, backoff(1, maxBackoff)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func shardFromItem(it Item) shardCheckpoint {
	return shardCheckpoint{
		ID:       strings.TrimPrefix(sOf(it[attrEntry]), prefixShard),
		Parent:   sOf(it["parent"]),
		Seq:      sOf(it["seq"]),
		Finished: boolOf(it["done"]),
		SeenAt:   intOf(it["seenAt"]),
		Owner:    sOf(it["owner"]),
		LeaseMs:  intOf(it["leaseUntil"]),
		Applied:  intOf(it["applied"]),
		LastMs:   intOf(it["lastMs"]),
	}
}
