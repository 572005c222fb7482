package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DynamoDB Local's shard iterators read "<stream ARN>|001|base64(<shard>|<sequence
// number>|<issued, Unix ms>)". The front reads them to emulate trimmed stream data
// and early iterator expiry; it never changes an iterator's meaning.

type iteratorPos struct {
	arn, prefix, shard, seq, issuedRaw string
	issued                             time.Time
}

func decodeIterator(it string) (iteratorPos, bool) {
	parts := strings.SplitN(it, "|", 3)
	if len(parts) != 3 {
		return iteratorPos{}, false
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return iteratorPos{}, false
	}
	inner := strings.Split(string(raw), "|")
	if len(inner) != 3 {
		return iteratorPos{}, false
	}
	ms, _ := strconv.ParseInt(inner[2], 10, 64)
	return iteratorPos{arn: parts[0], prefix: parts[1], shard: inner[0], seq: inner[1], issuedRaw: inner[2], issued: time.UnixMilli(ms)}, true
}

func (p iteratorPos) encode() string {
	inner := p.shard + "|" + p.seq + "|" + p.issuedRaw
	return p.arn + "|" + p.prefix + "|" + base64.StdEncoding.EncodeToString([]byte(inner))
}

func seqLess(a, b string) bool {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	if !ok1 || !ok2 {
		return a < b
	}
	return x.Cmp(y) < 0
}

func trimmedError() *apiError {
	return errorf("TrimmedDataAccessException", http.StatusBadRequest, "The operation attempted to read past the oldest stream record in a shard.")
}

func (s *Server) streams(req *request) ([]byte, *apiError) {
	switch req.op {
	case "GetShardIterator":
		return s.getShardIterator(req)
	case "GetRecords":
		return s.getRecords(req)
	case "DescribeStream":
		return s.describeStream(req)
	}
	return s.forward(req)
}

func (s *Server) trimBound(arn, shard string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trims[arn+"|"+shard]
}

