package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The replicator of a global table reads every member's stream from DynamoDB
// Local and applies each change to the other members after the replication delay.
//
// Ordering is last writer wins by the time the front observed a change: a change
// is applied only while it is still the newest one seen for its key, and the
// destination's stream is read just before applying, so a newer local write there
// wins. The replicator's own writes are recognised in the destination's stream
// (expected "echoes") and never replicated back.

type change struct {
	keyStr  string
	keys    map[string]json.RawMessage
	image   map[string]json.RawMessage // nil: delete
	origin  string
	ts      time.Time // when the write happened, for last writer wins
	pending int
}

type delivery struct {
	c      *change
	region string
	due    time.Time
}

type streamReader struct {
	arn    string
	shards map[string]*shardCursor
	listed time.Time
}

type shardCursor struct {
	iter   string
	closed bool
	// lastSeq is the sequence number of the last record read (for reopenTrimmed).
	lastSeq string
}

type streamRecord struct {
	EventName string `json:"eventName"`
	Dynamodb  struct {
		Keys           map[string]json.RawMessage `json:"Keys"`
		NewImage       map[string]json.RawMessage `json:"NewImage"`
		OldImage       map[string]json.RawMessage `json:"OldImage"`
		SequenceNumber string                     `json:"SequenceNumber"`
	} `json:"dynamodb"`
}

type replicator struct {
	s       *Server
	g       *group
	readers map[string]*streamReader
	echoes  map[string][]string
	winners map[string]*change
	queue   []*delivery
	delay   time.Duration
	active  bool // a record was read in this step
}

// memberState is a replicator's snapshot of a member, taken under the lock.
type memberState struct {
	status string
	copied bool
}

// startReplicator starts a global table's replicator. The streams of regions are
// opened (at their end) before it returns, so no write made after the call that
// created the global table is missed.
func (s *Server) startReplicator(ctx context.Context, g *group, regions ...string) {
	r := &replicator{s: s, g: g, readers: map[string]*streamReader{}, echoes: map[string][]string{}, winners: map[string]*change{}}
	for _, region := range regions {
		if sr := r.newReader(ctx, region, true); sr != nil {
			r.readers[region] = sr
		}
	}
	s.backgroundWG.Add(1)
	go func() {
		defer s.backgroundWG.Done()
		defer close(g.done)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-g.stop; cancel() }()
		// Poll at PollInterval while there is traffic, slowing to 5x when idle.
		wait := s.opts.PollInterval
		t := time.NewTimer(wait)
		defer t.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-t.C:
			}
			busy := r.step(ctx)
			if busy {
				wait = s.opts.PollInterval
			} else {
				wait = min(wait*2, 5*s.opts.PollInterval)
			}
			g.stepMu.Lock()
			g.steps++
			g.idleRun++
			if busy {
				g.idleRun = 0
			}
			g.stepMu.Unlock()
			t.Reset(wait)
		}
	}()
}

