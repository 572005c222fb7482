package migration

import (
	"math/big"
	"sort"
)

// shardInfo is one shard as DescribeStream lists it.
type shardInfo struct {
	ID     string
	Parent string
}

// shardCheckpoint is what the checkpoint table knows about a shard.
type shardCheckpoint struct {
	ID       string
	Parent   string
	Seq      string // last applied sequence number; "" = nothing applied yet
	Finished bool   // read to its end (null NextShardIterator) and every record applied
	SeenAt   int64  // unix ms: it may have existed since (see newShardSeenAt)
	DoneAt   int64  // unix ms when it was read to its end
	Owner    string
	LeaseMs  int64
	Applied  int64
	LastMs   int64 // ApproximateCreationDateTime of the last applied record, unix ms
}

// newShardSeenAt is the registration age of a shard first listed at now: the
// previous listing (listedAt, or the capture) did not show it, so it may have
// been created right after that; a child whose parent was read to its end is no
// younger than that end. The earliest of these bounds is kept, so the 24 h
// retention check never takes a shard for younger than it may be.
func newShardSeenAt(now, listedAt int64, parent shardCheckpoint) int64 {
	seen := now
	if listedAt > 0 {
		seen = min(seen, listedAt)
	}
	if parent.Finished && parent.DoneAt > 0 {
		seen = min(seen, parent.DoneAt)
	}
	return seen
}

// readyShards returns the listed shards that may be read now, in a stable
// order: not finished, and whose parent is finished, or unknown to both the
// listing and the checkpoint table (trimmed away before this migration saw it, so
// nothing of it can still be read). A parent that is listed or known but not
// finished holds its children back: parents before children, always. The
// listing's order does not matter.
func readyShards(listing []shardInfo, known map[string]shardCheckpoint) []string {
	listed := make(map[string]bool, len(listing))
	for _, s := range listing {
		listed[s.ID] = true
	}
	var ready []string
	for _, s := range listing {
		if ck, ok := known[s.ID]; ok && ck.Finished {
			continue
		}
		if s.Parent != "" {
			pck, pknown := known[s.Parent]
			switch {
			case pknown && pck.Finished:
			case pknown || listed[s.Parent]:
				continue
			}
		}
		ready = append(ready, s.ID)
	}
	sort.Strings(ready)
	return ready
}

// vanishedShards returns shards the checkpoint table holds as unfinished that
// the listing no longer shows: candidates for "data lost" (the caller confirms,
// since a listing can be briefly inconsistent).
func vanishedShards(listing []shardInfo, known map[string]shardCheckpoint) []string {
	listed := make(map[string]bool, len(listing))
	for _, s := range listing {
		listed[s.ID] = true
	}
	var out []string
	for id, ck := range known {
		if !ck.Finished && !listed[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// seqLess compares two stream sequence numbers (21–40 digit strings) as integers.
// Only meaningful within one shard.
func seqLess(a, b string) bool {
	x, okA := new(big.Int).SetString(a, 10)
	y, okB := new(big.Int).SetString(b, 10)
	if !okA || !okB {
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	}
	return x.Cmp(y) < 0
}
