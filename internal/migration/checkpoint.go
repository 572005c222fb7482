package migration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// Checkpoint table layout: partition key "migration" (the migration id), sort
// key "entry":
//
//	config          the stored Config and its fingerprint
//	state           generation, phase, pinned stream ARN, capture time, estimate, error, verification
//	segment#0000007 generation, ExclusiveStartKey ("lastKey"), done, items copied, lease
//	shard#<id>      generation, parent, last applied sequence number ("seq"), done (finished), records applied, lease
//	retired         left by Forget: when the last write of the forgotten migration could still land
//
// Every write is conditional: leases by owner and expiry, progress only by the
// lease holder, phase changes only from the expected phase, and all of them
// only within the migration's generation. A generation is chosen when the state
// entry is created; a migration that is forgotten and started again (terraform
// apply -replace) gets a newer one, so a runner of the old one can neither
// create nor change an entry of the new one.
const (
	attrMigration = "migration"
	attrEntry     = "entry"
	entryConfig   = "config"
	entryState    = "state"
	entryRetired  = "retired"
	attrGen       = "gen"
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

// ErrMigrationReplaced is returned to a worker whose migration was forgotten, or
// forgotten and started again with other settings, while it ran.
var ErrMigrationReplaced = errors.New("migration was forgotten or replaced")

// newGeneration returns a generation id that sorts after every earlier one
// (hex milliseconds, then randomness).
func newGeneration(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%012x-%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

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
	// reqTimeout bounds every request's life (Config.RequestTimeout).
	reqTimeout time.Duration
	log        Logger
	now        func() time.Time
	gen        atomic.Value // string: the generation this worker works for
	leasesLost atomic.Int64 // leases this worker lost (not renewed in time, or taken)
	leasesHeld atomic.Int64 // leases this worker holds now (acquired, not yet released)
}

func (s *store) generation() string {
	g, _ := s.gen.Load().(string)
	return g
}

// ours reports whether an entry belongs to this worker's generation.
func (s *store) ours(it Item) bool { return sOf(it[attrGen]) == s.generation() }

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

// fresh reports whether the migration has no state entry yet (or no checkpoint
// table at all). It creates nothing.
func (s *store) fresh(ctx context.Context) (bool, error) {
	_, err := s.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	if isNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("describing checkpoint table %s: %w", s.table, err)
	}
	st, err := s.get(ctx, entryState)
	return st == nil, err
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
		for _, it := range out.Items {
			// Entries of another generation (left by a runner of a forgotten
			// migration) are not this migration's progress.
			if prefix == "" || s.ours(it) {
				items = append(items, it)
			}
		}
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
	// old returns the item as it was before the update instead of after.
	old bool
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
	if u.old {
		in.ReturnValues = types.ReturnValueAllOld
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
	values[":gen"] = sAV(s.generation())
	_, ok, err := s.update(ctx, entryState, update{
		set:    set,
		cond:   "#gen = :gen AND (" + strings.Join(conds, " OR ") + ")",
		names:  map[string]string{"#phase": "phase", "#gen": attrGen},
		values: values,
	})
	return ok, err
}

// updateState changes the state entry of this generation; ok is false when
// the migration was forgotten or replaced meanwhile (nothing is written then).
func (s *store) updateState(ctx context.Context, set Item) (bool, error) {
	_, ok, err := s.update(ctx, entryState, update{
		set: set, cond: "#gen = :gen",
		names: map[string]string{"#gen": attrGen}, values: Item{":gen": sAV(s.generation())},
	})
	return ok, err
}

// initEntry creates a segment or shard entry for this generation unless it
// exists for it already; an entry of an older generation is replaced. It
// writes only while the state entry still carries this generation (one
// transaction), so a runner of a forgotten migration cannot create entries
// that the new one would trust. It reports whether it wrote.
func (s *store) initEntry(ctx context.Context, entry string, item Item) (bool, error) {
	full := s.key(entry)
	for k, v := range item {
		full[k] = v
	}
	gen := s.generation()
	full[attrGen] = sAV(gen)
	names := map[string]string{"#g": attrGen}
	values := Item{":g": sAV(gen)}
	_, err := call(ctx, s.log, "TransactWriteItems checkpoint", func(ctx context.Context) (*dynamodb.TransactWriteItemsOutput, error) {
		return s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: s.key(entryState),
				ConditionExpression: aws.String("#g = :g"), ExpressionAttributeNames: names, ExpressionAttributeValues: values}},
			{Put: &types.Put{TableName: &s.table, Item: full,
				ConditionExpression: aws.String("attribute_not_exists(#g) OR #g < :g"), ExpressionAttributeNames: names, ExpressionAttributeValues: values}},
		}}, noSDKRetry)
	})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		reasons := tc.CancellationReasons
		if len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
			return false, fmt.Errorf("%s: %w", entry, ErrMigrationReplaced)
		}
		if len(reasons) > 1 && aws.ToString(reasons[1].Code) == "ConditionalCheckFailed" {
			return false, nil
		}
	}
	return err == nil, err
}

