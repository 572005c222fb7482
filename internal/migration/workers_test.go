package migration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// startWorkerProcess re-executes the test binary as a worker (see runWorker).
func startWorkerProcess(t *testing.T, spec string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"="+spec)
	var out bytes.Buffer
	cmd.Stderr, cmd.Stdout = &out, &out
	must(t, cmd.Start())
	return cmd, &out
}

// waitStatus polls Status until cond holds.
func waitStatus(t *testing.T, m *Migration, what string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := m.Status(context.Background())
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last status %+v, %v", what, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Workers are SIGKILLed during the backfill (twice) and during sync; each
// next worker resumes from the checkpoints after the dead one's leases expire,
// and the end state is exact.
func TestKilledWorkersResume(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 6000, 300)
	w := startWriter(e.src, e.srcTable, 6500, 100, nil)
	m := e.newMigration(t, nil)
	ctx := context.Background()
	must(t, m.Start(ctx))
	syncFrom := int64(-1) // records applied when the sync phase was first seen
	earlyDone := -1       // segments done at the first kill
	points := []struct {
		name string
		cond func(Status) bool
	}{
		{"early in the backfill", func(s Status) bool { return s.ItemsCopied >= 800 }},
		// A page holds a whole segment here (750 items of 300 bytes), so the
		// items copied move a segment at a time, and segments that resume
		// together end together: "late" is when more segments are done than at
		// the first kill, while some are still to do (a count of items could
		// jump past the last segment at once).
		{"late in the backfill", func(s Status) bool { return s.SegmentsDone > earlyDone && s.SegmentsDone < s.Segments }},
		// Records applied by this worker in sync, after the backfill: the records
		// applied during the backfill already exceed 300 when it ends.
		{"during sync", func(s Status) bool {
			if s.Phase != PhaseSyncing {
				return false
			}
			if syncFrom < 0 {
				syncFrom = s.RecordsApplied
			}
			return s.RecordsApplied >= syncFrom+300
		}},
	}
	for _, p := range points {
		// Slow the worker down so that the kill lands mid-backfill.
		cmd, out := startWorkerProcess(t, e.spec(1200))
		st := waitStatus(t, m, p.name, p.cond)
		must(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		t.Logf("killed worker %s: copied %d, segments done %d/%d, records applied %d", p.name, st.ItemsCopied, st.SegmentsDone, st.Segments, st.RecordsApplied)
		if earlyDone < 0 {
			earlyDone = st.SegmentsDone
		}
		// The kill landed where it was meant to: mid-backfill, or in sync after the
		// worker applied records of its own. Catches: a "during sync" kill that
		// lands as the backfill ends (the condition RecordsApplied >= 300 alone).
		if backfilled := st.SegmentsDone == st.Segments; backfilled != (p.name == "during sync") {
			t.Fatalf("killed %s with %d of %d segments done", p.name, st.SegmentsDone, st.Segments)
		}
		if strings.Contains(out.String(), "panic") {
			t.Fatalf("worker output:\n%s", out)
		}
	}
	// A fresh in-process worker finishes the job.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	must(t, m.Backfill(cctx))
	must(t, m.CatchUp(cctx))
	ops := w.stop(t)
	rep, err := m.Cutover(cctx, CutoverOptions{Quiet: time.Second})
	if err != nil {
		t.Fatalf("Cutover: %v (%+v)", err, rep)
	}
	requireSame(t, e, Transform{}, "pk", nil)
	t.Logf("writer ops %d; verification %+v", ops, rep)
}

// Two workers at once share segments and shards without double work and end exact.
func TestTwoWorkersAtOnce(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 3000, 200)
	w := startWriter(e.src, e.srcTable, 3500, 100, nil)
	a := e.newMigration(t, func(c *Config) { c.Parallelism = 2; c.MaxWriteUnits = 1500 })
	b := e.newMigration(t, func(c *Config) { c.Parallelism = 2; c.MaxWriteUnits = 1500 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	must(t, a.Start(ctx))
	must(t, b.Start(ctx))
	errs := make(chan error, 2)
	for _, m := range []*Migration{a, b} {
		go func() {
			if err := m.Backfill(ctx); err != nil {
				errs <- err
				return
			}
			errs <- runFor(m, 4*time.Second)
		}()
	}
	for range 2 {
		must(t, <-errs)
	}
	if a.copied.Load() == 0 || b.copied.Load() == 0 {
		t.Fatalf("both workers should have copied segments: %d and %d", a.copied.Load(), b.copied.Load())
	}
	st, err := a.Status(ctx)
	must(t, err)
	if st.ItemsCopied != a.copied.Load()+b.copied.Load() {
		t.Fatalf("checkpointed items %d != copied by the workers %d + %d: a segment was copied twice or lost", st.ItemsCopied, a.copied.Load(), b.copied.Load())
	}
	w.stop(t)
	if _, err := a.Cutover(ctx, CutoverOptions{Quiet: time.Second}); err != nil {
		t.Fatal(err)
	}
	requireSame(t, e, Transform{}, "pk", nil)
	t.Logf("worker a copied %d, applied %d; worker b copied %d, applied %d", a.copied.Load(), a.applied.Load(), b.copied.Load(), b.applied.Load())
}

// Version mode: during the traffic shift the application writes some items
// directly to the target with newer versions; replicated writes (including
// deletes) must not overwrite them, and everything else must match the source.
func TestVersionAttributeWithDirectTargetWrites(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	seed(t, e.src, e.srcTable, 0, 1000, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Every seeded item gets a version; the writer stamps versions from the clock.
	for i := 0; i < 1000; i += 100 {
		_, err := e.src.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.srcTable, Key: Item{"pk": sAV(fmt.Sprintf("k%07d", i))},
			UpdateExpression: ptr("SET ver = :v"), ExpressionAttributeValues: Item{":v": nAV(1)}})
		must(t, err)
	}
	w := startWriter(e.src, e.srcTable, 1200, 100, func(it Item) { it["ver"] = nAV(time.Now().UnixNano()) })
	m := e.newMigration(t, func(c *Config) { c.VersionAttribute = "ver" })
	must(t, m.Start(ctx))
	must(t, m.Backfill(ctx))
	must(t, m.CatchUp(ctx))
	direct := map[string]bool{}
	for i := 0; i < 1200; i += 40 {
		pk := fmt.Sprintf("k%07d", i)
		direct[pk] = true
		_, err := e.dst.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.dstTable, Item: Item{
			"pk": sAV(pk), "ver": &types.AttributeValueMemberN{Value: "99999999999999999999999999999999999999"}, "direct": sAV("yes"),
		}})
		must(t, err)
	}
	must(t, runFor(m, 4*time.Second))
	w.stop(t)
	must(t, m.Drain(ctx, time.Second))
	requireSame(t, e, Transform{}, "pk", func(pk string) bool { return direct[pk] })
	dst := scanAllItems(t, e.dst, e.dstTable, "pk")
	for pk := range direct {
		if sOf(dst[pk]["direct"]) != "yes" {
			t.Errorf("direct target write for %s was overwritten by an older replicated value: %v", pk, dst[pk])
		}
	}
	// The writer touched some of the directly written keys after they were
	// written (about 10 of its ~400 writes), so some conditional writes must have
	// found the newer target value: the direct writes survived through the
	// condition, not because no replicated write reached them.
	if m.skipped.Load() == 0 {
		t.Fatal("no conditional write found a newer target value")
	}
	t.Logf("conditional writes that kept a newer target value: %d", m.skipped.Load())
}

