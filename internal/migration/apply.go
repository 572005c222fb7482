package migration

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"golang.org/x/sync/errgroup"
)

// TombstoneAttribute marks the placeholder items that HandOffInsertIfAbsent
// writes for stream deletes while the backfill runs; they are removed when the
// backfill ends and again at cutover.
const TombstoneAttribute = "ddbglobal:tombstone"

// StreamedAttribute marks, in version mode, the items the stream writes while
// a HandOffInsertIfAbsent backfill runs, so that the backfill never replaces
// them: the backfill's value was read earlier, and its version may be higher
// even so (an item deleted and created again starts its versions anew, and a
// source write may lower a version). The backfill replaces an existing item
// only when it is an older direct write (no mark). The marks are removed with
// the tombstones when the backfill ends, and again at cutover.
const StreamedAttribute = "ddbglobal:streamed"

// How long BatchWriteItem may return UnprocessedItems without any progress
// before the run fails loudly (it is resumable from the last checkpoint).
const maxUnprocessedWait = 10 * time.Minute

// change is the net effect of one or more stream records on one key.
type change struct {
	key      string // target key rendered by keyString: dedup key
	tkey     Item   // target key attributes
	skey     Item   // source key attributes (re-read)
	put      Item   // transformed new image; nil for a delete
	needRead bool   // the stream carries no new image: re-read the source item
	version  types.AttributeValue
	approx   time.Time
}

// changesFromRecords turns one shard page into per-key net changes. Records of
// one key keep their order; the last one wins, so each key is written once per
// batch (BatchWriteItem refuses duplicate keys). In version mode the change
// carries the highest version seen for the key, so a put that follows a delete
// in the same batch is not refused for a version the delete would have removed.
func (m *Migration) changesFromRecords(recs []streamtypes.Record) ([]change, error) {
	idx := map[string]int{}
	var out []change
	for _, r := range recs {
		sr := r.Dynamodb
		if sr == nil {
			continue
		}
		skey, ok := streamImage(sr.Keys)
		if !ok || len(skey) == 0 {
			return nil, fmt.Errorf("stream record %s has undecodable keys", aws.ToString(sr.SequenceNumber))
		}
		tk, err := m.cfg.Transform.Apply(skey)
		if err != nil {
			return nil, err
		}
		c := change{tkey: project(tk, m.dstKey), skey: skey}
		c.key = keyString(c.tkey, m.dstKey)
		if sr.ApproximateCreationDateTime != nil {
			c.approx = *sr.ApproximateCreationDateTime
		}
		switch r.EventName {
		case streamtypes.OperationTypeInsert, streamtypes.OperationTypeModify:
			// No new image (KEYS_ONLY/OLD_IMAGE view) or one the SDK could not
			// fully decode: re-read the item instead.
			img, ok := streamImage(sr.NewImage)
			if img == nil || !ok {
				c.needRead = true
			} else if c.put, err = m.transformItem(img); err != nil {
				return nil, err
			}
			if c.put != nil {
				c.version = m.versionOf(c.put)
			}
		case streamtypes.OperationTypeRemove:
		default:
			return nil, fmt.Errorf("stream record %s has unknown event name %q", aws.ToString(sr.SequenceNumber), r.EventName)
		}
		// In version mode the old image's version is what the target holds if
		// it followed the source: a replicated write may replace up to it.
		if m.cfg.VersionAttribute != "" {
			if old, ok := streamImage(sr.OldImage); ok && old != nil {
				if v := m.versionOf(old); versionGreater(v, c.version) {
					c.version = v
				}
			}
		}
		if i, ok := idx[c.key]; ok {
			if m.cfg.VersionAttribute != "" && versionGreater(out[i].version, c.version) {
				c.version = out[i].version
			}
			out[i] = c
			continue
		}
		idx[c.key] = len(out)
		out = append(out, c)
	}
	return out, nil
}

// versionOf returns item's version attribute if it is a number or a string, the
// two types DynamoDB can order; any other type counts as no version.
func (m *Migration) versionOf(item Item) types.AttributeValue {
	switch v := item[m.cfg.VersionAttribute].(type) {
	case *types.AttributeValueMemberN, *types.AttributeValueMemberS:
		return v
	case nil:
		return nil
	default:
		m.log.Warn("the version attribute is neither a number nor a string; the item counts as unversioned", "attribute", m.cfg.VersionAttribute, "type", fmt.Sprintf("%T", v))
		return nil
	}
}

