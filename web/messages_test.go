package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Every text a template names exists in Chinese and in English, and no key
// is left without a use.
func TestEveryPageTextExistsInBothLanguages(t *testing.T) {
	key := regexp.MustCompile(`\{\{-?\s*(?:t|tf)\s+"([a-z0-9_.]+)"`)
	used := map[string]bool{}
	err := fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s: no text for %q", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range messages {
		if strings.TrimSpace(v[0]) == "" || strings.TrimSpace(v[1]) == "" {
			t.Errorf("%q lacks a Chinese or an English text", k)
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in the templates: is the pattern right?", len(used))
	}
}

// Every page parses in both languages.
func TestTemplatesParse(t *testing.T) {
	templatesOnce.Do(loadTemplates)
	for _, lang := range []string{"zh", "en"} {
		for _, page := range []string{"home.html", "error.html", "account/signin.html", "account/password.html",
			"account/account.html", "registration/register.html", "registration/follow.html",
			"registration/follow_open.html", "registration/submitted.html", "review/console.html",
			"review/application.html", "review/approved.html", "review/slip.html", "staff/staff.html",
			"myaccount/notices.html", "myaccount/activity.html", "myaccount/terms.html", "myaccount/cases.html",
			"myaccount/consents.html", "myaccount/disclosures.html", "myaccount/deregistration.html",
			"myaccount/receipt.html", "myaccount/security.html", "myaccount/locked.html", "cases/list.html",
			"cases/case.html", "cases/sanction.html", "accounts/accounts.html", "accounts/account.html",
			"accounts/reset.html", "terms/console.html", "terms/version.html", "terms/announcements.html",
			"audit/audit.html", "myaccount/restricted.html", "staff/member.html", "cases/open_fraud.html",
			"cases/open_violation.html", "datachanges/queue.html", "datachanges/change.html", "disclosures/list.html",
			"disclosures/new.html", "disclosures/detail.html", "disclosures/export.html", "notices/notices.html", "myaccount/details.html", "account/report.html", "account/report_done.html",
			"account/code.html", "account/enrol.html", "account/recovery.html", "account/reauth.html", "myaccount/export.html",
			"staff/changes.html", "staff/initial_password.html"} {
			if templates[lang][page] == nil {
				t.Errorf("%s: page %s missing", lang, page)
			}
		}
	}
}

func TestLocalPathKeepsRedirectsOnThisSite(t *testing.T) {
	for in, want := range map[string]string{"/register": "/register", "//evil.example": "/", "https://evil.example": "/",
		"/\\evil": "/", "": "/", "/follow?x=1": "/", "/\t/evil.example": "/", "/\n/evil.example": "/", "/\x7f": "/"} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// The page to go back to after re-authentication: a tab or newline, which a
// browser drops from a Location, must not turn it into another site's.
func TestSafeNextKeepsReauthenticationOnThisSite_C1_4(t *testing.T) {
	for in, want := range map[string]string{"/console/audit": "/console/audit", "/console/audit?from=x": "/console/audit?from=x",
		"/\t/evil.example": "/console", "//evil.example": "/console", "https://evil.example": "/console",
		"/console?x=\r\nLocation:%20//evil": "/console", "": "/console"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
