package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"strings"
	"time"
)

// Shard splits. DynamoDB Local never splits or rolls over a shard; SplitShard
// emulates it in the front: the open shard is closed at the current end of the
// stream and children continue it. With one child it is a rollover; with more,
// every key goes to one child (by a hash of the key), so each item's records stay
// in order. Children are virtual: their iterators wrap DynamoDB Local's iterators
// of the parent, and the front filters the records.

const vshardPrefix = "vshard|"

type virtualShard struct {
	id, parent, arn, at string // arn: DynamoDB Local's stream ARN; at: first sequence number
	index, of           int
}

type shardSplit struct {
	at       string
	children []*virtualShard
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
	if e := s.ddb(ctx, region, "Streams.DescribeStream", map[string]string{"StreamArn": arn}, &out); e != nil {
		return nil, e
	}
	var ids []string
	for _, sh := range out.StreamDescription.Shards {
		s.mu.Lock()
		done := s.splits[arn+"|"+sh.ShardID] != nil
		s.mu.Unlock()
		if done || sh.SequenceNumberRange.EndingSequenceNumber != "" {
			continue
		}
		var it struct {
			ShardIterator string `json:"ShardIterator"`
		}
		if e := s.ddb(ctx, region, "Streams.GetShardIterator", map[string]string{"StreamArn": arn, "ShardId": sh.ShardID, "ShardIteratorType": "LATEST"}, &it); e != nil {
			return nil, e
		}
		pos, ok := decodeIterator(it.ShardIterator)
		if !ok {
			return nil, errors.New("unexpected shard iterator format from DynamoDB Local")
		}
		sp := &shardSplit{at: pos.seq}
		s.mu.Lock()
		for i := range children {
			s.nextShard++
			vs := &virtualShard{id: fmt.Sprintf("shardId-%020d-%08x", time.Now().UnixMilli(), s.nextShard), parent: sh.ShardID, arn: arn, at: pos.seq, index: i, of: children}
			sp.children = append(sp.children, vs)
			s.vshards[arn+"|"+vs.id] = vs
			ids = append(ids, vs.id)
		}
		s.splits[arn+"|"+sh.ShardID] = sp
		s.mu.Unlock()
	}
	if len(ids) == 0 {
		return nil, errors.New("no open shard to split (virtual shards do not split again)")
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

// decorateStream adds the split points and the children to a DescribeStream answer.
func (s *Server) decorateStream(localARN string, resp []byte) []byte {
	s.mu.Lock()
	var found bool
	for k := range s.splits {
		if strings.HasPrefix(k, localARN+"|") {
			found = true
			break
		}
	}
	s.mu.Unlock()
	if !found {
		return resp
	}
	var outer map[string]json.RawMessage
	var desc map[string]json.RawMessage
	var shards []map[string]any
	if json.Unmarshal(resp, &outer) != nil || json.Unmarshal(outer["StreamDescription"], &desc) != nil || json.Unmarshal(desc["Shards"], &shards) != nil {
		return resp
	}
	var added []map[string]any
	for _, sh := range shards {
		id, _ := sh["ShardId"].(string)
		sp := s.splitOf(localARN, id)
		if sp == nil {
			continue
		}
		if rng, ok := sh["SequenceNumberRange"].(map[string]any); ok {
			if _, closed := rng["EndingSequenceNumber"]; !closed {
				end := new(big.Int)
				end.SetString(sp.at, 10)
				rng["EndingSequenceNumber"] = padSeq(end.Sub(end, big.NewInt(1)).String(), len(sp.at))
			}
		}
		for _, c := range sp.children {
			added = append(added, map[string]any{"ShardId": c.id, "ParentShardId": c.parent,
				"SequenceNumberRange": map[string]string{"StartingSequenceNumber": c.at}})
		}
	}
	desc["Shards"], _ = json.Marshal(append(shards, added...))
	outer["StreamDescription"], _ = json.Marshal(desc)
	out, _ := json.Marshal(outer)
	return out
}

// childIterator answers GetShardIterator for a virtual child shard.
func (s *Server) childIterator(req *request, vs *virtualShard, typ, seq string) ([]byte, *apiError) {
	in := map[string]string{"StreamArn": vs.arn, "ShardId": vs.parent, "ShardIteratorType": typ}
	if seq != "" {
		if seqLess(seq, vs.at) {
			return nil, validation("Invalid SequenceNumber %s for shard %s: it precedes the shard's first sequence number %s", seq, vs.id, vs.at)
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
	if bound := s.trimBound(vs.arn, vs.parent); bound != "" && seqLess(start, bound) {
		start = bound
	}
	if pos, ok := decodeIterator(it); ok && seqLess(pos.seq, start) {
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

func keyShard(keys map[string]json.RawMessage, of int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(canonical(keys)))
	return int(h.Sum32() % uint32(of))
}

// splitRecords answers GetRecords when the iterator's shard was split: records
// from the split point on belong to the children, and the parent ends there.
func splitRecords(resp []byte, at string, pos iteratorPos) []byte {
	if !seqLess(pos.seq, at) {
		return []byte(`{"Records":[]}`)
	}
	return filterPage(resp, func(r pageRecord) bool { return seqLess(r.Dynamodb.SequenceNumber, at) }, func(it string) string {
		if p, ok := decodeIterator(string(toLocal([]byte(it)))); ok && !seqLess(p.seq, at) {
			return ""
		}
		return it
	})
}

// childRecords filters a page of the parent for one virtual child.
func childRecords(resp []byte, vs *virtualShard) []byte {
	return filterPage(resp, func(r pageRecord) bool {
		return !seqLess(r.Dynamodb.SequenceNumber, vs.at) && keyShard(r.Dynamodb.Keys, vs.of) == vs.index
	}, func(it string) string { return vshardPrefix + vs.id + "|" + it })
}
