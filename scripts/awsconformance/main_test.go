package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A skipped test fails the run like a failed one (the AWS provider's ErrorCheck turns
// some errors into skips), and so does a listed test that never ran. Catches a
// report that counts a skip as a pass.
func TestReportCountsSkipsAsFailures(t *testing.T) {
	list := &List{Run: []string{"TestAccA", "TestAccB", "TestAccC", "TestAccD"}, OutOfScope: [][2]string{{"TestAccE", "needs S3"}}}
	in := strings.Join([]string{
		`{"Action":"run","Test":"TestAccA"}`,
		`{"Action":"pass","Test":"TestAccA","Elapsed":3}`,
		`{"Action":"output","Test":"TestAccB","Output":"    table_test.go:12: skipping tests; operation not supported\n"}`,
		`{"Action":"skip","Test":"TestAccB","Elapsed":1}`,
		`{"Action":"output","Test":"TestAccC","Output":"    table_test.go:40: Step 1/2 error: Error running apply: exit status 1\n"}`,
		`{"Action":"output","Test":"TestAccC","Output":"        Error: creating replica: ValidationException: nope\n"}`,
		`{"Action":"fail","Test":"TestAccC","Elapsed":9}`,
	}, "\n")
	var out bytes.Buffer
	if code := report(strings.NewReader(in), &out, list); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	s := out.String()
	for _, want := range []string{"PASS      TestAccA", "SKIP      TestAccB", "operation not supported", "FAIL      TestAccC",
		"ValidationException: nope", "NOT RUN   TestAccD", "TestAccE", "needs S3", "4 listed: 1 passed, 1 failed, 1 skipped"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	all := &List{Run: []string{"TestAccA"}}
	if code := report(strings.NewReader(`{"Action":"pass","Test":"TestAccA"}`), &bytes.Buffer{}, all); code != 0 {
		t.Fatalf("all passed: exit code %d, want 0", code)
	}
}

func TestReadListNeedsReasons(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "l.txt")
	_ = os.WriteFile(p, []byte("TestAccA # comment\n- TestAccB: needs S3\n"), 0o600)
	l, err := readList(p)
	if err != nil || len(l.Run) != 1 || len(l.OutOfScope) != 1 {
		t.Fatalf("readList = %+v, %v", l, err)
	}
	_ = os.WriteFile(p, []byte("- TestAccB\n"), 0o600)
	if _, err := readList(p); err == nil {
		t.Fatal("an out-of-scope test without a reason was accepted")
	}
	// The committed list parses.
	if _, err := readList("../conformance-aws/tests.txt"); err != nil {
		t.Fatal(err)
	}
}