// versionGreater compares two version values of the same type (N as decimals,
// S lexically); values of other types never compare greater.
func versionGreater(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		if !ok {
			return b == nil
		}
		return compareDecimal(x.Value, y.Value) > 0
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		if !ok {
			return b == nil
		}
		return x.Value > y.Value
	}
	return false
}

// resolveReads fills in changes whose stream view has no new image (KEYS_ONLY,
// OLD_IMAGE) by reading the source item now: present → put its current value,
// absent → delete. The current value is at least as new as the record, and any
// later change has its own record, so the end state is the same.
func (m *Migration) resolveReads(ctx context.Context, cs []change) error {
	var need []int
	for i := range cs {
		if cs[i].needRead {
			need = append(need, i)
		}
	}
	for len(need) > 0 {
		n := min(100, len(need))
		chunk := need[:n]
		need = need[n:]
		byKey := map[string]int{}
		keys := make([]Item, len(chunk))
		for j, i := range chunk {
			keys[j] = cs[i].skey
			byKey[keyString(cs[i].skey, m.srcKey)] = i
			cs[i].needRead = false
		}
		pending := map[string]types.KeysAndAttributes{m.cfg.Source.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if err := m.readLim.Wait(ctx); err != nil {
				return err
			}
			out, err := callRead(ctx, m.log, "BatchGetItem source", func(ctx context.Context) (*dynamodb.BatchGetItemOutput, error) {
				return m.src.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending, ReturnConsumedCapacity: m.readLim.capacity()}, noSDKRetry)
			})
			if err != nil {
				return err
			}
			m.chargeRead(out.ConsumedCapacity...)
			for _, it := range out.Responses[m.cfg.Source.Table] {
				i := byKey[keyString(it, m.srcKey)]
				if cs[i].put, err = m.transformItem(it); err != nil {
					return err
				}
				if v := m.versionOf(cs[i].put); versionGreater(v, cs[i].version) {
					cs[i].version = v
				}
			}
			pending = out.UnprocessedKeys
			if len(pending) > 0 {
				if err := sleepCtx(ctx, backoff(attempt, maxBackoff)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// applyChanges writes net changes to the target. tombstones selects the
// HandOffInsertIfAbsent behaviour while the backfill runs: deletes leave a
// tombstone item instead of removing the key.
func (m *Migration) applyChanges(ctx context.Context, cs []change, tombstones bool) error {
	if err := m.resolveReads(ctx, cs); err != nil {
		return err
	}
	if m.cfg.VersionAttribute != "" {
		return m.applyVersioned(ctx, cs, tombstones)
	}
	reqs := make([]types.WriteRequest, 0, len(cs))
	for _, c := range cs {
		switch {
		case c.put != nil:
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: c.put}})
		case tombstones:
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: m.tombstone(c.tkey)}})
		default:
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: c.tkey}})
		}
	}
	if err := m.batchWrite(ctx, reqs); err != nil {
		return err
	}
	m.notifyApplied(cs)
	return nil
}

func (m *Migration) notifyApplied(cs []change) {
	if m.cfg.OnApplied == nil {
		return
	}
	for _, c := range cs {
		if c.put != nil {
			m.cfg.OnApplied(c.put)
		}
	}
}

func (m *Migration) tombstone(tkey Item) Item {
	t := make(Item, len(tkey)+1)
	for k, v := range tkey {
		t[k] = v
	}
	t[TombstoneAttribute] = &types.AttributeValueMemberBOOL{Value: true}
	return t
}

