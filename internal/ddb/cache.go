package ddb

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/singleflight"
)

// DescribeCache shares DescribeTable results between the resources of one provider
// process: during a refresh, every replica of a table reads the same description, so
// a table with ten replicas costs one call per Region instead of ten. Writers call
// Invalidate after changing a table.
type DescribeCache struct {
	ttl   time.Duration
	group singleflight.Group

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	table *types.TableDescription
	err   error
	at    time.Time
}

// NewDescribeCache keeps descriptions for ttl.
func NewDescribeCache(ttl time.Duration) *DescribeCache {
	return &DescribeCache{ttl: ttl, entries: map[string]cacheEntry{}}
}

func cacheKey(region, table string) string { return region + "\x00" + table }

// FindTable is FindTableByName through the cache.
func (c *DescribeCache) FindTable(ctx context.Context, client *dynamodb.Client, table string) (*types.TableDescription, error) {
	key := cacheKey(client.Options().Region, table)
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && time.Since(e.at) < c.ttl {
		return e.table, e.err
	}
	v, err, _ := c.group.Do(key, func() (any, error) {
		desc, err := FindTableByName(ctx, client, table)
		if err == nil || IsNotFound(err) {
			c.mu.Lock()
			c.entries[key] = cacheEntry{table: desc, err: err, at: time.Now()}
			c.mu.Unlock()
		}
		return desc, err
	})
	desc, _ := v.(*types.TableDescription)
	return desc, err
}

// Invalidate forgets the description of table in region.
func (c *DescribeCache) Invalidate(region, table string) {
	c.mu.Lock()
	delete(c.entries, cacheKey(region, table))
	c.mu.Unlock()
}

// InvalidateTable forgets the descriptions of table in every Region.
func (c *DescribeCache) InvalidateTable(table string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if strings.HasSuffix(k, "\x00"+table) {
			delete(c.entries, k)
		}
	}
}

// KeyedMutex serializes work per key, e.g. per table: DynamoDB takes one replica
// create or delete at a time, so replicas of one table are created one after another.
type KeyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	holder string // guarded by KeyedMutex.mu
}

// Lock locks key and returns its unlock function.
func (k *KeyedMutex) Lock(key string) (unlock func()) {
	return k.LockAs(key, "", nil)
}

// LockAs locks key on behalf of holder. When the key is held by someone else, waiting
// is called first with the current holder's name.
func (k *KeyedMutex) LockAs(key, holder string, waiting func(heldBy string)) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l, ok := k.locks[key]
	if !ok {
		l = &keyedLock{}
		k.locks[key] = l
	}
	k.mu.Unlock()
	if !l.TryLock() {
		if waiting != nil {
			k.mu.Lock()
			heldBy := l.holder
			k.mu.Unlock()
			waiting(heldBy)
		}
		l.Lock()
	}
	k.mu.Lock()
	l.holder = holder
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		l.holder = ""
		k.mu.Unlock()
		l.Unlock()
	}
}
