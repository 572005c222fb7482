// Command ddbglobal-emulator runs the local multi-Region DynamoDB emulator (see
// package internal/emulator) in the foreground on EMULATOR_ADDR (default
// 127.0.0.1:8765) until interrupted. It starts and stops its own DynamoDB Local.
//
// Optional environment: EMULATOR_REPLICA_CREATE_DELAY, EMULATOR_REPLICA_DELETE_DELAY,
// EMULATOR_REPLICATION_DELAY, EMULATOR_UPGRADE_DELAY (Go durations such as 2s, 200ms).
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

func main() {
	addr := os.Getenv("EMULATOR_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8765"
	}
	delays := emulator.Delays{
		ReplicaCreate: envDuration("EMULATOR_REPLICA_CREATE_DELAY"),
		ReplicaDelete: envDuration("EMULATOR_REPLICA_DELETE_DELAY"),
		Replication:   envDuration("EMULATOR_REPLICATION_DELAY"),
		Upgrade:       envDuration("EMULATOR_UPGRADE_DELAY"),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := emulator.Start(ctx, emulator.Options{Addr: addr, Delays: delays, Logf: log.Printf})
	if err != nil {
		log.Fatal(err)
	}
	d := srv.CurrentDelays()
	log.Printf("emulator listening on %s (DynamoDB Local pid %d at %s); delays: replica create %s, delete %s, replication %s, upgrade %s; admin API under %s/_emulator/; Ctrl-C stops it",
		srv.Endpoint, srv.LocalPID(), srv.LocalEndpoint(), d.ReplicaCreate, d.ReplicaDelete, d.Replication, d.Upgrade, srv.Endpoint)
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	select {
	case <-ctx.Done():
		srv.Stop()
	case err := <-exited:
		log.Fatalf("DynamoDB Local exited unexpectedly: %v", err)
	}
}

func envDuration(name string) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		log.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}
