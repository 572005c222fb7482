package migration

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

func TestReadyShardsLineage(t *testing.T) {
	done := func(ids ...string) map[string]shardCheckpoint {
		m := map[string]shardCheckpoint{}
		for _, id := range ids {
			m[id] = shardCheckpoint{ID: id, Finished: true}
		}
		return m
	}
	withOpen := func(m map[string]shardCheckpoint, ids ...string) map[string]shardCheckpoint {
		for _, id := range ids {
			m[id] = shardCheckpoint{ID: id}
		}
		return m
	}
	// root → (a, b) split; a → a1 (rollover); b → (b1, b2) split.
	tree := []shardInfo{
		{ID: "b2", Parent: "b"}, {ID: "a1", Parent: "a"}, {ID: "root"},
		{ID: "b", Parent: "root"}, {ID: "a", Parent: "root"}, {ID: "b1", Parent: "b"},
	}
	cases := []struct {
		name    string
		listing []shardInfo
		known   map[string]shardCheckpoint
		want    []string
	}{
		{"only the root while it is open", tree, withOpen(map[string]shardCheckpoint{}, "root", "a", "b"), []string{"root"}},
		{"unregistered children wait for a registered parent", tree, map[string]shardCheckpoint{}, []string{"root"}},
		{"split: both children after the parent", tree, withOpen(done("root"), "a", "b"), []string{"a", "b"}},
		{"generations: grandchildren only under finished parents", tree, withOpen(done("root", "b"), "a"), []string{"a", "b1", "b2"}},
		{"all finished", tree, done("root", "a", "b", "a1", "b1", "b2"), nil},
		{"parent trimmed away before capture", []shardInfo{{ID: "c1", Parent: "gone"}, {ID: "c2", Parent: "gone"}}, nil, []string{"c1", "c2"}},
		{"known unfinished parent missing from listing holds the child", []shardInfo{{ID: "c1", Parent: "p"}}, withOpen(map[string]shardCheckpoint{}, "p"), nil},
		{"known finished parent missing from listing", []shardInfo{{ID: "c1", Parent: "p"}}, done("p"), []string{"c1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := readyShards(c.listing, c.known); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("readyShards = %v, want %v", got, c.want)
			}
		})
	}
	// Out-of-order listings give the same answer.
	rev := append([]shardInfo(nil), tree...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	k := withOpen(done("root", "b"), "a")
	if a, b := readyShards(tree, k), readyShards(rev, k); !reflect.DeepEqual(a, b) {
		t.Fatalf("listing order changed the result: %v vs %v", a, b)
	}
}

func TestVanishedShards(t *testing.T) {
	known := map[string]shardCheckpoint{"a": {ID: "a", Finished: true}, "b": {ID: "b"}, "c": {ID: "c"}}
	got := vanishedShards([]shardInfo{{ID: "c"}}, known)
	if !reflect.DeepEqual(got, []string{"b"}) {
		t.Fatalf("vanishedShards = %v, want [b] (finished shards may age out)", got)
	}
}