// step runs one round: status changes, copies, stream reads and deliveries. It
// reports whether anything happened or is pending.
func (r *replicator) step(ctx context.Context) bool {
	s, g := r.s, r.g
	r.active = false
	now := time.Now()
	var toCopy []*member
	// Replica tables leave DynamoDB Local before the replica leaves Replicas[], so a
	// create right after the replica is gone never meets the old table.
	var failing, leaving []*member
	s.mu.Lock()
	if g.stopped {
		s.mu.Unlock()
		return false
	}
	for _, m := range g.members {
		switch m.status {
		case statusCreating:
			if m.failDesc != "" {
				if !now.Before(m.due) {
					failing = append(failing, m)
				}
				continue
			}
			if !m.copied && m.source != "" {
				toCopy = append(toCopy, m)
				m.source = "" // copy started
			}
			if m.copied && !now.Before(m.due) {
				m.status = statusActive
				s.replicaOps--
				s.metaLocked(m.region, g.name).activeAt = now
			}
		case statusUpdating:
			if !now.Before(m.due) {
				m.status = statusActive
			}
		case statusDeleting:
			if !now.Before(m.due) {
				leaving = append(leaving, m)
			}
		}
	}
	s.mu.Unlock()

	for _, m := range append(failing, leaving...) {
		// Not cancelled with the group: removing the last replica dissolves the group,
		// and its table must still go.
		_ = s.ddb(context.WithoutCancel(ctx), m.region, "DeleteTable", map[string]string{"TableName": g.name}, nil)
		delete(r.readers, m.region)
	}

	s.mu.Lock()
	for _, m := range failing {
		if g.members[m.region] == m {
			m.status, m.statusDesc = statusCreationFailed, m.failDesc
			s.replicaOps--
		}
	}
	for _, m := range leaving {
		if g.members[m.region] == m {
			delete(g.members, m.region)
			s.replicaOps--
			delete(s.meta, tableKey{m.region, g.name})
		}
	}
	dissolve := !g.stopped && g.version == versionCurrent && len(g.members) < 2
	if dissolve {
		delete(s.groups, g.name)
		s.groupCount.Store(int32(len(s.groups)))
		g.signalStop()
	}
	states := map[string]memberState{}
	for region, m := range g.members {
		states[region] = memberState{m.status, m.copied}
	}
	version := g.version
	r.delay = s.delays.Replication
	s.mu.Unlock()

	if dissolve {
		return false
	}
	for region := range r.readers {
		if st, ok := states[region]; !ok || st.status == statusDeleting || st.status == statusCreationFailed {
			delete(r.readers, region)
		}
	}
	for _, m := range toCopy {
		r.copyInto(ctx, m, states, version)
		states[m.region] = memberState{statusCreating, true}
	}
	for region, st := range states {
		if readable(st) {
			r.read(ctx, region, states, version)
		}
	}
	r.deliver(ctx, states, version)
	busy := false
	for _, st := range states {
		busy = busy || st.status == statusCreating || st.status == statusDeleting || st.status == statusUpdating
	}
	return r.active || busy || len(r.queue) > 0 || len(toCopy) > 0
}

func readable(st memberState) bool {
	return st.copied && st.status != statusDeleting && st.status != statusCreationFailed
}

// copyInto fills a new replica with the existing items. Readers of the other
// members start first, so writes made during the copy are replicated after it.
func (r *replicator) copyInto(ctx context.Context, m *member, states map[string]memberState, version string) {
	var from string
	for region, st := range states {
		if readable(st) && region != m.region {
			if r.readers[region] == nil {
				r.read(ctx, region, states, version)
			}
			if from == "" || region < from {
				from = region
			}
		}
	}
	if from != "" {
		if err := r.s.copyTable(ctx, r.g.name, from, m.region); err != nil {
			r.s.logf("copying %s from %s to %s: %v", r.g.name, from, m.region, err)
		}
	}
	r.readers[m.region] = r.newReader(ctx, m.region, true)
	r.s.mu.Lock()
	m.copied = true
	r.s.mu.Unlock()
}

