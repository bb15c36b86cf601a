// Package loadstats records operation latencies and prints throughput and
// percentiles, for the load generator and the benchmarks.
package loadstats

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder collects latencies per operation. Safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	start  time.Time
	ops    map[string][]time.Duration
	errors map[string]int
	// FirstError is the first failure seen, to say why errors happened.
	FirstError error
}

// New starts the clock.
func New() *Recorder {
	return &Recorder{start: time.Now(), ops: map[string][]time.Duration{}, errors: map[string]int{}}
}

// Observe records one operation's latency, or its failure.
func (r *Recorder) Observe(op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors[op]++
		if r.FirstError == nil {
			r.FirstError = fmt.Errorf("%s: %w", op, err)
		}
		return
	}
	r.ops[op] = append(r.ops[op], d)
}

// Time runs fn and records it under op.
func (r *Recorder) Time(op string, fn func() error) error {
	t := time.Now()
	err := fn()
	r.Observe(op, time.Since(t), err)
	return err
}

// Summary of one operation.
type Summary struct {
	Op            string
	Count, Errors int
	PerSecond     float64
	P50, P90, P99 time.Duration
	Max           time.Duration
}

// Percentile of sorted durations (nearest rank).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Summaries over the time since New.
func (r *Recorder) Summaries() []Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	elapsed := time.Since(r.start).Seconds()
	names := map[string]bool{}
	for k := range r.ops {
		names[k] = true
	}
	for k := range r.errors {
		names[k] = true
	}
	var out []Summary
	for name := range names {
		ds := slices.Clone(r.ops[name])
		slices.Sort(ds)
		s := Summary{Op: name, Count: len(ds), Errors: r.errors[name], PerSecond: float64(len(ds)) / elapsed,
			P50: Percentile(ds, .5), P90: Percentile(ds, .9), P99: Percentile(ds, .99)}
		if len(ds) > 0 {
			s.Max = ds[len(ds)-1]
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// Print writes a table.
func (r *Recorder) Print(w io.Writer) {
	fmt.Fprintf(w, "%-24s %7s %6s %9s %9s %9s %9s %9s\n", "operation", "ok", "errors", "per_sec", "p50_ms", "p90_ms", "p99_ms", "max_ms")
	defer func() {
		if r.FirstError != nil {
			fmt.Fprintln(w, "first error:", r.FirstError)
		}
	}()
	for _, s := range r.Summaries() {
		fmt.Fprintf(w, "%-24s %7d %6d %9.1f %9.1f %9.1f %9.1f %9.1f\n", s.Op, s.Count, s.Errors, s.PerSecond,
			ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Parallel runs fn(i) for i = 1..n on c goroutines and returns the elapsed
// time.
func Parallel(n, c int, fn func(i int)) time.Duration {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				fn(int(i))
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