func TestSeqLess(t *testing.T) {
	if !seqLess("9", "10") || seqLess("100000000000000000000000000000000000009", "99999999999999999999") {
		t.Fatal("sequence numbers must compare as integers")
	}
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

func TestRateLimiter(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	r := newRateLimiter(100)
	r.now, r.sleep = clk.Now, clk.Sleep
	ctx := context.Background()
	start := clk.now
	// 50 requests each reporting 10 units = 500 units at 100 units/s: the first
	// second is the burst, the remaining 400 units take 4 s.
	for i := 0; i < 50; i++ {
		if err := r.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		r.Charge(10)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if el := clk.now.Sub(start); el < 3900*time.Millisecond || el > 4100*time.Millisecond {
		t.Fatalf("500 units at 100/s with a 100-unit burst took %s, want ≈4s", el)
	}
	// A single large charge puts the bucket in debt; the next Wait repays it.
	before := clk.now
	r.Charge(300)
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if el := clk.now.Sub(before); el < 2900*time.Millisecond {
		t.Fatalf("debt of 300 units repaid in %s, want ≥3s", el)
	}
	// A limited request asks DynamoDB what it consumed, to be charged with it.
	if got := r.capacity(); got != types.ReturnConsumedCapacityTotal {
		t.Errorf("a limiter of 100 units/s asks for ReturnConsumedCapacity %q, want TOTAL", got)
	}
	// Unlimited never waits, and asks for nothing.
	u := newRateLimiter(0)
	if got := u.capacity(); got != types.ReturnConsumedCapacityNone {
		t.Errorf("an unlimited limiter asks for ReturnConsumedCapacity %q, want NONE", got)
	}
	u.sleep = func(context.Context, time.Duration) error { t.Fatal("unlimited limiter slept"); return nil }
	u.Charge(1e9)
	if err := u.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBackoffBounds(t *testing.T) {
	for a := 0; a < 20; a++ {
		if d := backoff(a, time.Second); d <= 0 || d > time.Second {
			t.Fatalf("backoff(%d) = %s", a, d)
		}
	}
}

func TestCanonicalNumber(t *testing.T) {
	eq := [][]string{
		{"1", "1.0", "+1", "1.000", "10E-1", "0.1e1", "001"},
		{"0", "-0", "0.000", "0e10"},
		{"-12.5", "-1.25E1", "-125e-1"},
		{"12345678901234567890123456789012345678", "1.2345678901234567890123456789012345678E37"},
		{"100", "1E2", "1e+2"},
	}
	for _, group := range eq {
		want, err := CanonicalNumber(group[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range group[1:] {
			if got, err := CanonicalNumber(s); err != nil || got != want {
				t.Errorf("CanonicalNumber(%q) = %q, %v; want %q", s, got, err, want)
			}
		}
	}
	ne := [][2]string{
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345679"},
		{"0.1", "0.10000000000000001"},
		{"1", "-1"},
	}
	for _, p := range ne {
		a, _ := CanonicalNumber(p[0])
		b, _ := CanonicalNumber(p[1])
		if a == b {
			t.Errorf("%q and %q must differ", p[0], p[1])
		}
	}
	for _, bad := range []string{"", "abc", "1..2", "1e", "."} {
		if _, err := CanonicalNumber(bad); err == nil {
			t.Errorf("CanonicalNumber(%q) accepted", bad)
		}
	}
}

func TestEqualCanonical(t *testing.T) {
	n := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	cases := []struct {
		a, b types.AttributeValue
		want bool
	}{
		{n("1.0"), n("1"), true},
		{n("1"), s("1"), false},
		{&types.AttributeValueMemberSS{Value: []string{"a", "b"}}, &types.AttributeValueMemberSS{Value: []string{"b", "a"}}, true},
		{&types.AttributeValueMemberSS{Value: []string{"a", "b"}}, &types.AttributeValueMemberSS{Value: []string{"a", "c"}}, false},
		{&types.AttributeValueMemberNS{Value: []string{"1.50", "2"}}, &types.AttributeValueMemberNS{Value: []string{"2.0", "1.5"}}, true},
		{&types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 0}}}, &types.AttributeValueMemberBS{Value: [][]byte{{2, 0}, {1}}}, true},
		{&types.AttributeValueMemberBS{Value: [][]byte{{2}}}, &types.AttributeValueMemberBS{Value: [][]byte{{2, 0}}}, false},
		{&types.AttributeValueMemberB{Value: []byte{0, 1}}, &types.AttributeValueMemberB{Value: []byte{0, 1}}, true},
		{&types.AttributeValueMemberB{Value: []byte{0, 1}}, &types.AttributeValueMemberB{Value: []byte{1, 0}}, false},
		{&types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("x")}}, &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1.0"), s("x")}}, true},
		{&types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("x")}}, &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), n("1")}}, false},
		{&types.AttributeValueMemberM{Value: Item{"a": n("2"), "b": &types.AttributeValueMemberNULL{Value: true}}}, &types.AttributeValueMemberM{Value: Item{"b": &types.AttributeValueMemberNULL{Value: true}, "a": n("2.00")}}, true},
		{&types.AttributeValueMemberM{Value: Item{"a": n("2")}}, &types.AttributeValueMemberM{Value: Item{"a": n("2"), "b": s("")}}, false},
		{&types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberBOOL{Value: false}, false},
	}
	for i, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("case %d: Equal = %v, want %v", i, got, c.want)
		}
	}
}