// Fidelity: 38-digit numbers, binary and binary sets, string and number sets,
// nested maps and lists, empty strings and ~400 KB items survive byte for byte,
// through the backfill and through the stream.
func TestFidelity(t *testing.T) {
	e := newEnv(t, "us-east-1", "us-east-1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	big := make([]byte, 395<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	item := func(pk string, variant int) Item {
		return Item{
			"pk":     sAV(pk),
			"n38":    &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
			"nfrac":  &types.AttributeValueMemberN{Value: "-0.00000000000000000000000000000000000123"},
			"nbig":   &types.AttributeValueMemberN{Value: "9.9999999999999999999999999999999999999E+125"},
			"bin":    &types.AttributeValueMemberB{Value: []byte{0, 255, 1, 254, byte(variant)}},
			"bs":     &types.AttributeValueMemberBS{Value: [][]byte{{0}, {0, 0}, {255, 254}}},
			"ss":     &types.AttributeValueMemberSS{Value: []string{"a", "b", "ünïcödé", " "}},
			"ns":     &types.AttributeValueMemberNS{Value: []string{"1", "1.5", "-99999999999999999999999999999999999999", "0.000001"}},
			"empty":  sAV(""),
			"nested": &types.AttributeValueMemberM{Value: Item{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{sAV(""), &types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberBOOL{Value: false}, &types.AttributeValueMemberM{Value: Item{"deep": &types.AttributeValueMemberL{Value: []types.AttributeValue{nAV(int64(variant))}}}}}}, "emptyMap": &types.AttributeValueMemberM{Value: Item{}}, "emptyList": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}},
			"blob":   &types.AttributeValueMemberB{Value: big},
		}
	}
	put := func(it Item) {
		_, err := e.src.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.srcTable, Item: it})
		must(t, err)
	}
	put(item("backfilled", 1))
	m := e.newMigration(t, nil)
	must(t, m.Start(ctx))
	put(item("streamed", 2))
	must(t, m.Backfill(ctx))
	put(item("after-backfill", 3))
	must(t, m.CatchUp(ctx))
	must(t, m.Drain(ctx, time.Second))
	src := scanAllItems(t, e.src, e.srcTable, "pk")
	dst := scanAllItems(t, e.dst, e.dstTable, "pk")
	if len(src) != 3 || len(dst) != 3 {
		t.Fatalf("items: source %d, target %d", len(src), len(dst))
	}
	for pk, s := range src {
		if diff := exactDiff(s, dst[pk]); diff != "" {
			t.Errorf("%s: %s", pk, diff)
		}
	}
	if rep, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second}); err != nil {
		t.Fatalf("Cutover: %v (%+v)", err, rep)
	}
}

