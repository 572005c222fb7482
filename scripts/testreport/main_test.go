package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "example.com/m"

func run(t *testing.T, events string, allowList string) (int, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "allow")
	if err := os.WriteFile(path, []byte(allowList), 0o600); err != nil {
		t.Fatal(err)
	}
	allow, err := readAllow(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	code := report(strings.NewReader(events), &out, allow, mod)
	return code, out.String()
}

const skipped = `{"Action":"run","Package":"example.com/m/internal/migration","Test":"TestA"}
{"Action":"output","Package":"example.com/m/internal/migration","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"example.com/m/internal/migration","Test":"TestA","Output":"    harness_test.go:58: emulator unavailable\n"}
{"Action":"output","Package":"example.com/m/internal/migration","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}
{"Action":"skip","Package":"example.com/m/internal/migration","Test":"TestA"}
{"Action":"pass","Package":"example.com/m/internal/migration"}
`

// A package whose tests all skipped passes under plain `go test`; here it fails the
// run unless the allow-list names the test and its reason.
func TestSkipNotAllowedFails(t *testing.T) {
	code, out := run(t, skipped, "")
	if code == 0 || !strings.Contains(out, "SKIP (not allowed) internal/migration/TestA: emulator unavailable") {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
}

func TestSkipAllowedByTestAndReason(t *testing.T) {
	if code, out := run(t, skipped, "internal/migration/TestA  emulator unavailable # why\n"); code != 0 {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
	// The same test skipping for another reason is not allowed.
	if code, out := run(t, skipped, "internal/migration/TestA  real AWS\n"); code == 0 {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
	// Nor is another test skipping for the allowed reason.
	if code, out := run(t, skipped, "internal/migration/TestB  emulator unavailable\n"); code == 0 {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
}

func TestFailedTestPrintsItsOutput(t *testing.T) {
	events := `{"Action":"run","Package":"example.com/m/p","Test":"TestF"}
{"Action":"output","Package":"example.com/m/p","Test":"TestF","Output":"    f_test.go:3: boom\n"}
{"Action":"fail","Package":"example.com/m/p","Test":"TestF","Elapsed":1.5}
{"Action":"fail","Package":"example.com/m/p","Elapsed":2}
`
	code, out := run(t, events, "")
	if code == 0 || !strings.Contains(out, "--- FAIL: p/TestF") || !strings.Contains(out, "boom") || !strings.Contains(out, "FAIL\texample.com/m/p") {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
}

func TestPackageFailureWithoutTestsFails(t *testing.T) {
	// TestMain exits 1 before any test runs (the emulator could not start).
	events := `{"Action":"start","Package":"example.com/m/internal/emulator"}
{"Action":"output","Package":"example.com/m/internal/emulator","Output":"starting the emulator: no java\n"}
{"Action":"fail","Package":"example.com/m/internal/emulator","Elapsed":0.1}
`
	code, out := run(t, events, "")
	if code == 0 || !strings.Contains(out, "no java") {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
}

func TestAllPassing(t *testing.T) {
	events := `{"Action":"run","Package":"example.com/m/p","Test":"TestOK"}
{"Action":"pass","Package":"example.com/m/p","Test":"TestOK"}
{"Action":"skip","Package":"example.com/m/q"}
{"Action":"pass","Package":"example.com/m/p","Elapsed":1}
`
	if code, out := run(t, events, ""); code != 0 || !strings.Contains(out, "ok  \texample.com/m/p") {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
}
