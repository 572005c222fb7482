package migration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// maxSampleKeys bounds the mismatched keys a Report carries.
const maxSampleKeys = 20

// Report is the result of Verify.
type Report struct {
	Mode        VerifyMode
	CheckedAt   time.Time
	SourceItems int64
	TargetItems int64
	// Full mode only: items missing from the target, present in the target
	// without a source item, or present in both with different values.
	Missing, Extra, Different int64
	Mismatched                int64 // Missing + Extra + Different
	// SampleMismatchedKeys shows a few keys (target key form) with their kind.
	SampleMismatchedKeys []string
}

// Verify compares source and target. VerifyFull reads every source item,
// applies the transform and compares it canonically with the target item of the
// same key (sets unordered, numbers as decimals, binary exact), then counts the
// target and, when the counts show extra target items, finds a sample of them.
// VerifyCount compares item counts from full Scans (never ItemCount, which lags
// by hours). The report is stored in the checkpoint table.
func (m *Migration) Verify(ctx context.Context, mode VerifyMode) (Report, error) {
	if err := m.prepare(ctx); err != nil {
		return Report{}, err
	}
	rep := Report{Mode: mode, CheckedAt: time.Now()}
	var err error
	switch mode {
	case VerifyCount:
		if rep.SourceItems, err = m.count(ctx, m.src, m.cfg.Source.Table); err != nil {
			return rep, err
		}
		if rep.TargetItems, err = m.count(ctx, m.dst, m.cfg.Target.Table); err != nil {
			return rep, err
		}
	case VerifyFull:
		if err := m.compareForward(ctx, &rep); err != nil {
			return rep, err
		}
		if rep.TargetItems, err = m.count(ctx, m.dst, m.cfg.Target.Table); err != nil {
			return rep, err
		}
		if present := rep.SourceItems - rep.Missing; rep.TargetItems > present {
			rep.Extra = rep.TargetItems - present
			m.sampleExtra(ctx, &rep)
		}
		rep.Mismatched = rep.Missing + rep.Extra + rep.Different
	default:
		return rep, fmt.Errorf("unknown verify mode %q", mode)
	}
	m.log.Info("verification done", "id", m.cfg.ID, "mode", string(mode), "source_items", rep.SourceItems,
		"target_items", rep.TargetItems, "mismatched", rep.Mismatched)
	if ok, err := m.st.updateState(ctx, Item{"verification": &types.AttributeValueMemberM{Value: rep.item()}}); err != nil || !ok {
		return rep, errors.Join(err, m.replacedUnless(ok))
	}
	return rep, nil
}

func (m *Migration) verifySegments() int { return max(1, m.cfg.Parallelism) }

// scanAll runs a parallel consistent Scan and hands every page to fn.
func (m *Migration) scanAll(ctx context.Context, c DynamoDBAPI, table string, in dynamodb.ScanInput, fn func(context.Context, *dynamodb.ScanOutput) error) error {
	segs := m.verifySegments()
	g, gctx := errgroup.WithContext(ctx)
	for seg := 0; seg < segs; seg++ {
		g.Go(func() error {
			req := in
			req.TableName = &table
			req.Segment, req.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(segs))
			req.ConsistentRead = aws.Bool(true)
			req.ReturnConsumedCapacity = m.readLim.capacity()
			for {
				if err := m.readLim.Wait(gctx); err != nil {
					return err
				}
				out, err := call(gctx, m.log, "Scan "+table, func(ctx context.Context) (*dynamodb.ScanOutput, error) {
					return c.Scan(ctx, &req, noSDKRetry)
				})
				if err != nil {
					return err
				}
				m.chargeRead(one(out.ConsumedCapacity)...)
				if err := fn(gctx, out); err != nil {
					return err
				}
				if out.LastEvaluatedKey == nil {
					return nil
				}
				req.ExclusiveStartKey = out.LastEvaluatedKey
			}
		})
	}
	return g.Wait()
}

func (m *Migration) count(ctx context.Context, c DynamoDBAPI, table string) (int64, error) {
	var mu sync.Mutex
	var n int64
	err := m.scanAll(ctx, c, table, dynamodb.ScanInput{Select: types.SelectCount}, func(_ context.Context, out *dynamodb.ScanOutput) error {
		mu.Lock()
		n += int64(out.Count)
		mu.Unlock()
		return nil
	})
	return n, err
}

func (m *Migration) compareForward(ctx context.Context, rep *Report) error {
	var mu sync.Mutex
	return m.scanAll(ctx, m.src, m.cfg.Source.Table, dynamodb.ScanInput{}, func(ctx context.Context, out *dynamodb.ScanOutput) error {
		items := out.Items
		want := make(map[string]Item, len(items))
		keys := make([]Item, 0, len(items))
		for _, it := range items {
			t, err := m.cfg.Transform.Apply(it)
			if err != nil {
				return err
			}
			k := project(t, m.dstKey)
			want[keyString(k, m.dstKey)] = t
			keys = append(keys, k)
		}
		got, err := m.batchGet(ctx, m.dst, m.cfg.Target.Table, keys, m.dstKey, "")
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		rep.SourceItems += int64(len(items))
		for _, k := range sortedKeys(want) {
			g, ok := got[k]
			switch {
			case !ok:
				rep.Missing++
				rep.sample("missing in target: " + k)
			case !ItemsEqual(want[k], g):
				rep.Different++
				rep.sample("different: " + k)
			}
		}
		return nil
	})
}

