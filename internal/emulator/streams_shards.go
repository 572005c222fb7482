package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Shards. DynamoDB Local gives each stream one shard; AWS gives a stream several
// (one per partition: "stream records are organized into groups, or shards", AWS
// developer guide, "Change data capture for DynamoDB Streams"), lists at most 100
// per DescribeStream page (Limit 1-100, ExclusiveStartShardId,
// LastEvaluatedShardId: DynamoDB Streams API reference, DescribeStream), and
// splits and rolls shards over, the children naming their parent (ParentShardId).
// The front presents each DynamoDB Local shard as StreamShards partition shards,
// every key in exactly one of them (by a hash of the key, so one item's records
// stay in order), and SplitShard closes open shards and gives them children,
// which divide their parent's keys again (one child: a rollover). Virtual shards
// wrap DynamoDB Local's iterators of the shard that holds their records, and the
// front filters the records.

const (
	vshardPrefix = "vshard|"
	// DefaultStreamShards is how many shards a new stream has (Options.StreamShards).
	DefaultStreamShards = 2
	// maxShardPage is DescribeStream's largest page (and its default Limit).
	maxShardPage = 100
	// awsIteratorLifetime: "A shard iterator expires 15 minutes after it is returned
	// to the requester" (DynamoDB Streams API reference, GetShardIterator).
	awsIteratorLifetime = 15 * time.Minute
)

// keyPart selects the keys whose hash at its depth is index modulo of.
type keyPart struct{ index, of int }

type virtualShard struct {
	id, parent string
	arn        string // DynamoDB Local's stream ARN
	local      string // DynamoDB Local's shard holding the records
	at         string // first sequence number ("" from the local shard's start)
	parts      []keyPart
}

func (vs *virtualShard) owns(keys map[string]json.RawMessage) bool {
	if len(vs.parts) == 0 {
		return true
	}
	c := canonical(keys)
	for depth, p := range vs.parts {
		if keyHash(c, depth)%uint32(p.of) != uint32(p.index) {
			return false
		}
	}
	return true
}

// keyHash hashes a canonical key; each depth of splitting uses its own hash, so
// children divide their parent's keys evenly.
func keyHash(canon string, depth int) uint32 {
	h := fnv.New32a()
	if depth > 0 {
		_, _ = h.Write([]byte{byte(depth)})
	}
	_, _ = h.Write([]byte(canon))
	return h.Sum32()
}

type shardSplit struct {
	at       string
	children []*virtualShard
}

// shardView is one shard as DescribeStream lists it.
type shardView struct {
	ShardID             string   `json:"ShardId"`
	ParentShardID       string   `json:"ParentShardId,omitempty"`
	SequenceNumberRange seqRange `json:"SequenceNumberRange"`
}

type seqRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber,omitempty"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

// SetStreamShards sets how many shards streams first described from now on have
// (1: DynamoDB Local's single shard) and the largest DescribeStream page (at most
// 100, AWS's; tests lower it so that paging runs with a few shards), until Reset
// restores those of Options. Zero keeps a value.
func (s *Server) SetStreamShards(shards, pageSize int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if shards > 0 {
		s.streamShardCount = shards
	}
	if pageSize > 0 {
		s.streamPageSize = min(pageSize, maxShardPage)
	}
}

func partitionID(localShard string, index int) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(localShard + "#" + strconv.Itoa(index)))
	stamp := "00000000000000000000"
	if parts := strings.Split(localShard, "-"); len(parts) >= 2 {
		stamp = parts[1]
	}
	return fmt.Sprintf("shardId-%s-%08x", stamp, h.Sum32())
}

// localShards lists DynamoDB Local's shards of a stream, all pages.
func (s *Server) localShards(ctx context.Context, region, arn string) ([]shardView, map[string]json.RawMessage, *apiError) {
	var all []shardView
	var desc map[string]json.RawMessage
	in := map[string]any{"StreamArn": arn}
	for {
		var out struct {
			StreamDescription map[string]json.RawMessage `json:"StreamDescription"`
		}
		if e := s.ddb(ctx, region, "Streams.DescribeStream", in, &out); e != nil {
			return nil, nil, e
		}
		desc = out.StreamDescription
		var page []shardView
		_ = json.Unmarshal(desc["Shards"], &page)
		all = append(all, page...)
		var last string
		_ = json.Unmarshal(desc["LastEvaluatedShardId"], &last)
		if last == "" {
			return all, desc, nil
		}
		in["ExclusiveStartShardId"] = last
	}
}