func (s *Server) copyTable(ctx context.Context, table, from, to string) *apiError {
	var start map[string]json.RawMessage
	for {
		in := map[string]any{"TableName": table, "ConsistentRead": true}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		var out struct {
			Items            []map[string]json.RawMessage `json:"Items"`
			LastEvaluatedKey map[string]json.RawMessage   `json:"LastEvaluatedKey"`
		}
		if e := s.ddb(ctx, from, "Scan", in, &out); e != nil {
			return e
		}
		for i := 0; i < len(out.Items); i += 25 {
			var reqs []any
			for _, it := range out.Items[i:min(i+25, len(out.Items))] {
				reqs = append(reqs, map[string]any{"PutRequest": map[string]any{"Item": it}})
			}
			if e := s.batchWrite(ctx, to, table, reqs); e != nil {
				return e
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

func (s *Server) batchWrite(ctx context.Context, region, table string, reqs []any) *apiError {
	items := map[string]any{table: reqs}
	for attempt := 0; ; attempt++ {
		var out struct {
			UnprocessedItems map[string][]json.RawMessage `json:"UnprocessedItems"`
		}
		if e := s.ddb(ctx, region, "BatchWriteItem", map[string]any{"RequestItems": items}, &out); e != nil {
			return e
		}
		if len(out.UnprocessedItems) == 0 || attempt > 50 {
			return nil
		}
		items = map[string]any{}
		for t, v := range out.UnprocessedItems {
			items[t] = v
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newReader opens a member's stream, at its end (latest) or its start.
func (r *replicator) newReader(ctx context.Context, region string, latest bool) *streamReader {
	var desc struct {
		Table tableDesc `json:"Table"`
	}
	if e := r.s.ddb(ctx, region, "DescribeTable", map[string]string{"TableName": r.g.name}, &desc); e != nil || desc.Table.LatestStreamArn == "" {
		return nil
	}
	sr := &streamReader{arn: desc.Table.LatestStreamArn, shards: map[string]*shardCursor{}}
	r.listShards(ctx, region, sr, latest)
	return sr
}

func (r *replicator) listShards(ctx context.Context, region string, sr *streamReader, latest bool) {
	var out struct {
		StreamDescription struct {
			Shards []struct {
				ShardID             string `json:"ShardId"`
				SequenceNumberRange struct {
					EndingSequenceNumber string `json:"EndingSequenceNumber"`
				} `json:"SequenceNumberRange"`
			} `json:"Shards"`
		} `json:"StreamDescription"`
	}
	if e := r.s.ddb(ctx, region, "Streams.DescribeStream", map[string]string{"StreamArn": sr.arn}, &out); e != nil {
		return
	}
	sr.listed = time.Now()
	for _, sh := range out.StreamDescription.Shards {
		if sr.shards[sh.ShardID] != nil {
			continue
		}
		closed := sh.SequenceNumberRange.EndingSequenceNumber != ""
		if latest && closed {
			sr.shards[sh.ShardID] = &shardCursor{closed: true}
			continue
		}
		typ := "TRIM_HORIZON"
		if latest {
			typ = "LATEST"
		}
		var it struct {
			ShardIterator string `json:"ShardIterator"`
		}
		if e := r.s.ddb(ctx, region, "Streams.GetShardIterator", map[string]string{"StreamArn": sr.arn, "ShardId": sh.ShardID, "ShardIteratorType": typ}, &it); e != nil {
			continue
		}
		sr.shards[sh.ShardID] = &shardCursor{iter: it.ShardIterator}
	}
}

// read drains a member's stream and turns new records into deliveries.
func (r *replicator) read(ctx context.Context, region string, states map[string]memberState, version string) {
	sr := r.readers[region]
	if sr == nil {
		sr = r.newReader(ctx, region, true)
		if sr == nil {
			return
		}
		r.readers[region] = sr
		return
	}
	if time.Since(sr.listed) > 500*time.Millisecond {
		r.listShards(ctx, region, sr, false)
	}
	ids := make([]string, 0, len(sr.shards))
	for id := range sr.shards {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		cur := sr.shards[id]
		for page := 0; !cur.closed && page < 20; page++ {
			var out struct {
				Records           []streamRecord `json:"Records"`
				NextShardIterator *string        `json:"NextShardIterator"`
			}
			if e := r.s.ddb(ctx, region, "Streams.GetRecords", map[string]string{"ShardIterator": cur.iter}, &out); e != nil {
				if e.Code == "ResourceNotFoundException" {
					delete(r.readers, region)
				}
				if e.Code == "TrimmedDataAccessException" {
					r.reopenTrimmed(ctx, region, sr.arn, id, cur)
				}
				return
			}
			for i := range out.Records {
				seq := out.Records[i].Dynamodb.SequenceNumber
				if cur.lastSeq != "" && !seqAfter(seq, cur.lastSeq) {
					continue // read before the cursor was reopened
				}
				cur.lastSeq = seq
				r.observe(ctx, region, &out.Records[i], states, version)
			}
			r.active = r.active || len(out.Records) > 0
			if out.NextShardIterator == nil {
				cur.closed = true
			} else {
				cur.iter = *out.NextShardIterator
			}
			if len(out.Records) == 0 {
				break
			}
		}
	}
}

// reopenTrimmed gives a shard a new iterator after DynamoDB Local refused the old
// one with TrimmedDataAccessException. DynamoDB Local does so for a LATEST iterator
// of a table once another table of the same Region (its database) enables a
// stream: the iterator is never readable again. The shard is read again from the
// last record seen (or from its start), records already seen being skipped.
func (r *replicator) reopenTrimmed(ctx context.Context, region, arn, shard string, cur *shardCursor) {
	in := map[string]string{"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
	if cur.lastSeq != "" {
		in["ShardIteratorType"], in["SequenceNumber"] = "AFTER_SEQUENCE_NUMBER", cur.lastSeq
	}
	var it struct {
		ShardIterator string `json:"ShardIterator"`
	}
	if e := r.s.ddb(ctx, region, "Streams.GetShardIterator", in, &it); e != nil {
		delete(in, "SequenceNumber")
		in["ShardIteratorType"] = "TRIM_HORIZON"
		if e := r.s.ddb(ctx, region, "Streams.GetShardIterator", in, &it); e != nil {
			r.s.logf("reopening shard %s of %s in %s: %v", shard, r.g.name, region, e)
			return
		}
	}
	cur.iter = it.ShardIterator
}

// seqAfter reports whether sequence number a comes after b (decimal strings).
func seqAfter(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

func (r *replicator) observe(ctx context.Context, region string, rec *streamRecord, states map[string]memberState, version string) {
	keyStr := canonical(rec.Dynamodb.Keys)
	if rec.EventName != "REMOVE" && rec.Dynamodb.NewImage == nil {
		// A stream without new images (KEYS_ONLY, OLD_IMAGE): AWS replicates whatever the
		// table's view type, so the item is read as it is now. Gone since: its REMOVE
		// record follows, nothing to do for this one.
		item, ok := r.currentItem(ctx, region, rec.Dynamodb.Keys)
		if !ok {
			return
		}
		rec.Dynamodb.NewImage = item
	}
	h := "REMOVE"
	if rec.EventName != "REMOVE" {
		h = canonical(rec.Dynamodb.NewImage)
	}
	ek := region + "\x00" + keyStr
	if q := r.echoes[ek]; len(q) > 0 && q[0] == h {
		if len(q) == 1 {
			delete(r.echoes, ek)
		} else {
			r.echoes[ek] = q[1:]
		}
		return
	}
	if version == versionLegacy && rec.EventName == "MODIFY" && onlyReplicationAttrsDiffer(rec.Dynamodb.OldImage, rec.Dynamodb.NewImage) {
		return // the stamping write or the first phase of a replicated delete
	}
	ts := r.s.writeTime(region, r.g.name, keyStr)
	if ts.IsZero() {
		ts = time.Now()
	}
	if w := r.winners[keyStr]; w != nil && w.origin != region && w.ts.After(ts) {
		return // an older write, superseded by one from another Region
	}
	// A replicated write still to echo here means it landed after this local
	// write and overwrote it: the local write, being newer, goes back here too.
	overwritten := len(r.echoes[ek]) > 0
	c := &change{keyStr: keyStr, keys: rec.Dynamodb.Keys, origin: region, ts: ts}
	if rec.EventName != "REMOVE" {
		c.image = rec.Dynamodb.NewImage
		if version == versionLegacy {
			c.image = r.stamp(ctx, region, rec)
		}
	}
	r.winners[keyStr] = c
	due := time.Now().Add(r.delay)
	for other, st := range states {
		if (other == region && !overwritten) || st.status == statusDeleting || st.status == statusCreationFailed {
			continue
		}
		c.pending++
		r.queue = append(r.queue, &delivery{c: c, region: other, due: due})
	}
	if c.pending == 0 {
		delete(r.winners, keyStr)
	}
}

// currentItem reads an item of the global table in region (strongly consistent);
// ok is false when it is absent or cannot be read.
func (r *replicator) currentItem(ctx context.Context, region string, keys map[string]json.RawMessage) (map[string]json.RawMessage, bool) {
	var out struct {
		Item map[string]json.RawMessage `json:"Item"`
	}
	if e := r.s.ddb(ctx, region, "GetItem", map[string]any{"TableName": r.g.name, "Key": keys, "ConsistentRead": true}, &out); e != nil {
		r.s.logf("reading %s in %s for replication: %v", r.g.name, region, e)
		return nil, false
	}
	return out.Item, out.Item != nil
}

// stamp is legacy replication's second write in the source Region: it adds
// aws:rep:updatetime and aws:rep:updateregion, and returns the stamped item.
func (r *replicator) stamp(ctx context.Context, region string, rec *streamRecord) map[string]json.RawMessage {
	now := time.Now()
	ts := json.RawMessage(`{"N":"` + strconv.FormatFloat(float64(now.UnixMicro())/1e6, 'f', -1, 64) + `"}`)
	rg, _ := json.Marshal(map[string]string{"S": region})
	var firstKey string
	for k := range rec.Dynamodb.Keys {
		firstKey = k
		break
	}
	in := map[string]any{
		"TableName":                 r.g.name,
		"Key":                       rec.Dynamodb.Keys,
		"UpdateExpression":          "SET #t = :t, #r = :r",
		"ConditionExpression":       "attribute_exists(#k)",
		"ExpressionAttributeNames":  map[string]string{"#t": "aws:rep:updatetime", "#r": "aws:rep:updateregion", "#k": firstKey},
		"ExpressionAttributeValues": map[string]json.RawMessage{":t": ts, ":r": rg},
	}
	if e := r.s.ddb(ctx, region, "UpdateItem", in, nil); e != nil && e.Code != "ConditionalCheckFailedException" {
		r.s.logf("stamping %s in %s: %v", r.g.name, region, e)
	}
	img := make(map[string]json.RawMessage, len(rec.Dynamodb.NewImage)+2)
	for k, v := range rec.Dynamodb.NewImage {
		img[k] = v
	}
	img["aws:rep:updatetime"] = ts
	img["aws:rep:updateregion"] = rg
	return img
}

func onlyReplicationAttrsDiffer(a, b map[string]json.RawMessage) bool {
	strip := func(m map[string]json.RawMessage) map[string]json.RawMessage {
		out := map[string]json.RawMessage{}
		for k, v := range m {
			if !strings.HasPrefix(k, "aws:rep:") {
				out[k] = v
			}
		}
		return out
	}
	return canonical(strip(a)) == canonical(strip(b))
}

func (r *replicator) deliver(ctx context.Context, states map[string]memberState, version string) {
	now := time.Now()
	refreshed := map[string]bool{}
	kept := r.queue[:0]
	for _, d := range r.queue {
		st, ok := states[d.region]
		if !ok || st.status == statusDeleting || st.status == statusCreationFailed {
			r.done(d)
			continue
		}
		if !st.copied || now.Before(d.due) {
			kept = append(kept, d)
			continue
		}
		if r.winners[d.c.keyStr] != d.c {
			r.done(d)
			continue
		}
		if !refreshed[d.region] {
			refreshed[d.region] = true
			r.read(ctx, d.region, states, version)
			if r.winners[d.c.keyStr] != d.c {
				r.done(d)
				continue
			}
		}
		r.apply(ctx, d, version)
		r.done(d)
	}
	for i := len(kept); i < len(r.queue); i++ {
		r.queue[i] = nil
	}
	r.queue = kept
}

func (r *replicator) done(d *delivery) {
	d.c.pending--
	if d.c.pending <= 0 && r.winners[d.c.keyStr] == d.c {
		delete(r.winners, d.c.keyStr)
	}
}

func (r *replicator) apply(ctx context.Context, d *delivery, version string) {
	s, name := r.s, r.g.name
	ek := d.region + "\x00" + d.c.keyStr
	var out struct {
		Attributes map[string]json.RawMessage `json:"Attributes"`
	}
	if d.c.image != nil {
		if e := s.ddb(ctx, d.region, "PutItem", map[string]any{"TableName": name, "Item": d.c.image, "ReturnValues": "ALL_OLD"}, &out); e != nil {
			s.logf("replicating %s to %s: %v", name, d.region, e)
			return
		}
		if h := canonical(d.c.image); canonical(out.Attributes) != h {
			r.echoes[ek] = append(r.echoes[ek], h)
		}
		return
	}
	if version == versionLegacy {
		var firstKey string
		for k := range d.c.keys {
			firstKey = k
			break
		}
		e := s.ddb(ctx, d.region, "UpdateItem", map[string]any{
			"TableName": name, "Key": d.c.keys,
			"UpdateExpression":          "SET #d = :d",
			"ConditionExpression":       "attribute_exists(#k)",
			"ExpressionAttributeNames":  map[string]string{"#d": "aws:rep:deleting", "#k": firstKey},
			"ExpressionAttributeValues": map[string]json.RawMessage{":d": json.RawMessage(`{"BOOL":true}`)},
		}, nil)
		if e != nil {
			return // gone already, or an error: nothing to delete
		}
	}
	if e := s.ddb(ctx, d.region, "DeleteItem", map[string]any{"TableName": name, "Key": d.c.keys, "ReturnValues": "ALL_OLD"}, &out); e != nil {
		s.logf("replicating a delete of %s to %s: %v", name, d.region, e)
		return
	}
	if len(out.Attributes) > 0 {
		r.echoes[ek] = append(r.echoes[ek], "REMOVE")
	}
}

// canonical renders an item or key so that equal items give equal strings
// (attribute order and set order do not matter).
func canonical(m map[string]json.RawMessage) string {
	if m == nil {
		return ""
	}
	vals := make(map[string]any, len(m))
	for k, raw := range m {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			vals[k] = string(raw)
			continue
		}
		vals[k] = canonicalValue(v)
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

func canonicalValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, inner := range x {
			switch k {
			case "N":
				x[k] = canonicalNumber(toString(inner))
			case "SS", "NS", "BS":
				if arr, ok := inner.([]any); ok {
					if k == "NS" {
						for i := range arr {
							arr[i] = canonicalNumber(toString(arr[i]))
						}
					}
					sort.Slice(arr, func(i, j int) bool { return toString(arr[i]) < toString(arr[j]) })
				}
			default:
				x[k] = canonicalValue(inner)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = canonicalValue(x[i])
		}
		return x
	}
	return v
}

// canonicalNumber renders a DynamoDB number so that equal values compare equal
// ("1.50" and "1.5"), without going through float64.
func canonicalNumber(v string) string {
	r, ok := new(big.Rat).SetString(v)
	if !ok {
		return v
	}
	return r.RatString()
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

// WaitReplicated waits until the replicator of table (a global or legacy global
// table) has nothing left to do with the writes made before the call: two rounds in
// a row, both begun after the call, read no stream record (not even an expected
// echo of its own writes) and had no delivery due. Tests use it before asserting
// that something did not happen (a wrong echo, an extra stream record), instead of
// sleeping. A table that is not global returns at once.
func (s *Server) WaitReplicated(ctx context.Context, table string) error {
	s.mu.Lock()
	g := s.groups[table]
	s.mu.Unlock()
	if g == nil {
		return nil
	}
	g.stepMu.Lock()
	start := g.steps
	g.stepMu.Unlock()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		g.stepMu.Lock()
		// The round in progress at the call (start+1) may have read the streams
		// before the last write; the two idle rounds must come after it.
		ok := g.steps >= start+3 && g.idleRun >= 2
		g.stepMu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-g.done:
			return nil
		case <-tick.C:
		}
	}
}
