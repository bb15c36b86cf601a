package api

import (
	"testing"

	"hrss-backoffice/internal/passwords"
)

// A fragment may add a method to a path the base document defines (PATCH
// /v1/me beside GET /v1/me) but not redefine one.
func TestOpenAPIFragmentAddsMethodsToAPath(t *testing.T) {
	dst := map[string]any{"paths": map[string]any{"/v1/me": map[string]any{"get": "base"}}}
	if err := mergeSection(dst, map[string]any{"paths": map[string]any{"/v1/me": map[string]any{"patch": "frag"}}}, "paths", "p.yaml"); err != nil {
		t.Fatal(err)
	}
	me := dst["paths"].(map[string]any)["/v1/me"].(map[string]any)
	if me["get"] != "base" || me["patch"] != "frag" {
		t.Fatalf("methods not merged: %v", me)
	}
	if err := mergeSection(dst, map[string]any{"paths": map[string]any{"/v1/me": map[string]any{"get": "again"}}}, "paths", "q.yaml"); err == nil {
		t.Fatal("a method defined twice must be refused")
	}
}

// C3.3(1): each rule of the policy has its own code, and every problem is
// reported at once.
func TestPasswordPolicyRules_C3_3_1(t *testing.T) {
	codes := func(pw string) []string {
		var out []string
		for _, d := range passwordPolicy("new_password", pw, "31010119900101123X", "13912345678", "王秀英") {
			out = append(out, d.Code)
		}
		return out
	}
	cases := map[string][]string{
		"Good-Long-Passphrase-1": nil,
		"short":                  {"password_length"},
		"x-31010119900101123x-y": {"password_contains_personal_data"},
		"call-13912345678":       {"password_contains_personal_data"},
		"王秀英的安全密码很长很长":           {"password_contains_personal_data"},
		"QWERTYUIOP":             {"password_common"},
		"Password2026!":          {"password_common"},
		"!!woaini1314520":        {"password_common"},
		"1q2w3e":                 {"password_length", "password_common"},
		"123":                    {"password_length"},
	}
	for pw, want := range cases {
		got := codes(pw)
		if len(got) != len(want) {
			t.Errorf("%q: got %v, want %v", pw, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%q: got %v, want %v", pw, got, want)
			}
		}
	}
	if passwords.CommonCount() < 1000 {
		t.Fatalf("the shipped list of common passwords is too short: %d", passwords.CommonCount())
	}
}
