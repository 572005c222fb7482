// Command awsconformance reads the `go test -json` (test2json) output of
// hashicorp/aws's DynamoDB acceptance tests run against the emulator and prints, for
// every test of the committed list, PASS, SKIP or FAIL with the reason, then the
// tests listed as out of scope with why. It exits non-zero when a listed test did not
// pass: a skip counts as a failure, since the AWS provider's ErrorCheck turns some
// errors (an unsupported operation, say) into skips.
//
// The list (-list) has one test name per line to run, and lines "- TestName: reason"
// for tests left out; '#' starts a comment.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

type event struct {
	Action  string
	Test    string
	Output  string
	Elapsed float64
}

// List is the parsed test list.
type List struct {
	Run        []string
	OutOfScope [][2]string // name, reason
}

func main() {
	listFile := flag.String("list", "", "the committed test list")
	names := flag.Bool("names", false, "print the tests to run as a -run pattern and exit")
	flag.Parse()
	l, err := readList(*listFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsconformance:", err)
		os.Exit(2)
	}
	if *names {
		fmt.Printf("^(%s)$\n", strings.Join(l.Run, "|"))
		return
	}
	os.Exit(report(os.Stdin, os.Stdout, l))
}

func readList(path string) (*List, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l := &List{}
	for n, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "- "):
			name, reason, ok := strings.Cut(strings.TrimPrefix(line, "- "), ":")
			if !ok || strings.TrimSpace(reason) == "" {
				return nil, fmt.Errorf("%s:%d: an out-of-scope test needs a reason (\"- TestName: why\")", path, n+1)
			}
			l.OutOfScope = append(l.OutOfScope, [2]string{strings.TrimSpace(name), strings.TrimSpace(reason)})
		case strings.HasPrefix(line, "TestAcc"):
			l.Run = append(l.Run, line)
		default:
			return nil, fmt.Errorf("%s:%d: not a test name: %q", path, n+1, line)
		}
	}
	return l, nil
}

type result struct {
	status  string
	elapsed float64
	output  []string
}

var (
	locRe   = regexp.MustCompile(`^\s+\S+\.go:\d+: `)
	errorRe = regexp.MustCompile(`(?i)error`)
)

// reason picks the lines that say why a test failed or skipped: the test's own log
// lines (file.go:NN:) and Terraform's error blocks, shortened.
func reason(out []string) string {
	var keep []string
	for i := 0; i < len(out); i++ {
		line := strings.TrimRight(out[i], "\n")
		if strings.HasPrefix(strings.TrimSpace(line), "--- ") || strings.HasPrefix(strings.TrimSpace(line), "=== ") {
			continue
		}
		if locRe.MatchString(line) || errorRe.MatchString(line) {
			keep = append(keep, strings.TrimSpace(line))
			// the next lines of an error block
			for j := i + 1; j < len(out) && j <= i+4; j++ {
				next := strings.TrimSpace(out[j])
				if next == "" || locRe.MatchString(out[j]) || strings.HasPrefix(next, "---") {
					break
				}
				keep = append(keep, next)
				i = j
			}
		}
		if len(keep) >= 12 {
			break
		}
	}
	s := strings.Join(keep, " | ")
	if len(s) > 900 {
		s = s[:900] + " ..."
	}
	return s
}

func report(r io.Reader, w io.Writer, l *List) int {
	results := map[string]*result{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var noise []string
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			noise = append(noise, sc.Text())
			continue
		}
		if e.Test == "" {
			if e.Action == "output" {
				noise = append(noise, strings.TrimRight(e.Output, "\n"))
			}
			continue
		}
		name := e.Test
		if i := strings.Index(name, "/"); i >= 0 {
			name = name[:i]
		}
		res := results[name]
		if res == nil {
			res = &result{}
			results[name] = res
		}
		switch e.Action {
		case "output":
			res.output = append(res.output, e.Output)
		case "pass", "fail", "skip":
			if e.Test == name {
				res.status, res.elapsed = e.Action, e.Elapsed
			}
		}
	}
	bad := 0
	counts := map[string]int{}
	for _, name := range l.Run {
		res := results[name]
		status := "NOT RUN"
		why := ""
		elapsed := 0.0
		if res != nil {
			elapsed = res.elapsed
			switch res.status {
			case "pass":
				status = "PASS"
			case "skip":
				status, why = "SKIP", reason(res.output)
			case "fail":
				status, why = "FAIL", reason(res.output)
			default:
				status, why = "NO RESULT", reason(res.output)
			}
		}
		counts[status]++
		if status != "PASS" {
			bad++
		}
		fmt.Fprintf(w, "%-9s %-72s %6.0fs", status, name, elapsed)
		if why != "" {
			fmt.Fprintf(w, "\n          %s", why)
		}
		fmt.Fprintln(w)
	}
	if len(l.OutOfScope) > 0 {
		fmt.Fprintln(w, "\nOut of scope (not run):")
		for _, o := range l.OutOfScope {
			fmt.Fprintf(w, "  %-72s %s\n", o[0], o[1])
		}
	}
	if counts["NOT RUN"] == len(l.Run) && len(noise) > 0 {
		fmt.Fprintln(w, "\nno test ran; the test binary said:")
		for _, n := range noise[max(0, len(noise)-20):] {
			fmt.Fprintln(w, "  "+n)
		}
	}
	fmt.Fprintf(w, "\n%d listed: %d passed, %d failed, %d skipped (counted as failures), %d without a result; %d out of scope\n",
		len(l.Run), counts["PASS"], counts["FAIL"], counts["SKIP"], counts["NOT RUN"]+counts["NO RESULT"], len(l.OutOfScope))
	if bad > 0 {
		return 1
	}
	return 0
}
