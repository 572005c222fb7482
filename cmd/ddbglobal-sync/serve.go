package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// probe is what /healthz and /readyz and /metrics look at.
type probe struct {
	m        atomic.Pointer[migration.Migration] // set once the settings are checked
	stopping atomic.Bool
	// stale is how old the last state read may be for /healthz: the engine
	// reads the state entry at least every second while it runs.
	stale time.Duration
}

// healthy: the process answers, and once running, it still reads the
// checkpoint table (a wedged runner is restarted by its orchestrator).
func (p *probe) healthy() (bool, string) {
	m := p.m.Load()
	if m == nil {
		return true, "starting"
	}
	s := m.Stats()
	if s.RefreshedAt.IsZero() {
		return true, "starting"
	}
	if age := time.Since(s.RefreshedAt); age > p.stale {
		return false, "the checkpoint table was last read " + age.Round(time.Second).String() + " ago"
	}
	return true, "ok"
}

// ready: the settings passed the pins, the migration's state was read, and the
// runner is not stopping.
func (p *probe) ready() (bool, string) {
	m := p.m.Load()
	switch {
	case p.stopping.Load():
		return false, "stopping"
	case m == nil:
		return false, "loading the migration"
	case m.Stats().RefreshedAt.IsZero():
		return false, "reading the migration's state"
	}
	return true, "ok"
}

var phases = []migration.Phase{migration.PhaseBackfilling, migration.PhaseSyncing, migration.PhaseCuttingOver, migration.PhaseCompleted, migration.PhaseFailed}

// collector turns Migration.Stats into Prometheus metrics at each scrape.
type collector struct {
	p                                                               *probe
	copied, applied, skipped, unprocessed, throttles, retries, lost *prometheus.Desc
	held, lag, phase, ready                                         *prometheus.Desc
}

func newCollector(p *probe, id string) *collector {
	l := prometheus.Labels{"migration": id}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("ddbglobal_sync_"+name, help, labels, l)
	}
	return &collector{
		p:           p,
		copied:      d("items_copied_total", "Items this runner copied in the backfill."),
		applied:     d("records_applied_total", "Stream records this runner applied to the target."),
		skipped:     d("writes_skipped_total", "Conditional writes that found a newer value on the target and were skipped."),
		unprocessed: d("unprocessed_items_total", "BatchWriteItem UnprocessedItems entries resubmitted."),
		throttles:   d("throttles_total", "Requests DynamoDB throttled (each is retried with backoff)."),
		retries:     d("retries_total", "Requests retried, for throttling, a transient error or a timeout."),
		lost:        d("leases_lost_total", "Leases lost (not renewed in time, or taken over by another runner)."),
		held:        d("leases_held", "Backfill segment and stream shard leases this runner holds."),
		lag:         d("shard_lag_seconds", "Per shard this runner reads: age of the last applied record while the shard is behind (0 at its tip).", "shard"),
		phase:       d("phase", "The migration's phase as last read: 1 for the current one.", "phase"),
		ready:       d("ready", "1 when the runner is ready (settings checked, state read, not stopping)."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.copied, c.applied, c.skipped, c.unprocessed, c.throttles, c.retries, c.lost, c.held, c.lag, c.phase, c.ready} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ok, _ := c.p.ready()
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, b2f(ok))
	m := c.p.m.Load()
	if m == nil {
		return
	}
	s := m.Stats()
	for _, v := range []struct {
		d *prometheus.Desc
		n int64
	}{{c.copied, s.ItemsCopied}, {c.applied, s.RecordsApplied}, {c.skipped, s.WritesSkipped}, {c.unprocessed, s.Unprocessed},
		{c.throttles, s.Throttles}, {c.retries, s.Retries}, {c.lost, s.LeasesLost}} {
		ch <- prometheus.MustNewConstMetric(v.d, prometheus.CounterValue, float64(v.n))
	}
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(s.LeasesHeld))
	for shard, lag := range s.ShardLag {
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, lag.Seconds(), shard)
	}
	for _, ph := range phases {
		ch <- prometheus.MustNewConstMetric(c.phase, prometheus.GaugeValue, b2f(s.Phase == ph), string(ph))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// serve starts the metrics and health endpoints on addr and returns the bound
// address and a function that shuts the server down.
func serve(addr, id string, p *probe) (string, func(), error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(p, id), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ddbglobal_sync_build_info", Help: "The runner's version.", ConstLabels: prometheus.Labels{"version": version, "commit": commit},
	}, func() float64 { return 1 }))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	status := func(f func() (bool, string)) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			ok, why := f()
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if !ok {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			_, _ = w.Write([]byte(why + "\n"))
		}
	}
	mux.Handle("/healthz", status(p.healthy))
	mux.Handle("/readyz", status(p.ready))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