// applyVersioned writes each change conditionally. A change carries, as its
// version, the highest version among its records' old and new images: what the
// target holds if it followed the source. The replicated value (or delete) wins
// over an absent item, a tombstone, an item without a version, an item whose
// version has another type than the source's, and an item whose version is not
// newer than that. It loses only to a target item with a strictly newer version
// of the same type, which only a direct write to the target makes; a change
// whose images carry no version at all loses to any versioned target item for
// the same reason. Equal versions win, so that two source writes carrying the
// same version are both replicated in order: direct writes on the target must
// use strictly newer versions to be kept. Losses are counted (skipped) and
// logged at INFO with a count.
func (m *Migration) applyVersioned(ctx context.Context, cs []change, tombstones bool) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.items.max)
	for _, c := range cs {
		g.Go(func() error {
			names := map[string]string{"#v": m.cfg.VersionAttribute}
			values := Item{}
			cond := "attribute_not_exists(#v)"
			if c.version != nil {
				cond += " OR NOT attribute_type(#v, :t) OR #v <= :v"
				values[":v"] = c.version
				values[":t"] = sAV(attrType(c.version))
			}
			var err error
			switch {
			case c.put != nil || tombstones:
				item := c.put
				switch {
				case item == nil:
					item = m.tombstone(c.tkey)
				case tombstones:
					item = m.streamed(item)
				}
				names["#hk"] = m.dstKey[0]
				names["#t"] = TombstoneAttribute
				cond = "attribute_not_exists(#hk) OR attribute_exists(#t) OR " + cond
				err = m.conditionalPut(gctx, item, cond, names, values)
			default:
				err = m.conditionalDelete(gctx, c.tkey, cond, names, values)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	m.notifyApplied(cs)
	return nil
}

// streamed is item with the StreamedAttribute mark.
func (m *Migration) streamed(item Item) Item {
	out := make(Item, len(item)+1)
	for k, v := range item {
		out[k] = v
	}
	out[StreamedAttribute] = &types.AttributeValueMemberBOOL{Value: true}
	return out
}

// unmark removes the StreamedAttribute mark from one target item, if it still
// has it (a later write without the mark replaced it otherwise).
func (m *Migration) unmark(ctx context.Context, key Item) error {
	return m.conditionalWrite(ctx, func(ctx context.Context) (*types.ConsumedCapacity, error) {
		out, err := callWrite(ctx, m.log, "UpdateItem target", func(ctx context.Context) (*dynamodb.UpdateItemOutput, error) {
			return m.dst.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                &m.cfg.Target.Table,
				Key:                      key,
				UpdateExpression:         aws.String("REMOVE #s"),
				ConditionExpression:      aws.String("attribute_exists(#s)"),
				ExpressionAttributeNames: map[string]string{"#s": StreamedAttribute},
				ReturnConsumedCapacity:   m.writeLim.capacity(),
			}, noSDKRetry)
		})
		if err != nil {
			return nil, err
		}
		return out.ConsumedCapacity, nil
	})
}

// attrType is the DynamoDB type name of a version value (N or S).
func attrType(v types.AttributeValue) string {
	if _, ok := v.(*types.AttributeValueMemberS); ok {
		return "S"
	}
	return "N"
}

func emptyToNil(v Item) Item {
	if len(v) == 0 {
		return nil
	}
	return v
}

// conditionalPut writes one item; a failed condition means the target already
// holds what must win, and is not an error.
func (m *Migration) conditionalPut(ctx context.Context, item Item, cond string, names map[string]string, values Item) error {
	return m.conditionalWrite(ctx, func(ctx context.Context) (*types.ConsumedCapacity, error) {
		out, err := callWrite(ctx, m.log, "PutItem target", func(ctx context.Context) (*dynamodb.PutItemOutput, error) {
			return m.dst.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:                 &m.cfg.Target.Table,
				Item:                      item,
				ConditionExpression:       &cond,
				ExpressionAttributeNames:  names,
				ExpressionAttributeValues: emptyToNil(values),
				ReturnConsumedCapacity:    m.writeLim.capacity(),
			}, noSDKRetry)
		})
		if err != nil {
			return nil, err
		}
		return out.ConsumedCapacity, nil
	})
}

// conditionalDelete deletes one item under a condition, like conditionalPut.
func (m *Migration) conditionalDelete(ctx context.Context, key Item, cond string, names map[string]string, values Item) error {
	return m.conditionalWrite(ctx, func(ctx context.Context) (*types.ConsumedCapacity, error) {
		out, err := callWrite(ctx, m.log, "DeleteItem target", func(ctx context.Context) (*dynamodb.DeleteItemOutput, error) {
			return m.dst.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName:                 &m.cfg.Target.Table,
				Key:                       key,
				ConditionExpression:       &cond,
				ExpressionAttributeNames:  names,
				ExpressionAttributeValues: emptyToNil(values),
				ReturnConsumedCapacity:    m.writeLim.capacity(),
			}, noSDKRetry)
		})
		if err != nil {
			return nil, err
		}
		return out.ConsumedCapacity, nil
	})
}

