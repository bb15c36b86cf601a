package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
)

// The one-time export of a disclosure's approved data
// (POST /console/disclosures/{id}/export, web/disclosures.go).

type exportRow struct {
	Field string
	Value string
}

type exportData struct {
	ID          string
	Rows        []exportRow
	DeliveredAt time.Time
}

// exportValue writes one disclosed value as text.
func exportValue(lang, field string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if field == "registered_at" {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.In(shanghai).Format("2006-01-02 15:04")
			}
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = exportValue(lang, "", p)
		}
		return strings.Join(parts, lang2(lang, "、", ", "))
	case map[string]any:
		if field == "agreement" {
			s := fmt.Sprintf("%s %s, %s", text(lang, "field.terms_version"), exportValue(lang, "", x["terms_version"]),
				exportDate(x["effective_from"]))
			if until := exportDate(x["effective_until"]); until != "" {
				return s + " – " + until
			}
			return s + " – " + text(lang, "disc.until_open")
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + exportValue(lang, k, x[k])
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(v)
}

func exportDate(v any) string {
	s, _ := v.(string)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(shanghai).Format("2006-01-02")
	}
	return ""
}

// exportDisclosure hands the approved data out once: it is shown on the
// page answering the POST, never stored by the pages, never in a URL, and
// the page is not cached.
func (a *app) exportDisclosure(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	id := c.Param("id")
	var out apitypes.DisclosureExport
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/disclosures/"+url.PathEscape(id)+"/export", nil, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return a.refusedOnDetail(c, e)
	}
	lang := language(c)
	d := exportData{ID: out.DisclosureID, DeliveredAt: out.DeliveredAt}
	for _, f := range out.Fields {
		d.Rows = append(d.Rows, exportRow{Field: f, Value: exportValue(lang, f, out.Data[f])})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, "disclosures/export.html", view{Title: "disc.export_title", Data: d,
		Back: "/console/disclosures/" + out.DisclosureID})
}
