// Command ddbglobal-emulator runs the local DynamoDB endpoint in the foreground on
// EMULATOR_ADDR (default 127.0.0.1:8765) until interrupted.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddblocal"
)

func main() {
	addr := os.Getenv("EMULATOR_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8765"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := ddblocal.Start(ctx, ddblocal.Options{Addr: addr})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("DynamoDB Local listening on %s (pid %d); Ctrl-C stops it", srv.Endpoint, srv.PID())
	select {
	case <-ctx.Done():
		srv.Stop()
	case <-waitChan(srv):
		log.Fatalf("DynamoDB Local exited: %s", srv.Output())
	}
}

func waitChan(srv *ddblocal.Server) <-chan struct{} {
	ch := make(chan struct{})
	go func() { _ = srv.Wait(); close(ch) }()
	return ch
}
