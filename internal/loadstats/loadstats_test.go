package loadstats

import (
	"errors"
	"testing"
	"time"
)

func TestPercentilesAndErrors(t *testing.T) {
	r := New()
	for i := 1; i <= 100; i++ {
		r.Observe("op", time.Duration(i)*time.Millisecond, nil)
	}
	r.Observe("op", 0, errors.New("x"))
	s := r.Summaries()[0]
	if s.Count != 100 || s.Errors != 1 || s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Fatalf("%+v", s)
	}
}
