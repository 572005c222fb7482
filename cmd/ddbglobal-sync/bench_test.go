package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// BenchmarkFleetBackfill backfills the same number of items with one runner,
// then with three on a fresh pair of tables, and reports both rates in one run
// (items/s from the capture to the end of the backfill). The runners run in
// this process, each with its own clients and leases, as separate processes
// would. DDBGLOBAL_BENCH_ITEMS sets the count (default 100,000, as for the
// provider's apply benchmark).
func BenchmarkFleetBackfill(b *testing.B) {
	items := 100000
	if v := os.Getenv("DDBGLOBAL_BENCH_ITEMS"); v != "" {
		items, _ = strconv.Atoi(v)
	}
	b.Setenv("AWS_ACCESS_KEY_ID", "runnertest")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	rate := func(runners int) float64 {
		f := newFixtureSegments(b, items, 12)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		stop := make(chan struct{})
		done := make(chan int, runners)
		start := time.Now()
		for range runners {
			go func() { done <- run(ctx, f.args("-parallelism", "4"), env, &syncBuffer{}, stop) }()
		}
		for {
			st, err := f.m.Status(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if st.Phase != migration.PhaseBackfilling {
				took := time.Since(start)
				close(stop)
				for range runners {
					if code := <-done; code != exitOK {
						b.Fatalf("runner exit %d", code)
					}
				}
				return float64(st.ItemsCopied) / took.Seconds()
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for range b.N {
		one := rate(1)
		three := rate(3)
		b.ReportMetric(one, "items/s-1-runner")
		b.ReportMetric(three, "items/s-3-runners")
		b.ReportMetric(three/one, "speedup")
	}
}