// conditionalWrite sends one single-item write within the item-write bound, charges
// the write limiter with what it consumed, and counts a failed condition as a skip.
// Every write waits for the write limit and reserves the one unit it costs at
// least before it is sent (a failed condition costs it too), so the limit holds
// however many writes are in flight.
func (m *Migration) conditionalWrite(ctx context.Context, send func(context.Context) (*types.ConsumedCapacity, error)) error {
	if err := m.items.acquire(ctx); err != nil {
		return leaseErr(leaseOf(ctx), context.Cause(ctx))
	}
	if err := m.writeLim.Reserve(ctx, 1); err != nil {
		m.items.release(0, false, false)
		return leaseErr(leaseOf(ctx), context.Cause(ctx))
	}
	sent := time.Now()
	var throttles atomic.Int64
	cc, err := send(context.WithValue(ctx, throttleKey{}, &throttles))
	// Throttling and latency steer how many writes may be in flight.
	m.items.release(time.Since(sent), throttles.Load() > 0, err == nil || isConditionFailed(err))
	if isConditionFailed(err) {
		m.skipped.Add(1)
		return nil
	}
	if err != nil {
		m.writeLim.Adjust(0, 1)
		return err
	}
	m.writeLim.Adjust(consumedUnits(one(cc)), 1)
	return nil
}

// consumedUnits adds up what DynamoDB reports as consumed.
func consumedUnits(ccs []types.ConsumedCapacity) float64 {
	var n float64
	for _, cc := range ccs {
		n += aws.ToFloat64(cc.CapacityUnits)
	}
	return n
}

// batchWrite writes requests (unique keys) in BatchWriteItem calls of 25, in
// parallel up to WriteConcurrency. Every UnprocessedItems entry is resubmitted
// with backoff until it is written; only a long stretch with no progress at all
// fails the run, loudly. It returns nil only when every request was written.
func (m *Migration) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	g, gctx := errgroup.WithContext(ctx)
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		chunk := reqs[:n]
		reqs = reqs[n:]
		if err := acquire(gctx, m.writeSem); err != nil {
			// The rest of the page is unwritten: that is an error even if
			// every chunk sent so far succeeded.
			if werr := g.Wait(); werr != nil {
				return werr
			}
			return leaseErr(leaseOf(ctx), context.Cause(gctx))
		}
		g.Go(func() error {
			defer func() { <-m.writeSem }()
			return m.batchWriteChunk(gctx, chunk)
		})
	}
	return g.Wait()
}

func (m *Migration) batchWriteChunk(ctx context.Context, pending []types.WriteRequest) error {
	table := m.cfg.Target.Table
	lastProgress := time.Now()
	for attempt := 0; len(pending) > 0; {
		// Each item costs at least one unit: reserve that much before sending.
		reserved := float64(len(pending))
		if err := m.writeLim.Reserve(ctx, reserved); err != nil {
			return err
		}
		out, err := callWrite(ctx, m.log, "BatchWriteItem target", func(ctx context.Context) (*dynamodb.BatchWriteItemOutput, error) {
			return m.dst.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems:           map[string][]types.WriteRequest{table: pending},
				ReturnConsumedCapacity: m.writeLim.capacity(),
			}, noSDKRetry)
		})
		if err != nil {
			m.writeLim.Adjust(0, reserved)
			return err
		}
		m.writeLim.Adjust(consumedUnits(out.ConsumedCapacity), reserved)
		next := out.UnprocessedItems[table]
		if len(next) == 0 {
			return nil
		}
		if len(next) < len(pending) {
			lastProgress, attempt = time.Now(), 0
		} else {
			attempt++
		}
		if time.Since(lastProgress) > maxUnprocessedWait {
			return fmt.Errorf("BatchWriteItem target %s: %d items still unprocessed after %s without progress; the run stops here and resumes from its last checkpoint", table, len(next), maxUnprocessedWait)
		}
		m.unprocessed.Add(int64(len(next)))
		pending = next
		if err := sleepCtx(ctx, backoff(attempt, maxBackoff)); err != nil {
			return err
		}
	}
	return nil
}

// acquire takes a slot of sem (writeSem for BatchWriteItem calls).
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Migration) chargeWrite(ccs ...types.ConsumedCapacity) { charge(m.writeLim, ccs) }
func (m *Migration) chargeRead(ccs ...types.ConsumedCapacity)  { charge(m.readLim, ccs) }

func charge(l *rateLimiter, ccs []types.ConsumedCapacity) {
	for _, cc := range ccs {
		if cc.CapacityUnits != nil {
			l.Charge(*cc.CapacityUnits)
		}
	}
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}
