package testenv

import (
	"time"
)

// SetSetting changes a process setting (process_settings) for this test's
// database, e.g. SetSetting("deregistration.cooling_off", 2*time.Second).
func (s *Stack) SetSetting(name string, d time.Duration) {
	s.T.Helper()
	if _, err := s.DB.Exec(`UPDATE process_settings SET value = make_interval(secs => $2) WHERE name = $1`, name, d.Seconds()); err != nil {
		s.T.Fatal(err)
	}
}

// SetRetention changes how long a data category is kept after the
// agreement ends.
func (s *Stack) SetRetention(category string, d time.Duration) {
	s.T.Helper()
	if _, err := s.DB.Exec(`UPDATE retention_schedule SET keep = make_interval(secs => $2) WHERE category = $1`, category, d.Seconds()); err != nil {
		s.T.Fatal(err)
	}
}