func (s *Server) getShardIterator(req *request) ([]byte, *apiError) {
	var in struct {
		StreamArn         string `json:"StreamArn"`
		ShardID           string `json:"ShardId"`
		ShardIteratorType string `json:"ShardIteratorType"`
		SequenceNumber    string `json:"SequenceNumber"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	if e := checkSequenceNumber(in.ShardIteratorType, in.SequenceNumber); e != nil {
		return nil, e
	}
	localARN := string(toLocal([]byte(in.StreamArn)))
	if vs := s.virtualShard(localARN, in.ShardID); vs != nil {
		resp, e := s.childIterator(req, vs, in.ShardIteratorType, in.SequenceNumber)
		if e != nil {
			return nil, e
		}
		return fromLocal(resp, req.region), nil
	}
	bound := s.trimBound(localARN, in.ShardID)
	if sp := s.splitOf(localARN, in.ShardID); sp != nil && in.SequenceNumber != "" && !seqLess(in.SequenceNumber, sp.at) {
		return nil, validation("Invalid SequenceNumber %s for shard %s: the shard ended before it", in.SequenceNumber, in.ShardID)
	}
	if e := checkTrimmed(bound, in.ShardIteratorType, in.SequenceNumber); e != nil {
		return nil, e
	}
	resp, aerr := s.callLocal(req.ctx, req.region, "DynamoDBStreams_20120810.GetShardIterator", toLocal(req.body))
	if aerr != nil {
		return nil, aerr
	}
	if bound != "" && in.ShardIteratorType == "TRIM_HORIZON" {
		var out struct {
			ShardIterator string `json:"ShardIterator"`
		}
		if json.Unmarshal(resp, &out) == nil {
			if pos, ok := decodeIterator(out.ShardIterator); ok && seqLess(pos.seq, bound) {
				pos.seq = padSeq(bound, len(pos.seq))
				resp, _ = json.Marshal(map[string]string{"ShardIterator": pos.encode()})
			}
		}
	}
	return fromLocal(resp, req.region), nil
}

// checkTrimmed refuses an iterator at a sequence number before bound, the first
// record not trimmed ("" when nothing was).
func checkTrimmed(bound, typ, seq string) *apiError {
	if bound == "" || seq == "" {
		return nil
	}
	switch typ {
	case "AT_SEQUENCE_NUMBER":
		if seqLess(seq, bound) {
			return trimmedError()
		}
	case "AFTER_SEQUENCE_NUMBER":
		next := new(big.Int)
		if _, ok := next.SetString(seq, 10); ok && seqLess(next.Add(next, big.NewInt(1)).String(), bound) {
			return trimmedError()
		}
	}
	return nil
}

func padSeq(seq string, width int) string {
	if len(seq) < width {
		return strings.Repeat("0", width-len(seq)) + seq
	}
	return seq
}

func (s *Server) getRecords(req *request) ([]byte, *apiError) {
	var in struct {
		ShardIterator string `json:"ShardIterator"`
		Limit         *int   `json:"Limit,omitempty"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	var child *virtualShard
	if rest, ok := strings.CutPrefix(in.ShardIterator, vshardPrefix); ok {
		id, inner, _ := strings.Cut(rest, "|")
		if pos, ok := decodeIterator(string(toLocal([]byte(inner)))); ok {
			child = s.virtualShard(pos.arn, id)
		}
		if child == nil {
			return nil, badIterator()
		}
		in.ShardIterator = inner
		req.body, _ = json.Marshal(in)
	}
	pos, decoded := decodeIterator(string(toLocal([]byte(in.ShardIterator))))
	if decoded {
		s.mu.Lock()
		ttl := s.iteratorTTL
		s.mu.Unlock()
		if ttl == 0 {
			ttl = awsIteratorLifetime
		}
		if time.Since(pos.issued) > ttl {
			return nil, errorf("ExpiredIteratorException", http.StatusBadRequest,
				"Iterator expired. The iterator was created at time %s while right now it is %s.",
				pos.issued.UTC().Format(time.RFC1123), time.Now().UTC().Format(time.RFC1123))
		}
		if bound := s.trimBound(pos.arn, pos.shard); bound != "" && seqLess(pos.seq, bound) {
			return nil, trimmedError()
		}
	}
	if child != nil && decoded {
		return s.virtualRecords(req, child, in.ShardIterator)
	}
	resp, e := s.forward(req)
	if e != nil || !decoded {
		return resp, e
	}
	if sp := s.splitOf(pos.arn, pos.shard); sp != nil {
		return splitRecords(resp, sp.at, pos), nil
	}
	return resp, nil
}

// TrimStream makes every record currently in the table's stream (all shards)
// unreadable, as if the 24-hour retention had passed: reads at those positions
// give TrimmedDataAccessException, TRIM_HORIZON starts after them.
func (s *Server) TrimStream(ctx context.Context, region, table string) error {
	var desc struct {
		Table tableDesc `json:"Table"`
	}
	if e := s.ddb(ctx, region, "DescribeTable", map[string]string{"TableName": table}, &desc); e != nil {
		return e
	}
	arn := desc.Table.LatestStreamArn
	if arn == "" {
		return errors.New("table " + table + " in " + region + " has no stream")
	}
	var out struct {
		StreamDescription struct {
			Shards []struct {
				ShardID string `json:"ShardId"`
			} `json:"Shards"`
		} `json:"StreamDescription"`
	}
	if e := s.ddb(ctx, region, "Streams.DescribeStream", map[string]string{"StreamArn": arn}, &out); e != nil {
		return e
	}
	for _, sh := range out.StreamDescription.Shards {
		var it struct {
			ShardIterator string `json:"ShardIterator"`
		}
		if e := s.ddb(ctx, region, "Streams.GetShardIterator", map[string]string{"StreamArn": arn, "ShardId": sh.ShardID, "ShardIteratorType": "LATEST"}, &it); e != nil {
			continue
		}
		if pos, ok := decodeIterator(it.ShardIterator); ok {
			s.mu.Lock()
			s.trims[arn+"|"+sh.ShardID] = pos.seq
			s.mu.Unlock()
		}
	}
	return nil
}