// sampleExtra looks for target items without a source item, when the
// transform lets target keys be traced back to source keys.
func (m *Migration) sampleExtra(ctx context.Context, rep *Report) {
	inv, ok := m.cfg.Transform.inverseKey(m.dstKey)
	if !ok {
		rep.sample(fmt.Sprintf("%d extra items in target (keys not traceable through the transform)", rep.Extra))
		return
	}
	var mu sync.Mutex
	err := m.scanAll(ctx, m.dst, m.cfg.Target.Table, dynamodb.ScanInput{
		ProjectionExpression: aws.String(projection(m.dstKey)), ExpressionAttributeNames: projectionNames(m.dstKey),
	}, func(ctx context.Context, out *dynamodb.ScanOutput) error {
		items := out.Items
		keys := make([]Item, len(items))
		tkeyOf := map[string]string{}
		for i, it := range items {
			sk := Item{}
			for tname, sname := range inv {
				sk[sname] = it[tname]
			}
			keys[i] = sk
			tkeyOf[keyString(sk, m.srcKey)] = keyString(it, m.dstKey)
		}
		got, err := m.batchGet(ctx, m.src, m.cfg.Source.Table, keys, m.srcKey, projection(m.srcKey))
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, sk := range sortedKeys(tkeyOf) {
			if _, ok := got[sk]; !ok {
				rep.sample("extra in target: " + tkeyOf[sk])
			}
		}
		return nil
	})
	if err != nil {
		m.log.Warn("sampling extra target items failed", "error", err.Error())
	}
}

// batchGet reads keys (consistent) and returns the items by keyString.
func (m *Migration) batchGet(ctx context.Context, c DynamoDBAPI, table string, keys []Item, keyNames []string, proj string) (map[string]Item, error) {
	out := make(map[string]Item, len(keys))
	for len(keys) > 0 {
		n := min(100, len(keys))
		ka := types.KeysAndAttributes{Keys: keys[:n], ConsistentRead: aws.Bool(true)}
		if proj != "" {
			ka.ProjectionExpression = &proj
			ka.ExpressionAttributeNames = projectionNames(keyNames)
		}
		keys = keys[n:]
		pending := map[string]types.KeysAndAttributes{table: ka}
		for attempt := 0; len(pending) > 0; attempt++ {
			if err := m.readLim.Wait(ctx); err != nil {
				return nil, err
			}
			res, err := call(ctx, m.log, "BatchGetItem "+table, func(ctx context.Context) (*dynamodb.BatchGetItemOutput, error) {
				return c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending, ReturnConsumedCapacity: m.readLim.capacity()}, noSDKRetry)
			})
			if err != nil {
				return nil, err
			}
			m.chargeRead(res.ConsumedCapacity...)
			for _, it := range res.Responses[table] {
				out[keyString(it, keyNames)] = it
			}
			pending = res.UnprocessedKeys
			if len(pending) > 0 {
				if err := sleepCtx(ctx, backoff(attempt, maxBackoff)); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func (r *Report) sample(s string) {
	if len(r.SampleMismatchedKeys) < maxSampleKeys {
		r.SampleMismatchedKeys = append(r.SampleMismatchedKeys, s)
	}
}

func (r Report) item() Item {
	keys := make([]types.AttributeValue, len(r.SampleMismatchedKeys))
	for i, k := range r.SampleMismatchedKeys {
		keys[i] = sAV(k)
	}
	return Item{
		"mode": sAV(string(r.Mode)), "checkedAt": nAV(r.CheckedAt.UnixMilli()),
		"sourceItems": nAV(r.SourceItems), "targetItems": nAV(r.TargetItems),
		"missing": nAV(r.Missing), "extra": nAV(r.Extra), "different": nAV(r.Different),
		"mismatched": nAV(r.Mismatched), "sample": &types.AttributeValueMemberL{Value: keys},
	}
}

func reportFromItem(it Item) Report {
	r := Report{
		Mode: VerifyMode(sOf(it["mode"])), CheckedAt: time.UnixMilli(intOf(it["checkedAt"])),
		SourceItems: intOf(it["sourceItems"]), TargetItems: intOf(it["targetItems"]),
		Missing: intOf(it["missing"]), Extra: intOf(it["extra"]), Different: intOf(it["different"]),
		Mismatched: intOf(it["mismatched"]),
	}
	if l, ok := it["sample"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			r.SampleMismatchedKeys = append(r.SampleMismatchedKeys, sOf(v))
		}
	}
	return r
}
