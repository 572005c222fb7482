package migration

import (
	"bytes"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Item is one DynamoDB item, kept as raw AttributeValues end to end so that
// numbers never pass through float64 and binary stays byte for byte.
type Item = map[string]types.AttributeValue

// streamImage converts a Streams image (a distinct Go type in the SDK) into a
// DynamoDB item. Strings, numbers and bytes are shared, not re-encoded.
//
// ok is false when the image cannot be trusted, and the caller re-reads the
// item from the source instead. Two cases: a nil value (a union member the SDK
// does not recognise), and one decoded value appearing twice in the image —
// DynamoDB Local writes an empty map as {} in stream images, and the SDK then
// silently repeats the previous map entry's value instead of failing.
func streamImage(m map[string]streamtypes.AttributeValue) (Item, bool) {
	if m == nil {
		return nil, true
	}
	c := imageConverter{seen: map[streamtypes.AttributeValue]bool{}}
	out := c.item(m)
	return out, c.ok
}

type imageConverter struct {
	seen map[streamtypes.AttributeValue]bool
	ok   bool
}

func (c *imageConverter) item(m map[string]streamtypes.AttributeValue) Item {
	c.ok = true
	out := make(Item, len(m))
	for k, v := range m {
		out[k] = c.value(v)
	}
	return out
}

func (c *imageConverter) value(av streamtypes.AttributeValue) types.AttributeValue {
	if av == nil || c.seen[av] {
		c.ok = false
		return nil
	}
	c.seen[av] = true
	switch v := av.(type) {
	case *streamtypes.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *streamtypes.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *streamtypes.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: v.Value}
	case *streamtypes.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: v.Value}
	case *streamtypes.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: v.Value}
	case *streamtypes.AttributeValueMemberBS:
		return &types.AttributeValueMemberBS{Value: v.Value}
	case *streamtypes.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *streamtypes.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *streamtypes.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = c.value(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *streamtypes.AttributeValueMemberM:
		ok := c.ok
		m := c.item(v.Value)
		c.ok = c.ok && ok
		return &types.AttributeValueMemberM{Value: m}
	}
	c.ok = false
	return nil
}

// CanonicalNumber normalizes a DynamoDB number string so that equal decimal
// values compare equal as strings: "1.0", "1", "+1", "10E-1" and "0.1e1" all
// become "1". It works on the digits only (no float64), so 38-digit numbers keep
// every digit.
func CanonicalNumber(s string) (string, error) {
	orig := s
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	exp := new(big.Int)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if _, ok := exp.SetString(strings.TrimPrefix(s[i+1:], "+"), 10); !ok {
			return "", fmt.Errorf("invalid number %q", orig)
		}
		s = s[:i]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
	}
	if intPart == "" && frac == "" {
		return "", fmt.Errorf("invalid number %q", orig)
	}
	digits := intPart + frac
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("invalid number %q", orig)
		}
	}
	// value = digits × 10^(exp - len(frac))
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	exp.Add(exp, big.NewInt(int64(len(digits)-len(trimmed))))
	digits = trimmed
	sign := ""
	if neg {
		sign = "-"
	}
	if exp.Sign() == 0 {
		return sign + digits, nil
	}
	return sign + digits + "e" + exp.String(), nil
}

// Equal reports whether two AttributeValues hold the same data: sets compare
// unordered, numbers compare as decimal values, binary compares byte for byte,
// lists keep their order.
func Equal(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && numbersEqual(x.Value, y.Value)
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		y, ok := b.(*types.AttributeValueMemberNULL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(x.Value, y.Value, func(s string) string { return s })
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(x.Value, y.Value, canonicalOrRaw)
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		if !ok {
			return false
		}
		return sameSet(bytesToStrings(x.Value), bytesToStrings(y.Value), func(s string) string { return s })
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for i := range x.Value {
			if !Equal(x.Value[i], y.Value[i]) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		return ok && ItemsEqual(x.Value, y.Value)
	}
	return false
}

// ItemsEqual compares two items attribute by attribute with Equal.
func ItemsEqual(a, b Item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !Equal(av, bv) {
			return false
		}
	}
	return true
}

func numbersEqual(a, b string) bool {
	if a == b {
		return true
	}
	ca, errA := CanonicalNumber(a)
	cb, errB := CanonicalNumber(b)
	return errA == nil && errB == nil && ca == cb
}

func canonicalOrRaw(s string) string {
	if c, err := CanonicalNumber(s); err == nil {
		return c
	}
	return s
}

func bytesToStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func sameSet(a, b []string, canon func(string) string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int, len(a))
	for _, s := range a {
		seen[canon(s)]++
	}
	for _, s := range b {
		c := canon(s)
		if seen[c] == 0 {
			return false
		}
		seen[c]--
	}
	return true
}

// keyString renders the key attributes of an item as a stable, human-readable
// string, used to deduplicate batches and to report mismatched keys.
func keyString(item Item, keyNames []string) string {
	var b strings.Builder
	for i, name := range keyNames {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(name)
		b.WriteByte('=')
		switch v := item[name].(type) {
		case *types.AttributeValueMemberS:
			fmt.Fprintf(&b, "S:%q", v.Value)
		case *types.AttributeValueMemberN:
			b.WriteString("N:" + canonicalOrRaw(v.Value))
		case *types.AttributeValueMemberB:
			fmt.Fprintf(&b, "B:%x", v.Value)
		default:
			b.WriteString("?")
		}
	}
	return b.String()
}

// project returns only the named attributes of item.
func project(item Item, names []string) Item {
	out := make(Item, len(names))
	for _, n := range names {
		if v, ok := item[n]; ok {
			out[n] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// compareDecimal compares two DynamoDB numbers exactly (as rationals).
func compareDecimal(a, b string) int {
	x, okA := new(big.Rat).SetString(a)
	y, okB := new(big.Rat).SetString(b)
	if !okA || !okB {
		return strings.Compare(a, b)
	}
	return x.Cmp(y)
}
