package emulator

import (
	"encoding/json"
	"time"
)

// The write clock orders writes made in different Regions for last-writer-wins:
// before forwarding a client write to a key of a global table the front notes the
// time, and the replicator stamps the stream records of that key with the latest
// noted time. A write that answered before another started therefore always has
// the earlier stamp. (Stream records of DynamoDB Local only carry minute-rounded
// times, and the time the replicator reads a record would order writes by polling
// luck.)

const clockRetention = 30 * time.Second

func clockKey(region, table, keyStr string) string { return region + "\x00" + table + "\x00" + keyStr }

// noteWrites records the time of every item write in a request to a global
// table's member, before it is forwarded.
func (s *Server) noteWrites(req *request) {
	writes := writtenKeys(req.body) // backups.go
	now := time.Now()
	s.mu.Lock()
	keys := make([]string, 0, len(writes))
	for _, w := range writes {
		g := s.groups[w.table]
		if g == nil || g.members[req.region] == nil || len(g.keyAttrs) == 0 {
			continue
		}
		key := map[string]json.RawMessage{}
		for _, a := range g.keyAttrs {
			if v, ok := w.attrs[a]; ok {
				key[a] = v
			}
		}
		keys = append(keys, clockKey(req.region, w.table, canonical(key)))
	}
	s.mu.Unlock()
	if len(keys) == 0 {
		return
	}
	s.clockMu.Lock()
	for _, k := range keys {
		s.clock[k] = now
	}
	if now.Sub(s.clockPruned) > clockRetention {
		for k, t := range s.clock {
			if now.Sub(t) > clockRetention {
				delete(s.clock, k)
			}
		}
		s.clockPruned = now
	}
	s.clockMu.Unlock()
}

// writeTime returns the noted time of the last client write to a key, or the
// zero time.
func (s *Server) writeTime(region, table, keyStr string) time.Time {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	return s.clock[clockKey(region, table, keyStr)]
}

// keyNames lists the attribute names of a KeySchema.
func keyNames(raw json.RawMessage) []string {
	var ks []struct{ AttributeName string }
	_ = json.Unmarshal(raw, &ks)
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.AttributeName)
	}
	return out
}