// lease is a held claim on one segment or shard entry, and the fence for every
// request made under it. A goroutine renews it every third of its duration. If
// renewal fails or cannot finish a third of a lease before expiry, ctx is
// cancelled with errLeaseLost. Every request made with ctx (see call) is
// checked against the lease before it is sent and carries a deadline at the
// lease's safety margin (a third of a lease before expiry, left for clock skew
// between workers), so no request is in flight after the lease could have
// expired. A new owner waits out the longest request lifetime
// (Config.RequestTimeout) past the previous lease before its first write.
type lease struct {
	s     *store
	entry string
	until atomic.Int64 // unix ms
	// notBefore is when the first write may be sent (unix ms): the previous
	// holder's requests, or this holder's abandoned ones, may land until then.
	notBefore atomic.Int64
	// abandoned is when a request of this holder was last given up in flight
	// (unix ms); release records it so that the next owner waits it out.
	abandoned atomic.Int64
	ctx       context.Context
	cancel    context.CancelCauseFunc
	wg        sync.WaitGroup
}

type leaseKey struct{}

// leaseOf returns the lease whose ctx (or a context derived from it) ctx is.
func leaseOf(ctx context.Context) *lease {
	l, _ := ctx.Value(leaseKey{}).(*lease)
	return l
}

// acquire claims entry if it is free, expired or already ours, not done, and of
// this generation. It returns nil (no error) when another live owner holds it,
// it is done, or it does not exist for this generation.
func (s *store) acquire(ctx context.Context, entry string, init Item) (*lease, Item, error) {
	now := s.now()
	until := now.Add(s.lease).UnixMilli()
	set := Item{"owner": sAV(s.owner), "leaseUntil": nAV(until)}
	for k, v := range init {
		set[k] = v
	}
	old, ok, err := s.update(ctx, entry, update{
		set: set,
		cond: "#gen = :gen AND (attribute_not_exists(#owner) OR #until < :now OR #owner = :me) AND " +
			"(attribute_not_exists(#done) OR #done = :false)",
		names:  map[string]string{"#owner": "owner", "#until": "leaseUntil", "#done": "done", "#gen": attrGen},
		values: Item{":now": nAV(now.UnixMilli()), ":me": sAV(s.owner), ":false": &types.AttributeValueMemberBOOL{Value: false}, ":gen": sAV(s.generation())},
		old:    true,
	})
	if err != nil || !ok {
		return nil, nil, err
	}
	item := make(Item, len(old)+len(set))
	for k, v := range old {
		item[k] = v
	}
	for k, v := range set {
		item[k] = v
	}
	l := &lease{s: s, entry: entry}
	l.until.Store(until)
	// The previous holder's requests end at its lease's safety margin; one may
	// still be applied by the server up to a request lifetime later. A released
	// lease carries the end of its abandoned requests' lives instead.
	fence := intOf(old["fenceUntil"])
	if prev := sOf(old["owner"]); prev != "" && prev != s.owner {
		fence = max(fence, intOf(old["leaseUntil"])+s.reqTimeout.Milliseconds())
	}
	l.notBefore.Store(fence)
	s.leasesHeld.Add(1)
	l.ctx, l.cancel = context.WithCancelCause(context.WithValue(ctx, leaseKey{}, l))
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
		_, err := l.save(l.ctx, update{})
		if err != nil {
			if l.ctx.Err() == nil {
				l.s.log.Warn("lease renewal failed; stopping work on it", "entry", l.entry, "error", err.Error())
				l.lose(fmt.Errorf("%s: %w", l.entry, errLeaseLost))
			}
			return
		}
	}
}

// check ends the lease if its safety margin has passed without a renewal (the
// process was paused, or the checkpoint table unreachable).
func (l *lease) check() error {
	if time.Now().After(l.margin()) {
		l.lose(fmt.Errorf("%s: not renewed in time: %w", l.entry, errLeaseLost))
	}
	return context.Cause(l.ctx)
}

// lose ends the lease for cause (once).
func (l *lease) lose(cause error) {
	if l.ctx.Err() == nil {
		l.s.leasesLost.Add(1)
	}
	l.cancel(cause)
}

