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