func TestTransform(t *testing.T) {
	tr := Transform{
		Rename: map[string]string{"id": "pk", "a": "b", "b": "a"},
		Drop:   []string{"legacy"},
		Set:    map[string]types.AttributeValue{"schemaVersion": &types.AttributeValueMemberN{Value: "2"}},
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	in := Item{
		"id": &types.AttributeValueMemberS{Value: "k"}, "a": &types.AttributeValueMemberN{Value: "1"},
		"b": &types.AttributeValueMemberN{Value: "2"}, "legacy": &types.AttributeValueMemberBOOL{Value: true},
		"keep": &types.AttributeValueMemberS{Value: ""},
	}
	out, err := tr.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	want := Item{
		"pk": &types.AttributeValueMemberS{Value: "k"}, "b": &types.AttributeValueMemberN{Value: "1"},
		"a": &types.AttributeValueMemberN{Value: "2"}, "keep": &types.AttributeValueMemberS{Value: ""},
		"schemaVersion": &types.AttributeValueMemberN{Value: "2"},
	}
	if !ItemsEqual(out, want) {
		t.Fatalf("Apply = %v, want %v", out, want)
	}
	if _, ok := in["pk"]; ok || in["id"] == nil {
		t.Fatal("Apply modified its input")
	}
	// A rename onto an attribute the item keeps is refused, not overwritten.
	if _, err := (Transform{Rename: map[string]string{"id": "pk"}}).Apply(Item{"id": in["id"], "pk": in["id"]}); err == nil {
		t.Fatal("rename collision accepted")
	}
	if err := (Transform{Rename: map[string]string{"x": "z", "y": "z"}}).Validate(); err == nil {
		t.Fatal("two renames onto one name accepted")
	}
	if inv, ok := tr.inverseKey([]string{"pk"}); !ok || inv["pk"] != "id" {
		t.Fatalf("inverseKey = %v, %v", inv, ok)
	}
	if _, ok := tr.inverseKey([]string{"schemaVersion"}); ok {
		t.Fatal("a Set constant cannot be traced back to the source")
	}
}

func streamRec(op streamtypes.OperationType, seq, key string, newImage map[string]streamtypes.AttributeValue) streamtypes.Record {
	return streamtypes.Record{EventName: op, Dynamodb: &streamtypes.StreamRecord{
		SequenceNumber: &seq,
		Keys:           map[string]streamtypes.AttributeValue{"id": &streamtypes.AttributeValueMemberS{Value: key}},
		NewImage:       newImage,
	}}
}

func TestChangesDedupKeepsLastPerKey(t *testing.T) {
	m := &Migration{cfg: Config{Transform: Transform{Rename: map[string]string{"id": "pk"}}}, srcKey: []string{"id"}, dstKey: []string{"pk"}}
	img := func(k, v string) map[string]streamtypes.AttributeValue {
		return map[string]streamtypes.AttributeValue{"id": &streamtypes.AttributeValueMemberS{Value: k}, "v": &streamtypes.AttributeValueMemberN{Value: v}}
	}
	recs := []streamtypes.Record{
		streamRec(streamtypes.OperationTypeInsert, "1", "a", img("a", "1")),
		streamRec(streamtypes.OperationTypeInsert, "2", "b", img("b", "1")),
		streamRec(streamtypes.OperationTypeModify, "3", "a", img("a", "2")),
		streamRec(streamtypes.OperationTypeRemove, "4", "b", nil),
		streamRec(streamtypes.OperationTypeInsert, "5", "c", img("c", "7")),
		streamRec(streamtypes.OperationTypeRemove, "6", "c", nil),
		streamRec(streamtypes.OperationTypeInsert, "7", "c", img("c", "8")),
		streamRec(streamtypes.OperationTypeModify, "8", "d", nil), // KEYS_ONLY view: re-read
	}
	cs, err := m.changesFromRecords(recs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		desc := c.key + " "
		switch {
		case c.needRead:
			desc += "reread"
		case c.put == nil:
			desc += "delete"
		default:
			desc += "put v=" + c.put["v"].(*types.AttributeValueMemberN).Value
			if _, ok := c.put["pk"]; !ok {
				t.Errorf("put for %s not transformed: %v", c.key, c.put)
			}
		}
		got = append(got, desc)
	}
	want := []string{`pk=S:"a" put v=2`, `pk=S:"b" delete`, `pk=S:"c" put v=8`, `pk=S:"d" reread`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestVersionGreater(t *testing.T) {
	n := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	if !versionGreater(n("10"), n("9")) || versionGreater(n("9.0"), n("9")) || !versionGreater(n("1e39"), n("99999999999999999999999999999999999999")) {
		t.Fatal("numeric versions must compare as decimals")
	}
	if !versionGreater(n("1"), nil) || versionGreater(nil, n("1")) {
		t.Fatal("a version beats no version")
	}
}

func TestConfigRoundTrip(t *testing.T) {
	c := Config{
		ID: "m1", Source: Endpoint{Table: "src", Region: "us-east-1"}, Target: Endpoint{Table: "dst", Region: "eu-west-1", RoleARN: "arn:aws:iam::1:role/x"},
		Segments: 8, HandOff: HandOffReplay, VersionAttribute: "updatedAt", StreamViewType: "NEW_IMAGE", MaxReadUnits: 10.5, MaxWriteUnits: 20,
		Transform: Transform{Rename: map[string]string{"id": "pk"}, Drop: []string{"x"}, Set: map[string]types.AttributeValue{"v": &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"}}},
	}
	c.CheckpointRegion = "eu-west-1"
	got := configFromItem("m1", "ck", c.configItem())
	if got.fingerprint() != c.fingerprint() {
		t.Fatalf("fingerprint changed through storage: %+v", got)
	}
	if got.Target.RoleARN != c.Target.RoleARN || got.MaxReadUnits != 10.5 || got.StreamViewType != "NEW_IMAGE" || got.CheckpointTable != "ck" {
		t.Fatalf("round trip lost fields: %+v", got)
	}
	c2 := c
	c2.Transform.Set = map[string]types.AttributeValue{"v": &types.AttributeValueMemberN{Value: "1"}}
	if c2.fingerprint() == c.fingerprint() {
		t.Fatal("a different transform must change the fingerprint")
	}
}

func TestStreamImageDistrustsUndecodedValues(t *testing.T) {
	s1 := &streamtypes.AttributeValueMemberS{Value: "1"}
	good := map[string]streamtypes.AttributeValue{
		"a": s1,
		"m": &streamtypes.AttributeValueMemberM{Value: map[string]streamtypes.AttributeValue{}},
		"l": &streamtypes.AttributeValueMemberL{Value: []streamtypes.AttributeValue{&streamtypes.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"}}},
	}
	img, ok := streamImage(good)
	if !ok || len(img) != 3 || img["l"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberN).Value != "12345678901234567890123456789012345678" {
		t.Fatalf("streamImage(good) = %v, %v", img, ok)
	}
	if m := img["m"].(*types.AttributeValueMemberM).Value; m == nil {
		t.Fatal("an empty map must stay a non-nil empty map")
	}
	// The SDK repeats the previous entry's value for a member it could not decode.
	reused := map[string]streamtypes.AttributeValue{
		"m": &streamtypes.AttributeValueMemberM{Value: map[string]streamtypes.AttributeValue{"a": s1, "e": s1}},
	}
	if _, ok := streamImage(reused); ok {
		t.Fatal("a value decoded twice must not be trusted")
	}
	if _, ok := streamImage(map[string]streamtypes.AttributeValue{"x": nil}); ok {
		t.Fatal("a nil value must not be trusted")
	}
	if img, ok := streamImage(nil); img != nil || !ok {
		t.Fatal("an absent image is nil and fine")
	}
}

// auto chooses replay only when the estimated backfill fits within
// ReplayWithin; the estimate charges one write unit per KB of each item at the
// write limit (or 4,000 units/s) and one read unit per 4 KB at the read limit.
func TestResolveHandOffAuto(t *testing.T) {
	c := Config{HandOff: HandOffAuto}
	c.setDefaults()
	if d := c.EstimateBackfill(4000*3600, 4000*3600*1024); d != time.Hour {
		t.Errorf("14.4M 1 KB items at 4,000 units/s: estimate %s, want 1h", d)
	}
	if h, _ := c.ResolveHandOff(time.Hour); h != HandOffReplay {
		t.Errorf("1 h backfill: %s, want replay", h)
	}
	if h, why := c.ResolveHandOff(13 * time.Hour); h != HandOffInsertIfAbsent || why == "" {
		t.Errorf("13 h backfill: %s (%q), want insert_if_absent with a reason", h, why)
	}
	c.MaxWriteUnits, c.MaxReadUnits = 100, 10
	// 3,000-byte items: 3 write units each at 100/s = 30 s; reads 3 MB / 4 KB / 10 = 73.2 s.
	if d := c.EstimateBackfill(1000, 1000*3000); d < 73*time.Second || d > 74*time.Second {
		t.Errorf("read-bound estimate %s, want about 73 s", d)
	}
	fixed := Config{HandOff: HandOffInsertIfAbsent}
	fixed.setDefaults()
	if h, _ := fixed.ResolveHandOff(0); h != HandOffInsertIfAbsent {
		t.Errorf("a configured hand-off changed to %s", h)
	}
}

// The single-item write bound grows while the target answers as fast as ever,
// halves on throttling, and halves when latency climbs well above the best.
func TestAdaptiveLimit(t *testing.T) {
	a := newAdaptiveLimit(64, 16, 512)
	window := func(lat time.Duration, throttled bool) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for i := 0; i < adaptiveWindow; i++ {
			must(t, a.acquire(ctx))
			a.release(lat, throttled && i == 0, true)
		}
	}
	for i := 0; i < 20; i++ {
		window(10*time.Millisecond, false)
	}
	if got := a.current(); got < 400 {
		t.Fatalf("after 20 flat windows the bound is %d, want it grown towards 512", got)
	}
	grown := a.current()
	window(10*time.Millisecond, true)
	if got := a.current(); got != grown/2 {
		t.Fatalf("after a throttle the bound is %d, want %d", got, grown/2)
	}
	before := a.current()
	window(50*time.Millisecond, false) // straddles the window that held the throttle
	window(50*time.Millisecond, false)
	if got := a.current(); got >= before {
		t.Fatalf("after a window 5x slower the bound is %d, want below %d", got, before)
	}
	for i := 0; i < 30; i++ {
		window(time.Second, true)
	}
	if got := a.current(); got != 16 {
		t.Fatalf("under sustained throttling the bound is %d, want the minimum 16", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for i := 0; i < 16; i++ {
		must(t, a.acquire(ctx))
	}
	if err := a.acquire(ctx); err == nil {
		t.Fatal("acquire beyond the bound did not wait")
	}
}

func TestScanSplitFor(t *testing.T) {
	for _, c := range []struct {
		size, items int64
		segments    int
		want        int64
	}{
		{0, 0, 16, 1},
		{1 << 19, 500, 16, 1},
		{8 << 20, 8_000, 16, 1},
		{8<<20 + 1, 8_000, 16, 2},
		{100 << 20, 100_000, 16, 13},
		// Small items: the item count decides (400,000 items of 500 bytes:
		// 50 Scan segments of 500 items per backfill segment, not 24 of 1,000).
		{200_000_000, 400_000, 16, 50},
		{0, 8_001, 16, 2},
		{1 << 40, 0, 16, maxTotalSegments / 16}, // TotalSegments stays within what Scan accepts
		{0, 1 << 40, 16, maxTotalSegments / 16},
		{1 << 40, 1 << 40, 1_000_000, 1},
	} {
		if got := scanSplitFor(c.size, c.items, c.segments); got != c.want {
			t.Errorf("scanSplitFor(%d, %d, %d) = %d, want %d", c.size, c.items, c.segments, got, c.want)
		}
	}
}
