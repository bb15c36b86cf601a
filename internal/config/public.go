package config

import (
	"fmt"
	"net/url"
	"strings"

	"hrss-backoffice/internal/messages"
)

// DefaultPublicBaseURL is the site's address for a local run.
const DefaultPublicBaseURL = messages.DefaultBaseURL

// PublicBaseURL is PUBLIC_BASE_URL: the site's public address, which the
// messages sent by SMS and e-mail link to (the approval notice links to
// <base>/follow, never with a token). An absolute http(s) URL without
// query or fragment, at most messages.MaxBaseURL characters (an SMS has
// room for no more); a trailing slash is dropped.
func PublicBaseURL() (string, error) {
	return ParsePublicBaseURL(env("PUBLIC_BASE_URL", DefaultPublicBaseURL))
}

// ParsePublicBaseURL checks a public base URL (see PublicBaseURL).
func ParsePublicBaseURL(v string) (string, error) {
	v = strings.TrimRight(strings.TrimSpace(v), "/")
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(v, "?") || strings.HasSuffix(v, "#") {
		return "", fmt.Errorf("PUBLIC_BASE_URL: want an http(s) address such as https://hrss.example.cn, got %q", v)
	}
	if len(v) > messages.MaxBaseURL {
		return "", fmt.Errorf("PUBLIC_BASE_URL: at most %d characters (it goes into SMS), got %d", messages.MaxBaseURL, len(v))
	}
	return v, nil
}
