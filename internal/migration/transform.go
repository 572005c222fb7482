package migration

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Transform rewrites each source item into its target form. The same Transform
// is applied to backfilled items, to streamed items (new images and the keys of
// deletes) and to source items during verification, so all three agree.
//
// Order: Drop (by source name), then Rename (source name → target name; renaming
// onto the target's key attributes is how a key-schema change is expressed),
// then Set (typed constants, overwriting).
type Transform struct {
	Rename map[string]string
	Drop   []string
	Set    map[string]types.AttributeValue
}

// IsZero reports whether the transform leaves items unchanged.
func (t Transform) IsZero() bool {
	return len(t.Rename) == 0 && len(t.Drop) == 0 && len(t.Set) == 0
}

// Validate rejects transforms that would merge two attributes into one name.
func (t Transform) Validate() error {
	targets := map[string]string{}
	dropped := map[string]bool{}
	for _, d := range t.Drop {
		dropped[d] = true
	}
	for _, from := range sortedKeys(t.Rename) {
		to := t.Rename[from]
		if to == "" {
			return fmt.Errorf("transform: rename of %q has an empty target name", from)
		}
		if dropped[from] {
			return fmt.Errorf("transform: %q is both renamed and dropped", from)
		}
		if prev, ok := targets[to]; ok {
			return fmt.Errorf("transform: %q and %q are both renamed to %q", prev, from, to)
		}
		targets[to] = from
	}
	return nil
}

// Apply returns the transformed copy of item; item itself is not modified.
// A rename onto a name that the item also carries untouched is an error, never
// a silent overwrite.
func (t Transform) Apply(item Item) (Item, error) {
	if t.IsZero() {
		return item, nil
	}
	out := make(Item, len(item)+len(t.Set))
	dropped := make(map[string]bool, len(t.Drop))
	for _, d := range t.Drop {
		dropped[d] = true
	}
	// Renamed attributes first so that a collision is reported against the
	// untouched attribute deterministically.
	for _, name := range sortedKeys(item) {
		if dropped[name] {
			continue
		}
		if to, ok := t.Rename[name]; ok {
			out[to] = item[name]
		}
	}
	for name, v := range item {
		if dropped[name] {
			continue
		}
		if _, renamed := t.Rename[name]; renamed {
			continue
		}
		if _, taken := out[name]; taken {
			return nil, fmt.Errorf("transform: renaming onto %q collides with the item's own %q attribute", name, name)
		}
		out[name] = v
	}
	for name, v := range t.Set {
		out[name] = v
	}
	return out, nil
}

// inverseKey maps target key attribute names back to source names, for the
// verification pass that looks for target items with no source. ok is false when
// a target key attribute is a Set constant or otherwise not traceable.
func (t Transform) inverseKey(targetKey []string) (map[string]string, bool) {
	inv := map[string]string{}
	renamedFrom := map[string]string{}
	for from, to := range t.Rename {
		renamedFrom[to] = from
	}
	for _, k := range targetKey {
		if _, set := t.Set[k]; set {
			return nil, false
		}
		if from, ok := renamedFrom[k]; ok {
			inv[k] = from
			continue
		}
		if _, renamedAway := t.Rename[k]; renamedAway {
			return nil, false
		}
		inv[k] = k
	}
	return inv, true
}

func (t Transform) dropSorted() []string {
	d := append([]string(nil), t.Drop...)
	sort.Strings(d)
	return d
}

// MaxItemBytes is DynamoDB's item size limit, 400 KB, counted as DynamoDB
// counts it (attribute names plus values).
const MaxItemBytes = 400 * 1024

// ItemError reports a source item that the migration cannot write to the target
// as configured: its transform fails (a rename that collides with an attribute
// of the item) or makes the item larger than DynamoDB allows. The migration
// cannot move past such an item; the message names it and what to change.
type ItemError struct {
	Key    string // the item's source key, e.g. pk=S:"k1"
	Reason string
}

func (e *ItemError) Error() string {
	return "item " + e.Key + ": " + e.Reason + "; change the transform so that this item can be written " +
		"(a changed transform starts a new migration: terraform apply -replace), or change the item in the source"
}

// transformItem applies the transform to one source item and checks that the
// result can be written.
func (m *Migration) transformItem(src Item) (Item, error) {
	out, err := m.cfg.Transform.Apply(src)
	if err != nil {
		return nil, m.itemError(src, err)
	}
	if !m.cfg.Transform.IsZero() {
		if n := itemSize(out); n > MaxItemBytes {
			return nil, m.itemError(src, fmt.Errorf("it is %d bytes after the transform, over DynamoDB's item limit of %d bytes (400 KB)", n, MaxItemBytes))
		}
	}
	return out, nil
}

func (m *Migration) itemError(src Item, err error) error {
	return &ItemError{Key: keyString(src, m.srcKey), Reason: err.Error()}
}

// itemSize is an item's size as DynamoDB counts it against the 400 KB limit:
// each attribute name's UTF-8 length plus its value's size (numbers about one
// byte per two digits, plus one; containers three bytes plus one per element).
// It may slightly overestimate; it never underestimates by more than a few bytes.
func itemSize(it Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return len(x.Value)/2 + 2
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range x.Value {
			n += len(s)/2 + 2
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range x.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}
