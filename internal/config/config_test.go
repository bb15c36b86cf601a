package config

import "testing"

// The worker's sticky cache size is read from the environment; a bad value
// stops the process at start instead of running with a surprise.
func TestWorkerStickyCacheSetting(t *testing.T) {
	for value, want := range map[string]int{"": 0, "2000": 2000} {
		t.Setenv("WORKER_STICKY_CACHE_SIZE", value)
		c, err := Load()
		if err != nil || c.WorkerStickyCache != want {
			t.Errorf("%q: %d, %v; want %d", value, c.WorkerStickyCache, err, want)
		}
	}
	for _, bad := range []string{"-1", "lots"} {
		t.Setenv("WORKER_STICKY_CACHE_SIZE", bad)
		if _, err := Load(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
