// Command testreport reads `go test -json` on stdin, prints a short report (each
// package's result, the output of every failed test, every skipped test with its
// reason) and exits non-zero when a test failed or when a test skipped that the
// allow-list does not name. `go test` alone prints "ok" for a package whose tests
// all skipped; this makes a skip that nobody meant fail the run.
//
// The allow-list (-allow) has one entry per line: a regular expression for the
// test's "package/TestName" (the module path left out), a tab or spaces, and a
// regular expression that the skip's reason must match. '#' starts a comment. A
// skip passes only when both match, so each by-design skip says why it skipped.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type allowed struct {
	test, reason *regexp.Regexp
	line         string
}

func main() {
	allowFile := flag.String("allow", "", "file listing the skips that are allowed")
	module := flag.String("module", "", "module path, left out of package names in the allow-list")
	flag.Parse()
	var allow []allowed
	if *allowFile != "" {
		var err error
		if allow, err = readAllow(*allowFile); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
	}
	os.Exit(report(os.Stdin, os.Stdout, allow, *module))
}

func readAllow(path string) ([]allowed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []allowed
	for n, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want a test pattern and a reason pattern", path, n+1)
		}
		test, err := regexp.Compile("^(?:" + fields[0] + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n+1, err)
		}
		reason, err := regexp.Compile(strings.Join(fields[1:], " "))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n+1, err)
		}
		out = append(out, allowed{test: test, reason: reason, line: strings.TrimSpace(line)})
	}
	return out, nil
}

// skipReason is what a skipped test printed, without the "--- SKIP" line and the
// file:line prefix of t.Skip.
func skipReason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		if i := strings.Index(t, ": "); i > 0 && strings.Contains(t[:i], ".go:") {
			t = t[i+2:]
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

func report(in io.Reader, out io.Writer, allow []allowed, module string) int {
	output := map[string][]string{} // "pkg test" -> lines
	var failedTests, unexpected, expected []string
	failedPkgs, passed := 0, 0
	short := func(pkg string) string {
		if module != "" {
			pkg = strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		}
		return pkg
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not JSON: a build error or a line from the go command itself.
			fmt.Fprintln(out, sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "fail":
			if e.Test != "" {
				failedTests = append(failedTests, short(e.Package)+"/"+e.Test)
				fmt.Fprintf(out, "--- FAIL: %s/%s (%.2fs)\n", short(e.Package), e.Test, e.Elapsed)
				for _, l := range output[key] {
					if !strings.HasPrefix(strings.TrimSpace(l), "=== ") {
						fmt.Fprint(out, "    ", l)
					}
				}
			} else {
				failedPkgs++
				// Package output: TestMain's messages, a panic, the final FAIL line.
				saidFail := false
				for _, l := range output[key] {
					if !strings.HasPrefix(l, "=== ") {
						fmt.Fprint(out, l)
						saidFail = saidFail || strings.HasPrefix(l, "FAIL\t")
					}
				}
				if !saidFail {
					fmt.Fprintf(out, "FAIL\t%s\t%.1fs\n", e.Package, e.Elapsed)
				}
			}
			delete(output, key)
		case "skip":
			if e.Test == "" {
				// A package without tests; nothing ran that could have been skipped.
				delete(output, key)
				continue
			}
			name := short(e.Package) + "/" + e.Test
			reason := skipReason(output[key])
			ok := false
			if reason != "" {
				for _, a := range allow {
					if a.test.MatchString(name) && a.reason.MatchString(reason) {
						ok = true
						break
					}
				}
			}
			line := fmt.Sprintf("%s: %s", name, reason)
			if reason == "" {
				line = name + ": (no reason given)"
			}
			if ok {
				expected = append(expected, line)
			} else {
				unexpected = append(unexpected, line)
			}
			delete(output, key)
		case "pass":
			if e.Test == "" {
				fmt.Fprintf(out, "ok  \t%s\t%.1fs\n", e.Package, e.Elapsed)
			} else {
				passed++
			}
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testreport: reading go test output:", err)
		return 2
	}
	sort.Strings(expected)
	sort.Strings(unexpected)
	for _, l := range expected {
		fmt.Fprintln(out, "SKIP (allowed)", l)
	}
	for _, l := range unexpected {
		fmt.Fprintln(out, "SKIP (not allowed)", l)
	}
	fmt.Fprintf(out, "%d failed tests, %d failed packages, %d allowed skips, %d skips not allowed\n",
		len(failedTests), failedPkgs, len(expected), len(unexpected))
	if len(unexpected) > 0 {
		fmt.Fprintln(out, "A test skipped that must run (a missing backend?); if the skip is by design, add it to the allow-list.")
	}
	// The closing line in the plain form CI reads (tests and subtests).
	fmt.Fprintf(out, "tests: %d passed, %d failed, %d skipped\n", passed, len(failedTests), len(expected)+len(unexpected))
	if len(failedTests) > 0 || failedPkgs > 0 || len(unexpected) > 0 {
		return 1
	}
	return 0
}
