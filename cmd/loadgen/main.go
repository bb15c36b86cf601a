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
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"hrss-backoffice/internal/loadstats"
	"hrss-backoffice/internal/synthetic"
)

type client struct {
	base string
	http *http.Client
}

type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

func (c *client) do(method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return &apiError{status: resp.StatusCode, body: string(raw)}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (c *client) signIn(user, pw string) (string, bool, error) {
	var s struct {
		Token string `json:"token"`
		Must  bool   `json:"must_change_password"`
	}
	err := c.do("POST", "/v1/sessions", "", map[string]string{"username": user, "password": pw}, &s)
	return s.Token, s.Must, err
}

func main() {
	api := flag.String("api", "http://localhost:8080", "API base URL")
	adminUser := flag.String("admin-user", envOr("BOOTSTRAP_ADMIN_USERNAME", "admin"), "administrator username")
	adminPw := flag.String("admin-password", os.Getenv("LOADGEN_ADMIN_PASSWORD"), "administrator password (already changed once)")
	n := flag.Int("n", 100, "registrations to drive")
	conc := flag.Int("c", 8, "concurrent clients")
	mode := flag.String("mode", "full", "full: register, decide, pick up, first sign-in, change password; register: submissions only")
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
	c := &client{base: base, http: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}}
	var reviewer string
	if mode == "full" {
		admin, must, err := c.signIn(adminUser, adminPw)
		if err != nil {
			return fmt.Errorf("administrator sign-in: %w", err)
		}
		if must {
			return errors.New("change the administrator's initial password first (PUT /v1/me/password)")
		}
		name := "loadgen." + uuid.NewString()[:8]
		first, second := "Loadgen-First-"+uuid.NewString()[:8], "Loadgen-Second-"+uuid.NewString()[:8]
		if err := c.do("POST", "/v1/staff", admin, map[string]any{"username": name, "name": "压测审核员",
			"roles": []string{"reviewer"}, "password": first}, nil); err != nil {
			return fmt.Errorf("create reviewer: %w", err)
		}
		tok, _, err := c.signIn(name, first)
		if err != nil {
			return err
		}
		if err := c.do("PUT", "/v1/me/password", tok, map[string]string{"old_password": first, "new_password": second}, nil); err != nil {
			return err
		}
		reviewer = tok
	}

	rec := loadstats.New()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if mode == "full" {
					_ = rec.Time("complete_registration", func() error { return fullFlow(c, rec, reviewer) })
				} else {
					p := synthetic.NewPerson()
					_ = rec.Time("submit", func() error {
						return c.do("POST", "/v1/registrations", "", p.Registration("social_insurance_query"), nil)
					})
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("loadgen: mode=%s n=%d c=%d api=%s\n", mode, n, conc, base)
	rec.Print(os.Stdout)
	return nil
}

// fullFlow is one person's path from application to a working account.
func fullFlow(c *client, rec *loadstats.Recorder, reviewer string) error {
	p := synthetic.NewPerson()
	var reg struct {
		ID string `json:"id"`
	}
	if err := rec.Time("submit", func() error {
		return c.do("POST", "/v1/registrations", "", p.Registration("social_insurance_query"), &reg)
	}); err != nil {
		return err
	}
	if err := rec.Time("decide", func() error {
		return c.do("POST", "/v1/registrations/"+reg.ID+"/decision", reviewer, map[string]string{"decision": "approve"}, nil)
	}); err != nil {
		return err
	}
	var pw struct {
		Initial string `json:"initial_password"`
	}
	if err := rec.Time("pickup", func() error {
		return c.do("POST", "/v1/registrations/"+reg.ID+"/initial-password", reviewer, nil, &pw)
	}); err != nil {
		return err
	}
	var tok string
	if err := rec.Time("sign_in", func() error {
		var err error
		tok, _, err = c.signIn(p.IDNumber, pw.Initial)
		return err
	}); err != nil {
		return err
	}
	return rec.Time("change_password", func() error {
		return c.do("PUT", "/v1/me/password", tok, map[string]string{"old_password": pw.Initial,
			"new_password": "Loadgen-Own-" + uuid.NewString()[:12]}, nil)
	})
}
