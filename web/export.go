package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"
)

// The user's own copy (GET /v1/me/export; docs/data-protection.md) on "my
// account": a readable page made for printing, and the JSON document to
// download. Each is one export (audited, limited per user by the API).
func (a *app) exportPages() {
	a.get("/account/export", a.exportPage)
	a.get("/account/export.json", a.exportDownload)
}

func init() {
	addMessages(map[string][2]string{
		"my.export":                              {"我的数据副本", "A copy of your data"},
		"export.intro":                           {"以下是本系统保存的与您有关的全部信息，与您在“我的账户”中看到的内容一致。可使用浏览器的打印功能打印或另存为 PDF。", "Everything this system holds about you, as “my account” shows it. Use your browser's print function to print it or save it as a PDF."},
		"export.download":                        {"下载 JSON 文件", "Download as a JSON file"},
		"export.generated":                       {"生成时间", "Made at"},
		"export.section.account":                 {"登记信息", "Registration data"},
		"export.section.services":                {"服务", "Services"},
		"export.section.agreement":               {"协议", "Agreement"},
		"export.section.terms":                   {"承诺书版本及您的意见", "Terms versions and your position"},
		"export.section.notices":                 {"通知", "Notices"},
		"export.section.activity":                {"活动记录", "Activity record"},
		"export.section.cases":                   {"案件", "Cases"},
		"export.section.sanctions":               {"处理决定", "Sanctions"},
		"export.section.disclosures":             {"数据提供记录", "Disclosures of your data"},
		"export.section.consents":                {"授权请求", "Consent requests"},
		"export.section.data_changes":            {"信息变更", "Changes of your data"},
		"export.section.deregistration_requests": {"注销及取消服务申请", "Deregistration and cancellation requests"},
	})
}

// exportSections is the order of the document's parts on the page.
var exportSections = []string{"account", "services", "agreement", "terms", "notices", "activity", "cases", "sanctions",
	"disclosures", "consents", "data_changes", "deregistration_requests"}

// exportField is one value of an entry, shown as text.
type exportField struct{ Key, Value string }

// exportSection is a part of the document: a list of entries.
type exportSection struct {
	ID, Title string
	Entries   [][]exportField
}

type exportView struct {
	GeneratedAt string
	Sections    []exportSection
}

func (a *app) exportPage(c echo.Context) error {
	var doc map[string]json.RawMessage
	if done, err := a.userCall(c, "/v1/me/export", &doc); done {
		return err
	}
	out := exportView{}
	_ = json.Unmarshal(doc["generated_at"], &out.GeneratedAt)
	for _, key := range exportSections {
		out.Sections = append(out.Sections, exportSection{ID: "export-" + key, Title: "export.section." + key,
			Entries: exportEntries(doc[key])})
	}
	return page(c, "myaccount/export.html", "my.export", view{}, out)
}

func (a *app) exportDownload(c echo.Context) error {
	var raw rawBody
	if sessionToken(c) == "" {
		return c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	e := a.call(c, asSignedIn, http.MethodGet, "/v1/me/export", nil, &raw)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="my-data.json"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSONCharsetUTF8, raw)
}

// exportEntries turns a part of the document into entries: an object is
// one entry (or, when it wraps one list such as {"items": […]}, that
// list's entries), a list is one entry per element.
func exportEntries(raw json.RawMessage) [][]exportField {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		out := make([][]exportField, 0, len(list))
		for _, el := range list {
			out = append(out, exportFields(el))
		}
		return out
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || len(obj) == 0 {
		return nil
	}
	for _, v := range obj {
		if len(obj) == 1 && json.Unmarshal(v, &list) == nil {
			return exportEntries(v)
		}
	}
	return [][]exportField{exportFields(raw)}
}

// exportFields lists an object's members in key order, each as text; a
// value that is not an object becomes one field named "value".
func exportFields(raw json.RawMessage) []exportField {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return []exportField{{Key: "value", Value: exportText(raw)}}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]exportField, 0, len(keys))
	for _, k := range keys {
		out = append(out, exportField{Key: k, Value: exportText(obj[k])})
	}
	return out
}

// exportText shows a JSON value as text: strings as they are, null as
// nothing, anything else in its compact JSON form.
func exportText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
