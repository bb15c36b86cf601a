package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// view is what every page template gets. Handlers fill the page's part;
// render adds the language, the CSRF token and the signed-in state.
type view struct {
	Title   string                  // message key of the page title
	Notice  string                  // message key of an information banner
	Problem string                  // message key of an error banner
	Err     *apiError               // an API error to show in the banner
	Fields  map[string][]fieldError // field-level problems, by field
	Form    url.Values              // values to show again after a refused form
	Back    string                  // where the language switch returns to
	Data    any                     // the page's own data

	Lang  string
	Elder bool // the elder-friendly mode is on
	// SessionEnd: when the signed-in session ends (zero: unknown).
	SessionEnd time.Time
	// IdleEnd: when a staff session ends unless used again (zero: none
	// to show), and IdleWarn the seconds before it that the notice shows.
	IdleEnd     time.Time
	IdleEnded   time.Time // the latest idle end: after it the session has surely ended
	IdleWarn    int
	IdleMinutes int
	CSRF        string
	Idem        string // the forms' idempotency key (web/idempotency.go)
	Path        string
	SignedIn    bool
	Staff       bool // a console page
	// StaffSession: the session belongs to staff (a display hint from the
	// kind cookie; the API decides what anyone may do).
	StaffSession bool
	// Restricted: a suspended or cancelled user's restricted session (cases
	// and sanctions only).
	Restricted bool
}

// fieldRef is one field's problems, for the "ferr" template.
type fieldRef struct {
	Name string
	Errs []fieldError
}

// Messages are the texts of the pages in Chinese (the default) and English,
// by key. Each process adds its own with addMessages in its file.
var messages = map[string][2]string{}

func addMessages(m map[string][2]string) {
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic("web: message key defined twice: " + k)
		}
		messages[k] = v
	}
}

// text looks a key up; a missing key shows as itself, which tests catch.
func text(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

func language(c echo.Context) string {
	if cookieValue(c, langCookie) == "en" {
		return "en"
	}
	return "zh"
}

// shanghai is the time zone of the pages (China has no daylight saving).
var shanghai = time.FixedZone("CST", 8*3600)

func funcs(lang string) template.FuncMap {
	pick := func(zh, en string) string {
		if lang == "en" && en != "" {
			return en
		}
		return zh
	}
	return template.FuncMap{
		"t":  func(key string) string { return text(lang, key) },
		"tf": func(key string, args ...any) string { return fmt.Sprintf(text(lang, key), args...) },
		// tk looks up prefix+code, showing the code itself when no text is known.
		"tk": func(prefix, code string) string {
			if _, ok := messages[prefix+code]; ok {
				return text(lang, prefix+code)
			}
			return code
		},
		"pick": pick,
		"errmsg": func(e *apiError) string {
			if e == nil {
				return ""
			}
			if e.MessageZH == "" && e.MessageEN == "" {
				return text(lang, "error.unexpected")
			}
			return pick(e.MessageZH, e.MessageEN)
		},
		"fieldmsg": func(f fieldError) string { return pick(f.MessageZH, f.MessageEN) },
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.In(shanghai).Format("2006-01-02 15:04")
			case *time.Time:
				if v == nil || v.IsZero() {
					return ""
				}
				return v.In(shanghai).Format("2006-01-02 15:04")
			case string: // a time as JSON carries it (pages that decode into maps)
				if p, err := time.Parse(time.RFC3339Nano, v); err == nil {
					return p.In(shanghai).Format("2006-01-02 15:04")
				}
			}
			return ""
		},
		"waiting": func(seconds int64) string {
			h, m := seconds/3600, seconds%3600/60
			if lang == "en" {
				if h > 0 {
					return fmt.Sprintf("%d h %d min", h, m)
				}
				return fmt.Sprintf("%d min", m)
			}
			if h > 0 {
				return fmt.Sprintf("%d 小时 %d 分钟", h, m)
			}
			return fmt.Sprintf("%d 分钟", m)
		},
		"has": func(list []string, x string) bool {
			for _, s := range list {
				if s == x {
					return true
				}
			}
			return false
		},
		// may: the staff member holding roles may do the action named
		// (internal/authz), e.g. {{if may $roles "case.read"}}.
		"may": func(roles []string, action string) bool { return mayStaff(roles, authz.Action(action)) },
		"formHas": func(form url.Values, key, x string) bool {
			for _, s := range form[key] {
				if s == x {
					return true
				}
			}
			return false
		},
		"htmlLang":     func() string { return pick("zh-CN", "en") },
		"clock":        func(t time.Time) string { return t.In(shanghai).Format("15:04") },
		"clockSeconds": func(t time.Time) string { return t.In(shanghai).Format("15:04:05") },
		"deadlineUnix": func(v any) int64 {
			if t := deadline(v); !t.IsZero() {
				return t.Unix()
			}
			return 0
		},
		"deadlineWarn":       deadlineWarn,
		"sessionWarnSeconds": func() int { return int(sessionWarning.Seconds()) },
		"list":               func(s ...string) []string { return s },
		"join":               func(s []string) string { return strings.Join(s, ", ") },
		"actorKind":          ActorKind,
		"fieldname": func(f string) string {
			name, _, _ := strings.Cut(f, ".")
			return name
		},
		"field": func(v view, name string) fieldRef { return fieldRef{Name: name, Errs: v.Fields[name]} },
	}
}

