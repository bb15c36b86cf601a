// Command loadgen drives the real HTTP API the way people and reviewers do:
// registrations, reviewer decisions, initial-password pickups, first
// sign-ins and password changes, with configurable concurrency and count.
// It prints throughput and latency percentiles per operation.
//
//	go run ./cmd/loadgen -api http://localhost:8080 -admin-password "$ADMIN_PW" -n 200 -c 16
//
// The administrator's password must already have been changed once (the
// first sign-in forces it). loadgen creates its own reviewer.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/google/uuid"

	"hrss-backoffice/internal/apiclient"
	"hrss-backoffice/internal/loadstats"
	"hrss-backoffice/internal/synthetic"
)

func main() {
	api := flag.String("api", "http://localhost:8080", "API base URL")
	adminUser := flag.String("admin-user", envOr("BOOTSTRAP_ADMIN_USERNAME", "admin"), "administrator username")
	adminPw := flag.String("admin-password", os.Getenv("LOADGEN_ADMIN_PASSWORD"), "administrator password (already changed once)")
	n := flag.Int("n", 100, "registrations to drive")
	conc := flag.Int("c", 8, "concurrent clients")
	mode := flag.String("mode", "full", "full: register, decide, pick up, first sign-in, change password; register: anonymous (online) submissions only: the system needs MOBILE_VERIFICATION=off")
	flag.Parse()
	if err := run(*api, *adminUser, *adminPw, *n, *conc, *mode); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(base, adminUser, adminPw string, n, conc int, mode string) error {
	c := apiclient.New(base, conc)
	var reviewer string
	if mode == "full" {
		var err error
		if reviewer, err = c.NewReviewer(adminUser, adminPw, false); err != nil {
			return err
		}
	}

	rec := loadstats.New()
	loadstats.Parallel(n, conc, func(int) {
		if mode == "full" {
			_ = rec.Time("complete_registration", func() error { return fullFlow(c, rec, reviewer) })
			return
		}
		p := synthetic.NewPerson()
		_ = rec.Time("submit", func() error {
			return c.Do("POST", "/v1/registrations", "", p.Registration("social_insurance_query"), nil)
		})
	})
	fmt.Printf("loadgen: mode=%s n=%d c=%d api=%s\n", mode, n, conc, base)
	rec.Print(os.Stdout)
	return nil
}

// fullFlow is one person's path from application to a working account.
func fullFlow(c *apiclient.Client, rec *loadstats.Recorder, reviewer string) error {
	p := synthetic.NewPerson()
	var reg struct {
		ID string `json:"id"`
	}
	// Entered at the counter by the reviewer (channel counter: no mobile
	// code; the reviewer picks the initial password up).
	if err := rec.Time("submit", func() error {
		return c.Do("POST", "/v1/registrations", reviewer, p.Registration("social_insurance_query"), &reg)
	}); err != nil {
		return err
	}
	if err := rec.Time("decide", func() error {
		return c.Do("POST", "/v1/registrations/"+reg.ID+"/decision", reviewer, map[string]string{"decision": "approve"}, nil)
	}); err != nil {
		return err
	}
	var pw struct {
		Initial string `json:"initial_password"`
	}
	if err := rec.Time("pickup", func() error {
		return c.Do("POST", "/v1/registrations/"+reg.ID+"/initial-password", reviewer, nil, &pw)
	}); err != nil {
		return err
	}
	var tok string
	if err := rec.Time("sign_in", func() error {
		var err error
		tok, _, err = c.SignIn(p.IDNumber, pw.Initial)
		return err
	}); err != nil {
		return err
	}
	return rec.Time("change_password", func() error {
		return c.Do("PUT", "/v1/me/password", tok, map[string]string{"old_password": pw.Initial,
			"new_password": "Loadgen-Own-" + uuid.NewString()[:12]}, nil)
	})
}