// bound prepares one request under the lease: it fails once the lease is gone,
// and returns ctx with a deadline at the lease's safety margin.
func (l *lease) bound(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := l.check(); err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithDeadline(ctx, l.margin())
	return rctx, cancel, nil
}

// awaitFence waits, before a write, until the writes that the previous holder
// (or this holder) abandoned in flight can no longer land.
func (l *lease) awaitFence(ctx context.Context) error {
	for {
		wait := time.Until(time.UnixMilli(max(l.notBefore.Load(), l.abandoned.Load()+l.s.reqTimeout.Milliseconds())))
		if wait <= 0 {
			return l.check()
		}
		l.s.log.Debug("waiting for abandoned writes to expire before writing", "entry", l.entry, "wait", wait.String())
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// abandon records that a request was given up before its answer arrived: the
// server may still apply it for up to a request lifetime.
func (l *lease) abandon(at time.Time) {
	for {
		prev := l.abandoned.Load()
		if at.UnixMilli() <= prev || l.abandoned.CompareAndSwap(prev, at.UnixMilli()) {
			return
		}
	}
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
	u.cond = "#owner = :me AND #gen = :gen"
	u.names = map[string]string{"#owner": "owner", "#gen": attrGen}
	u.values = Item{":me": sAV(l.s.owner), ":gen": sAV(l.s.generation())}
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
// unreleased lease simply expires). If a request was abandoned in flight, the
// entry records when it can no longer land, and the next owner waits for that.
func (l *lease) release() {
	l.cancel(context.Canceled)
	l.wg.Wait()
	defer l.s.leasesHeld.Add(-1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := update{
		remove: []string{"owner", "leaseUntil"},
		cond:   "#owner = :me AND #gen = :gen",
		names:  map[string]string{"#owner": "owner", "#gen": attrGen},
		values: Item{":me": sAV(l.s.owner), ":gen": sAV(l.s.generation())},
	}
	if a := l.abandoned.Load(); a > 0 {
		u.set = Item{"fenceUntil": nAV(a + l.s.reqTimeout.Milliseconds())}
	}
	_, _, err := l.s.update(ctx, l.entry, u)
	if err != nil {
		l.s.log.Debug("releasing lease", "entry", l.entry, "error", err.Error())
	}
}

// retire deletes every entry of the migration and records, in the retired
// entry, when the last request of a lease that was held at deletion could still
// land: a deleted entry can no longer be renewed, so its holder stops within its
// safety margin, and its requests are gone a request lifetime after that.
func (s *store) retire(ctx context.Context) error {
	items, err := s.list(ctx, "")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	fence := int64(0)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, it := range items {
		entry := sOf(it[attrEntry])
		if entry == entryRetired {
			continue
		}
		g.Go(func() error {
			out, err := call(gctx, s.log, "DeleteItem checkpoint", func(ctx context.Context) (*dynamodb.DeleteItemOutput, error) {
				return s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: s.key(entry), ReturnValues: types.ReturnValueAllOld}, noSDKRetry)
			})
			if err != nil {
				return err
			}
			old := out.Attributes
			f := intOf(old["fenceUntil"])
			if sOf(old["owner"]) != "" {
				f = max(f, intOf(old["leaseUntil"])+s.reqTimeout.Milliseconds())
			}
			mu.Lock()
			fence = max(fence, f)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if fence <= s.now().UnixMilli() {
		_, err := call(ctx, s.log, "DeleteItem checkpoint", func(ctx context.Context) (*dynamodb.DeleteItemOutput, error) {
			return s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: s.key(entryRetired)}, noSDKRetry)
		})
		return err
	}
	full := s.key(entryRetired)
	full["fenceUntil"] = nAV(fence)
	_, err = call(ctx, s.log, "PutItem checkpoint", func(ctx context.Context) (*dynamodb.PutItemOutput, error) {
		return s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: full}, noSDKRetry)
	})
	return err
}

func shardFromItem(it Item) shardCheckpoint {
	return shardCheckpoint{
		ID:       strings.TrimPrefix(sOf(it[attrEntry]), prefixShard),
		Parent:   sOf(it["parent"]),
		Seq:      sOf(it["seq"]),
		Finished: boolOf(it["done"]),
		SeenAt:   intOf(it["seenAt"]),
		DoneAt:   intOf(it["doneAt"]),
		Owner:    sOf(it["owner"]),
		LeaseMs:  intOf(it["leaseUntil"]),
		Applied:  intOf(it["applied"]),
		LastMs:   intOf(it["lastMs"]),
	}
}
