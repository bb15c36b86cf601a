package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// AxeTags are the axe-core rule tags every page must pass: WCAG 2.1 level A
// and AA (GB/T 37668-2019 follows WCAG 2.1).
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

var axeSource struct {
	once sync.Once
	js   string
	err  error
}

// axeJS is the source of axe-core ($AXE_JS, installed by scripts/test.sh).
// Without AXE_JS the audits are off, unless HRSS_INTEGRATION=1 (make test),
// where that is an error.
func axeJS(t interface {
	Fatalf(string, ...any)
	Logf(string, ...any)
}) string {
	axeSource.once.Do(func() {
		path := os.Getenv("AXE_JS")
		if path == "" {
			return
		}
		b, err := os.ReadFile(path)
		axeSource.js, axeSource.err = string(b), err
	})
	if axeSource.err != nil {
		t.Fatalf("axe-core: %v", axeSource.err)
	}
	if axeSource.js == "" {
		if os.Getenv("HRSS_INTEGRATION") == "1" {
			t.Fatalf("AXE_JS is not set: scripts/test.sh installs axe-core and sets it")
		}
		t.Logf("AXE_JS not set: pages are not audited with axe-core")
	}
	return axeSource.js
}

// auditTimeout bounds one audit (a long page on a busy machine takes a while).
const auditTimeout = 3 * StepTimeout

// axeViolation is the part of an axe-core violation a failure message needs.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// auditScript runs axe-core on the document with the WCAG 2.1 A/AA rules and
// marks the document as audited. It waits for the document to finish
// loading first: a page that replaced the one the step checked may still be
// parsing, and a half-parsed element (a link whose text has not arrived)
// would be reported as a violation of the page.
var auditScript = `new Promise(function (loaded) {
    if (document.readyState === "complete") { loaded(); } else { window.addEventListener("load", function () { loaded(); }, {once: true}); }
  })
  .then(function () { return axe.run(document, {runOnly: {type: "tag", values: ` + jsList(AxeTags) + `}, resultTypes: ["violations"]}); })
  .then(function (r) {
    window.__hrssAudited = true;
    return r.violations.map(function (v) {
      return {id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) {
        return {target: n.target.join(" "), html: n.html.slice(0, 300), summary: n.failureSummary || ""};
      })};
    });
  })`

func jsList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = `"` + x + `"`
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Audit runs axe-core on the window's current page and fails the test (not
// at once: the test goes on) for each WCAG 2.1 A/AA violation. It returns
// the number of violations.
func (w *Window) Audit() int {
	w.B.T.Helper()
	if w.B.axe == "" {
		return 0
	}
	ctx, cancel := context.WithTimeout(w.Ctx, auditTimeout)
	defer cancel()
	vs, url, err := w.audit(ctx)
	if err != nil {
		w.B.T.Fatalf("axe-core on %s: %v", url, err)
	}
	w.report(url, vs)
	return len(vs)
}

func (w *Window) audit(ctx context.Context) ([]axeViolation, string, error) {
	url, _ := chromedp.Run(ctx, chromedp.Location())
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		return nil, url, err
	}
	if !loaded {
		// Evaluated through the DevTools protocol: the page's
		// Content-Security-Policy does not apply.
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](w.B.axe)); err != nil {
			return nil, url, err
		}
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](auditScript, chromedp.EvalAwaitPromise))
	return vs, url, err
}

func (w *Window) report(url string, vs []axeViolation) {
	w.B.T.Helper()
	w.B.mu.Lock()
	w.B.audited++
	w.B.mu.Unlock()
	if len(vs) == 0 {
		return
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    at %s: %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", " / "))
		}
	}
	w.Shot("axe-violations")
	w.B.T.Errorf("axe-core: %d WCAG 2.1 A/AA violation(s) on %s:%s", len(vs), url, b.String())
}

// autoAudit audits the current page once per document, after each step
// (every page a test opens). A page still loading, or replaced while it was
// being audited, is left to the next step.
func (w *Window) autoAudit() {
	w.B.T.Helper()
	if w.B.axe == "" || w.NoAudit {
		return
	}
	ctx, cancel := context.WithTimeout(w.Ctx, auditTimeout)
	defer cancel()
	// Pages of this project only (those with its style sheet): not
	// about:blank before the first page, nor the Temporal web UI.
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('link[href="/assets/app.css"]') ? "ours " : "other ") +
	  document.readyState + (window.__hrssAudited ? " audited" : "")`))
	if err != nil || state != "ours complete" {
		return
	}
	vs, url, err := w.audit(ctx)
	if err != nil {
		w.B.T.Logf("axe-core on %s not run (the page changed?): %v", url, err)
		return
	}
	w.report(url, vs)
}

// Audited is the number of pages audited with axe-core so far.
func (b *Browser) Audited() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.audited
}