// templates holds each page parsed with the layout, once per language.
var (
	templatesOnce sync.Once
	templates     map[string]map[string]*template.Template // lang → page → template
)

func loadTemplates() {
	templates = map[string]map[string]*template.Template{}
	var pages []string
	err := fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".html") && p != "templates/layout.html" && p != "templates/partials.html" {
			pages = append(pages, p)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	for _, lang := range []string{"zh", "en"} {
		templates[lang] = map[string]*template.Template{}
		for _, p := range pages {
			t := template.Must(template.New("layout.html").Funcs(funcs(lang)).
				ParseFS(files, "templates/layout.html", "templates/partials.html", p))
			templates[lang][strings.TrimPrefix(p, "templates/")] = t
		}
	}
}

// render writes a page. The page is executed into a buffer first so that a
// template error never sends half a page.
func render(c echo.Context, status int, page string, v view) error {
	templatesOnce.Do(loadTemplates)
	v.Lang = language(c)
	v.Elder = elderMode(c)
	v.CSRF = csrfToken(c)
	v.Idem = formKey(c)
	v.Path = c.Request().URL.Path
	v.SignedIn = sessionToken(c) != ""
	if v.SignedIn {
		v.SessionEnd = sessionEnd(c)
	}
	v.Restricted = !v.SignedIn && restrictedToken(c) != ""
	v.StaffSession = v.SignedIn && cookieValue(c, kindCookie) == "staff"
	if v.StaffSession {
		end, ended, warn := idleNotice(c, v.SessionEnd)
		v.IdleEnd, v.IdleEnded, v.IdleWarn = end, ended, int(warn.Seconds())
		v.IdleMinutes = max(1, int((idleTimeout(c)+30*time.Second)/time.Minute))
	}
	v.Staff = strings.HasPrefix(v.Path, "/console")
	if v.Back == "" {
		// Pages shown in answer to a POST name their GET page themselves.
		v.Back = v.Path
	}
	if n := c.QueryParam("notice"); v.Notice == "" && n != "" {
		if _, ok := messages["notice."+n]; ok {
			v.Notice = "notice." + n
		}
	}
	if v.Fields == nil {
		v.Fields = v.Err.fields()
	}
	if v.Form == nil {
		v.Form = url.Values{}
	}
	t, ok := templates[v.Lang][page]
	if !ok {
		return fmt.Errorf("web: no page %s", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		slog.Error("render page", "page", page, "error", err)
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// fail shows an API error that the page cannot handle itself.
func fail(c echo.Context, e *apiError) error {
	status := e.Status
	if status < 400 {
		status = http.StatusInternalServerError
	}
	return render(c, status, "error.html", view{Title: "error.title", Err: e, Back: "/"})
}