// exactDiff compares items byte for byte: numbers as the exact strings
// DynamoDB returns, sets as sorted exact members.
func exactDiff(a, b Item) string {
	if len(a) != len(b) {
		return fmt.Sprintf("attribute count %d vs %d", len(a), len(b))
	}
	for k, av := range a {
		if d := exactAV(av, b[k]); d != "" {
			return k + ": " + d
		}
	}
	return ""
}

func exactAV(a, b types.AttributeValue) string {
	sorted := func(ss []string) string {
		c := append([]string(nil), ss...)
		sort.Strings(c)
		return strings.Join(c, "\x00")
	}
	switch x := a.(type) {
	case *types.AttributeValueMemberN:
		if y, ok := b.(*types.AttributeValueMemberN); !ok || x.Value != y.Value {
			return fmt.Sprintf("N %q vs %v", x.Value, b)
		}
	case *types.AttributeValueMemberNS:
		if y, ok := b.(*types.AttributeValueMemberNS); !ok || sorted(x.Value) != sorted(y.Value) {
			return fmt.Sprintf("NS %q vs %v", x.Value, b)
		}
	case *types.AttributeValueMemberSS:
		if y, ok := b.(*types.AttributeValueMemberSS); !ok || sorted(x.Value) != sorted(y.Value) {
			return fmt.Sprintf("SS %q vs %v", x.Value, b)
		}
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		if !ok || sorted(bytesToStrings(x.Value)) != sorted(bytesToStrings(y.Value)) {
			return "BS differs"
		}
	case *types.AttributeValueMemberB:
		if y, ok := b.(*types.AttributeValueMemberB); !ok || !bytes.Equal(x.Value, y.Value) {
			return "B differs"
		}
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(x.Value) != len(y.Value) {
			return "L length differs"
		}
		for i := range x.Value {
			if d := exactAV(x.Value[i], y.Value[i]); d != "" {
				return fmt.Sprintf("[%d] %s", i, d)
			}
		}
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		if !ok {
			return "M vs other"
		}
		return exactDiff(x.Value, y.Value)
	default:
		if !Equal(a, b) {
			return fmt.Sprintf("%v vs %v", a, b)
		}
	}
	return ""
}

// The runner binary keeps the target in sync, exits 0 on SIGTERM after
// releasing its leases, and exits 0 on its own when the migration cuts over.
func TestRunnerBinary(t *testing.T) {
	e := newEnv(t, "us-east-1", "eu-west-1")
	bin := filepath.Join(t.TempDir(), "ddbglobal-sync")
	build := exec.Command("go", "build", "-o", bin, "github.com/ddbglobal/terraform-provider-ddbglobal/cmd/ddbglobal-sync")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the runner: %v\n%s", err, out)
	}
	seed(t, e.src, e.srcTable, 0, 800, 100)
	w := startWriter(e.src, e.srcTable, 1000, 50, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m := e.newMigration(t, nil)
	must(t, m.Start(ctx))
	runner := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "-checkpoint-table", e.ckTable, "-region", e.dstRegion, "-id", e.id, "-endpoint", e.ep, "-lease", "4s",
			"-source-table", e.srcTable, "-source-region", e.srcRegion, "-target-table", e.dstTable, "-target-region", e.dstRegion)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=migrationtest", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		must(t, cmd.Start())
		return cmd, &out
	}
	cmd, out := runner()
	waitStatus(t, m, "the runner to finish the backfill and apply records", func(s Status) bool { return s.Phase == PhaseSyncing && s.RecordsApplied > 100 })
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("runner on SIGTERM: %v\n%s", err, out)
	}
	shards, err := m.shardCheckpoints(ctx)
	must(t, err)
	for id, ck := range shards {
		if ck.Owner != "" {
			t.Errorf("shard %s still leased by %s after SIGTERM", id, ck.Owner)
		}
	}
	cmd, out = runner()
	time.Sleep(2 * time.Second)
	w.stop(t)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	rep, err := m.Cutover(ctx, CutoverOptions{Quiet: time.Second})
	if err != nil {
		t.Fatalf("Cutover: %v (%+v)\nrunner:\n%s", err, rep, out)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runner at cutover: %v\n%s", err, out)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("runner did not exit at cutover:\n%s", out)
	}
	if !strings.Contains(out.String(), "cutting over or completed") {
		t.Fatalf("runner output:\n%s", out)
	}
	requireSame(t, e, Transform{}, "pk", nil)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timed out")
	}
}