// streamShards lists a stream's shards as clients see them, sorted by id (a
// child's id sorts after its parent's, as AWS's timestamped ids do).
func (s *Server) streamShards(ctx context.Context, region, arn string) ([]shardView, map[string]json.RawMessage, *apiError) {
	locals, desc, e := s.localShards(ctx, region, arn)
	if e != nil {
		return nil, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, known := s.partitions[arn]
	if !known {
		n = max(s.streamShardCount, 1)
		s.partitions[arn] = n
	}
	localEnd := map[string]string{}
	var out []shardView
	for _, l := range locals {
		localEnd[l.ShardID] = l.SequenceNumberRange.EndingSequenceNumber
		if n == 1 {
			out = append(out, l)
			continue
		}
		for i := range n {
			id := partitionID(l.ShardID, i)
			if s.vshards[arn+"|"+id] == nil {
				s.vshards[arn+"|"+id] = &virtualShard{id: id, arn: arn, local: l.ShardID, parts: []keyPart{{i, n}}}
			}
			v := shardView{ShardID: id, SequenceNumberRange: l.SequenceNumberRange}
			if l.ParentShardID != "" {
				// The same keys went to partition i of the parent.
				v.ParentShardID = partitionID(l.ParentShardID, i)
			}
			out = append(out, v)
		}
	}
	for i := 0; i < len(out); i++ {
		sp := s.splits[arn+"|"+out[i].ShardID]
		if sp == nil {
			continue
		}
		if out[i].SequenceNumberRange.EndingSequenceNumber == "" {
			end := new(big.Int)
			end.SetString(sp.at, 10)
			out[i].SequenceNumberRange.EndingSequenceNumber = padSeq(end.Sub(end, big.NewInt(1)).String(), len(sp.at))
		}
		for _, c := range sp.children {
			out = append(out, shardView{ShardID: c.id, ParentShardID: c.parent,
				SequenceNumberRange: seqRange{StartingSequenceNumber: c.at, EndingSequenceNumber: localEnd[c.local]}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ShardID < out[j].ShardID })
	return out, desc, nil
}

// describeStream answers DescribeStream with the shards as streamShards lists
// them, paged as AWS pages them.
func (s *Server) describeStream(req *request) ([]byte, *apiError) {
	var in struct {
		StreamArn             string `json:"StreamArn"`
		Limit                 *int   `json:"Limit"`
		ExclusiveStartShardID string `json:"ExclusiveStartShardId"`
		ShardFilter           *struct {
			Type    string `json:"Type"`
			ShardID string `json:"ShardId"`
		} `json:"ShardFilter"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	// Limit: "Minimum value of 1. Maximum value of 100." (API reference).
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > maxShardPage) {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
	}
	arn := string(toLocal([]byte(in.StreamArn)))
	shards, desc, e := s.streamShards(req.ctx, req.region, arn)
	if e != nil {
		return nil, e
	}
	if in.ShardFilter != nil {
		if in.ShardFilter.Type != "CHILD_SHARDS" || in.ShardFilter.ShardID == "" {
			return nil, validation("ShardFilter needs Type CHILD_SHARDS and a ShardId")
		}
		var kids []shardView
		for _, sh := range shards {
			if sh.ParentShardID == in.ShardFilter.ShardID {
				kids = append(kids, sh)
			}
		}
		shards = kids
	}
	if in.ExclusiveStartShardID != "" {
		from := sort.Search(len(shards), func(i int) bool { return shards[i].ShardID > in.ExclusiveStartShardID })
		shards = shards[from:]
	}
	s.mu.Lock()
	limit := s.streamPageSize
	s.mu.Unlock()
	if in.Limit != nil {
		limit = min(limit, *in.Limit)
	}
	delete(desc, "LastEvaluatedShardId")
	if len(shards) > limit {
		shards = shards[:limit]
		desc["LastEvaluatedShardId"], _ = json.Marshal(shards[limit-1].ShardID)
	}
	if shards == nil {
		shards = []shardView{}
	}
	desc["Shards"], _ = json.Marshal(shards)
	out, _ := json.Marshal(map[string]any{"StreamDescription": desc})
	return fromLocal(out, req.region), nil
}

// SplitShard closes every open shard of the table's stream and gives each the
// given number of children (1: a rollover). It returns the children's ids.
func (s *Server) SplitShard(ctx context.Context, region, table string, children int) ([]string, error) {
	if children < 1 || children > 8 {
		return nil, errors.New("children must be 1 to 8")
	}
	var desc struct {
		Table tableDesc `json:"Table"`
	}
	if e := s.ddb(ctx, region, "DescribeTable", map[string]string{"TableName": table}, &desc); e != nil {
		return nil, e
	}
	arn := desc.Table.LatestStreamArn
	if arn == "" {
		return nil, errors.New("table " + table + " in " + region + " has no stream")
	}
	shards, _, e := s.streamShards(ctx, region, arn)
	if e != nil {
		return nil, e
	}
	latest := map[string]string{} // local shard -> its current end
	var ids []string
	for _, sh := range shards {
		s.mu.Lock()
		done := s.splits[arn+"|"+sh.ShardID] != nil
		parent := s.vshards[arn+"|"+sh.ShardID]
		s.mu.Unlock()
		if done || sh.SequenceNumberRange.EndingSequenceNumber != "" {
			continue
		}
		local, parts := sh.ShardID, []keyPart(nil)
		if parent != nil {
			local, parts = parent.local, parent.parts
		}
		at, ok := latest[local]
		if !ok {
			var it struct {
				ShardIterator string `json:"ShardIterator"`
			}
			if e := s.ddb(ctx, region, "Streams.GetShardIterator", map[string]string{"StreamArn": arn, "ShardId": local, "ShardIteratorType": "LATEST"}, &it); e != nil {
				return nil, e
			}
			pos, ok := decodeIterator(it.ShardIterator)
			if !ok {
				return nil, errors.New("unexpected shard iterator format from DynamoDB Local")
			}
			at = pos.seq
			latest[local] = at
		}
		sp := &shardSplit{at: at}
		s.mu.Lock()
		for i := range children {
			s.nextShard++
			vs := &virtualShard{id: fmt.Sprintf("shardId-%020d-%08x", time.Now().UnixMilli(), s.nextShard), parent: sh.ShardID, arn: arn,
				local: local, at: at, parts: append(append([]keyPart(nil), parts...), keyPart{i, children})}
			sp.children = append(sp.children, vs)
			s.vshards[arn+"|"+vs.id] = vs
			ids = append(ids, vs.id)
		}
		s.splits[arn+"|"+sh.ShardID] = sp
		s.mu.Unlock()
	}
	if len(ids) == 0 {
		return nil, errors.New("no open shard to split")
	}
	return ids, nil
}

func (s *Server) splitOf(arn, shard string) *shardSplit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.splits[arn+"|"+shard]
}

func (s *Server) virtualShard(arn, id string) *virtualShard {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vshards[arn+"|"+id]
}

// checkSequenceNumber refuses what AWS refuses before looking at the stream:
// SequenceNumber is 21 to 40 digits (API reference, GetShardIterator: "Length
// Constraints: Minimum length of 21. Maximum length of 40."). DynamoDB Local
// answers some such numbers with a 500 InternalFailure instead.
func checkSequenceNumber(typ, seq string) *apiError {
	switch typ {
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
	default:
		return nil
	}
	if seq == "" {
		return validation("SequenceNumber is required for ShardIteratorType %s", typ)
	}
	if len(seq) < 21 || len(seq) > 40 {
		return validation("1 validation error detected: Value '%s' at 'sequenceNumber' failed to satisfy constraint: Member must have length between 21 and 40", seq)
	}
	if strings.Trim(seq, "0123456789") != "" {
		return validation("Invalid SequenceNumber %s: sequence numbers are decimal digits", seq)
	}
	return nil
}

// childIterator answers GetShardIterator for a virtual shard.
func (s *Server) childIterator(req *request, vs *virtualShard, typ, seq string) ([]byte, *apiError) {
	in := map[string]string{"StreamArn": vs.arn, "ShardId": vs.local, "ShardIteratorType": typ}
	if seq != "" {
		if vs.at != "" && seqLess(seq, vs.at) {
			return nil, validation("Invalid SequenceNumber %s for shard %s: it precedes the shard's first sequence number %s", seq, vs.id, vs.at)
		}
		if sp := s.splitOf(vs.arn, vs.id); sp != nil && !seqLess(seq, sp.at) {
			return nil, validation("Invalid SequenceNumber %s for shard %s: the shard ended before it", seq, vs.id)
		}
		if e := checkTrimmed(s.trimBound(vs.arn, vs.local), typ, seq); e != nil {
			return nil, e
		}
		in["SequenceNumber"] = seq
	}
	var out struct {
		ShardIterator string `json:"ShardIterator"`
	}
	if e := s.ddb(req.ctx, req.region, "Streams.GetShardIterator", in, &out); e != nil {
		return nil, e
	}
	it := out.ShardIterator
	start := vs.at
	if bound := s.trimBound(vs.arn, vs.local); bound != "" && (start == "" || seqLess(start, bound)) {
		start = bound
	}
	if pos, ok := decodeIterator(it); ok && start != "" && seqLess(pos.seq, start) {
		pos.seq = padSeq(start, len(pos.seq))
		it = pos.encode()
	}
	return marshal(map[string]string{"ShardIterator": vshardPrefix + vs.id + "|" + it})
}

type pageRecord struct {
	Dynamodb struct {
		Keys           map[string]json.RawMessage `json:"Keys"`
		SequenceNumber string                     `json:"SequenceNumber"`
	} `json:"dynamodb"`
}

// filterPage keeps the records of a GetRecords answer that keep() accepts and
// replaces NextShardIterator with next(it) ("" closes the shard).
func filterPage(resp []byte, keep func(pageRecord) bool, next func(string) string) []byte {
	var page struct {
		Records           []json.RawMessage `json:"Records"`
		NextShardIterator *string           `json:"NextShardIterator"`
	}
	if json.Unmarshal(resp, &page) != nil {
		return resp
	}
	kept := make([]json.RawMessage, 0, len(page.Records))
	for _, raw := range page.Records {
		var r pageRecord
		if json.Unmarshal(raw, &r) == nil && keep(r) {
			kept = append(kept, raw)
		}
	}
	out := map[string]any{"Records": kept}
	if page.NextShardIterator != nil {
		if n := next(*page.NextShardIterator); n != "" {
			out["NextShardIterator"] = n
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// endsAt closes an iterator that reached at (the shard's split point).
func endsAt(at string) func(string) string {
	return func(it string) string {
		if p, ok := decodeIterator(string(toLocal([]byte(it)))); ok && !seqLess(p.seq, at) {
			return ""
		}
		return it
	}
}

// splitRecords answers GetRecords when the iterator's (DynamoDB Local) shard was
// split: records from the split point on belong to the children, and the parent
// ends there.
func splitRecords(resp []byte, at string, pos iteratorPos) []byte {
	if !seqLess(pos.seq, at) {
		return []byte(`{"Records":[]}`)
	}
	return filterPage(resp, func(r pageRecord) bool { return seqLess(r.Dynamodb.SequenceNumber, at) }, endsAt(at))
}

// childRecords filters a page of the local shard for one virtual shard.
func childRecords(resp []byte, vs *virtualShard, sp *shardSplit, pos iteratorPos) []byte {
	end := func(it string) string { return it }
	if sp != nil {
		if !seqLess(pos.seq, sp.at) {
			return []byte(`{"Records":[]}`)
		}
		end = endsAt(sp.at)
	}
	return filterPage(resp, func(r pageRecord) bool {
		seq := r.Dynamodb.SequenceNumber
		return (vs.at == "" || !seqLess(seq, vs.at)) && (sp == nil || seqLess(seq, sp.at)) && vs.owns(r.Dynamodb.Keys)
	}, func(it string) string {
		if it = end(it); it == "" {
			return ""
		}
		return vshardPrefix + vs.id + "|" + it
	})
}

// badIterator is AWS's answer to an iterator it cannot read.
func badIterator() *apiError {
	return errorf("ValidationException", http.StatusBadRequest, "Invalid ShardIterator")
}

// virtualRecords answers GetRecords for a virtual shard. A page of DynamoDB
// Local's shard holds the records of every shard that shares it, so the front
// reads on until the page holds Limit records of this shard, or DynamoDB Local's
// shard has no more: AWS fills a page up to Limit (1,000 by default; API
// reference, GetRecords), and readers take a short page for the shard's tip.
func (s *Server) virtualRecords(req *request, vs *virtualShard, inner string) ([]byte, *apiError) {
	var in struct {
		Limit int `json:"Limit"`
	}
	_ = json.Unmarshal(req.body, &in)
	limit := in.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	sp := s.splitOf(vs.arn, vs.id)
	kept := []json.RawMessage{}
	it := string(toLocal([]byte(inner)))
	var next *string
	// No cap on the local pages read: a page cut short before the tip would read
	// as the tip, and a reader draining the stream would stop early (each pass
	// reads at least one record, so the loop ends at the tip or a full page).
	for {
		pos, _ := decodeIterator(it)
		want := limit - len(kept)
		body, _ := json.Marshal(map[string]any{"ShardIterator": it, "Limit": want})
		resp, e := s.callLocal(req.ctx, req.region, "DynamoDBStreams_20120810.GetRecords", body)
		if e != nil {
			return nil, e
		}
		var raw struct {
			Records []json.RawMessage `json:"Records"`
		}
		_ = json.Unmarshal(resp, &raw)
		var page struct {
			Records           []json.RawMessage `json:"Records"`
			NextShardIterator *string           `json:"NextShardIterator"`
		}
		_ = json.Unmarshal(childRecords(resp, vs, sp, pos), &page)
		kept = append(kept, page.Records...)
		next = page.NextShardIterator
		if next == nil || len(raw.Records) < want || len(kept) >= limit {
			break
		}
		it = strings.TrimPrefix(*next, vshardPrefix+vs.id+"|")
	}
	out := map[string]any{"Records": kept}
	if next != nil {
		out["NextShardIterator"] = *next
	}
	b, _ := json.Marshal(out)
	return bytes.ReplaceAll(b, []byte(`"awsRegion":"ddblocal"`), []byte(`"awsRegion":"`+req.region+`"`)), nil
}
