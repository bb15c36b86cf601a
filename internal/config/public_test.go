package config

import (
	"strings"
	"testing"
)

// Issue 18: the public base URL that SMS links to is checked at start.
func TestPublicBaseURL_C1_5(t *testing.T) {
	for in, want := range map[string]string{"https://hrss.example.cn/": "https://hrss.example.cn", "http://localhost:8080": "http://localhost:8080",
		"https://example.cn/hrss": "https://example.cn/hrss"} {
		got, err := ParsePublicBaseURL(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "hrss.example.cn", "ftp://x.cn", "https://x.cn/?t=1", "https://x.cn/#a", "https://u:p@x.cn",
		"https://" + strings.Repeat("x", 60) + ".cn"} {
		if _, err := ParsePublicBaseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	t.Setenv("PUBLIC_BASE_URL", "")
	if v, err := PublicBaseURL(); err != nil || v != DefaultPublicBaseURL {
		t.Errorf("default: %q, %v", v, err)
	}
}
