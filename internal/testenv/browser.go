package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"hrss-backoffice/internal/testdb"
)

// Browser is one headless Chromium ($CHROMIUM) for a test, driven with
// chromedp. Each person in a test gets a Window: an isolated browser
// context (its own cookies), like a separate device. Every URL any tab
// navigates to is recorded, so a test can prove that no personal data ends
// up in a URL.
type Browser struct {
	T   testing.TB
	ctx context.Context
	dir string

	axe string // axe-core's source; empty: no audits

	mu      sync.Mutex
	urls    []string
	shot    int
	audited int
}

// StepTimeout bounds one browser step (a navigation, a click and the wait
// for the page it leads to).
const StepTimeout = 30 * time.Second

// NewBrowser starts Chromium for the test and stops it at the end. Without
// CHROMIUM the test is skipped, unless HRSS_INTEGRATION=1 (then it fails).
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	testdb.RequireServices(t, "CHROMIUM")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(os.Getenv("CHROMIUM")),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		// A tablet at the counter, landscape.
		chromedp.WindowSize(1180, 820),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser; it must not carry a deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("browser screenshots in %s", dir)
	b := &Browser{T: t, ctx: ctx, dir: dir, axe: axeJS(t)}
	t.Cleanup(func() { t.Logf("axe-core: %d pages audited", b.Audited()) })
	return b
}

// Window is one tab in its own browser context. Every new page it shows
// is audited with axe-core after the step that opened it (see Audit).
type Window struct {
	B   *Browser
	Ctx context.Context
	// NoAudit turns the automatic audit off (for a test that audits
	// explicitly at chosen points).
	NoAudit bool
}

// Window opens a tab in a new, isolated browser context.
func (b *Browser) Window() *Window {
	b.T.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.T.Cleanup(cancel)
	return b.attach(ctx)
}

// Tab opens another tab in the same browser context as w (same cookies).
func (w *Window) Tab() *Window {
	w.B.T.Helper()
	ctx, cancel := chromedp.NewContext(w.Ctx)
	w.B.T.Cleanup(cancel)
	return w.B.attach(ctx)
}

func (b *Browser) attach(ctx context.Context) *Window {
	b.T.Helper()
	if err := chromedp.Do(ctx); err != nil {
		b.T.Fatalf("open tab: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventFrameNavigated); ok && e.Frame != nil {
			b.mu.Lock()
			b.urls = append(b.urls, e.Frame.URL)
			b.mu.Unlock()
		}
	}); err != nil {
		b.T.Fatal(err)
	}
	return &Window{B: b, Ctx: ctx}
}

// Do runs steps within StepTimeout and fails the test on an error.
func (w *Window) Do(steps ...chromedp.Action[chromedp.Void]) {
	w.B.T.Helper()
	ctx, cancel := context.WithTimeout(w.Ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		url, _ := chromedp.Run(w.Ctx, chromedp.Location())
		w.Shot("failed")
		w.B.T.Fatalf("browser step failed at %s: %v", url, err)
	}
	w.autoAudit()
}

// Viewport sets the window's size in CSS pixels (375: a phone).
func (w *Window) Viewport(width, height int64) {
	w.B.T.Helper()
	w.Do(chromedp.EmulateViewport(width, height))
}

// SideScroll is how many CSS pixels the page is wider than the window (0:
// no horizontal scrolling).
func (w *Window) SideScroll() int {
	w.B.T.Helper()
	return Run(w, chromedp.Evaluate[int](`Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`))
}

// Run runs one action that returns a value, within StepTimeout.
func Run[T any](w *Window, a chromedp.Action[T]) T {
	w.B.T.Helper()
	ctx, cancel := context.WithTimeout(w.Ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		w.B.T.Fatalf("browser: %v", err)
	}
	return v
}

// Text is the visible text of the first element the CSS selector finds,
// waiting for it to be visible.
func (w *Window) Text(css string) string {
	w.B.T.Helper()
	w.Do(chromedp.WaitVisible(chromedp.CSS(css)))
	return strings.TrimSpace(Run(w, chromedp.Text(chromedp.CSS(css))))
}

// Attr is an attribute of the first element the CSS selector finds.
func (w *Window) Attr(css, name string) string {
	w.B.T.Helper()
	w.Do(chromedp.WaitReady(chromedp.CSS(css)))
	return Run(w, chromedp.AttributeValue(chromedp.CSS(css), name)).Value
}

// Shot saves a full-page screenshot as NN-name.png and returns its path.
func (w *Window) Shot(name string) string {
	b := w.B
	b.mu.Lock()
	b.shot++
	n := b.shot
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(w.Ctx, StepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.T.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return path
}

// URLs lists every URL that the tabs navigated to so far.
func (b *Browser) URLs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.urls...)
}
