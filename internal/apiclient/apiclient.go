// Package apiclient is a small JSON client of the back office's HTTP API,
// for the load generator and the benchmarks.
package apiclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Client talks to one API base URL.
type Client struct {
	Base string
	HTTP *http.Client
}

// New makes a client with a connection pool sized for conc clients.
func New(base string, conc int) *Client {
	return &Client{Base: base, HTTP: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2}}}
}

// Error is a non-2xx answer.
type Error struct {
	Status int
	Body   string
}

func (e *Error) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// Do sends body as JSON (if not nil) and decodes the answer into out (if
// not nil).
func (c *Client) Do(method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return &Error{Status: resp.StatusCode, Body: string(raw)}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// SignIn returns a session token and whether the password must change.
func (c *Client) SignIn(user, pw string) (string, bool, error) {
	var s struct {
		Token string `json:"token"`
		Must  bool   `json:"must_change_password"`
	}
	err := c.Do("POST", "/v1/sessions", "", map[string]string{"username": user, "password": pw}, &s)
	return s.Token, s.Must, err
}

// NewReviewer signs the administrator in, creates a reviewer, signs it in
// and changes its first password; it returns the reviewer's session. With
// changeAdmin, a first administrator password is changed to a random one.
func (c *Client) NewReviewer(adminUser, adminPw string, changeAdmin bool) (string, error) {
	admin, must, err := c.SignIn(adminUser, adminPw)
	if err != nil {
		return "", fmt.Errorf("administrator sign-in: %w", err)
	}
	if must {
		if !changeAdmin {
			return "", errors.New("change the administrator's initial password first (PUT /v1/me/password)")
		}
		if err := c.Do("PUT", "/v1/me/password", admin, map[string]string{"old_password": adminPw,
			"new_password": "Chief-" + uuid.NewString()}, nil); err != nil {
			return "", err
		}
	}
	name := "bench." + uuid.NewString()[:8]
	second := "Bench-Second-" + uuid.NewString()[:8]
	var created struct {
		InitialPassword string `json:"initial_password"`
	}
	// The first password is generated (initial_password); the bench admin
	// is the sole administrator, so the creation takes effect at once.
	// A Temporal cluster that has just started may answer 503 for a few
	// seconds (its services' namespace caches fill): try again meanwhile.
	for deadline := time.Now().Add(time.Minute); ; {
		err := c.Do("POST", "/v1/staff", admin, map[string]any{"username": name, "name": "压测审核员",
			"roles": []string{"reviewer"}}, &created)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "HTTP 503") || time.Now().After(deadline) {
			return "", fmt.Errorf("create reviewer: %w", err)
		}
		time.Sleep(time.Second)
		name = "bench." + uuid.NewString()[:8]
	}
	first := created.InitialPassword
	tok, _, err := c.SignIn(name, first)
	if err != nil {
		return "", err
	}
	return tok, c.Do("PUT", "/v1/me/password", tok, map[string]string{"old_password": first, "new_password": second}, nil)
}
