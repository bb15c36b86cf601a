// Package messages holds the text of every notice the system sends by SMS
// or e-mail (issue 18): one template per kind, in Chinese and English, with
// numbered parameters {1}, {2} … as Tencent Cloud SMS writes them, so the
// same kind and parameter list serve the providers that fill an approved
// template themselves (the Tencent adapter sends the template ID of the
// kind and Params) and the senders that need the text (Render).
//
// Length limits: a verification code fits in one SMS (70 UCS-2 or 160
// GSM-7 characters); every other notice fits in at most MaxParts parts of
// a long SMS (67 UCS-2 or 153 GSM-7 characters each). Each parameter has
// a maximum length; a name longer than that is shortened with "…", any
// other parameter longer than that is refused (messages_test.go renders
// every template with the longest parameters).
package messages

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The kinds of message, one list for the renderer and the providers'
// template IDs (TENCENT_SMS_TEMPLATES names these kinds).
const (
	CodeRegistration  = "verification_code_registration"
	CodeContactChange = "verification_code_contact_change"
	CodePickup        = "verification_code_pickup"
	Approved          = "registration_approved"
	Rejected          = "registration_rejected"
	InfoRequested     = "registration_info_requested"
	TermsRevision     = "terms_revision"
	ServiceRules      = "service_rules_changed"
	ServiceRetired    = "service_retired"
)

// MaxParts bounds a notice's long SMS; a verification code is one part.
const MaxParts = 3

// Languages: Chinese, the default, and English where it was chosen.
const (
	ZH = "zh"
	EN = "en"
)

// Param describes one parameter: its name (for documentation and
// errors), its longest value in characters, and whether a longer value
// is shortened (names) instead of refused (codes, links, dates).
type Param struct {
	Name    string
	Max     int
	Shorten bool
}

// Template is the text of one kind in both languages.
type Template struct {
	Kind   string
	ZH, EN string
	Params []Param
	// OnePart: the message must fit in one SMS (verification codes).
	OnePart bool
}

var (
	code    = Param{Name: "code", Max: 6}
	minutes = Param{Name: "minutes", Max: 3}
	// link is PUBLIC_BASE_URL + "/follow" (the base is at most
	// MaxBaseURL characters: internal/config checks it).
	link     = Param{Name: "link", Max: MaxBaseURL + len("/follow")}
	deadline = Param{Name: "deadline", Max: len("2006-01-02 15:04")}
	date     = Param{Name: "date", Max: len("2006-01-02")}
	version  = Param{Name: "version", Max: 32}
	service  = Param{Name: "service", Max: 20, Shorten: true}
)

// MaxBaseURL is the longest public base URL a link may carry;
// DefaultBaseURL the site's address for a local run (PUBLIC_BASE_URL).
const (
	MaxBaseURL     = 48
	DefaultBaseURL = "http://localhost:8080"
)

var templates = map[string]Template{}

func add(t Template) {
	if _, dup := templates[t.Kind]; dup {
		panic("messages: kind " + t.Kind + " twice")
	}
	templates[t.Kind] = t
}

const signZH, signEN = "【上海人社】", "[Shanghai HRSS] "

func init() {
	add(Template{Kind: CodeRegistration, OnePart: true, Params: []Param{code, minutes},
		ZH: signZH + "您的注册验证码为{1}，{2}分钟内有效。如非本人操作请忽略，请勿告诉他人。",
		EN: signEN + "Your registration code is {1}, valid for {2} minutes. Tell no one; ignore it if you did not ask for it."})
	add(Template{Kind: CodeContactChange, OnePart: true, Params: []Param{code, minutes},
		ZH: signZH + "您正在更换手机号，验证码为{1}，{2}分钟内有效，请勿告诉他人。",
		EN: signEN + "Your code to change the mobile number is {1}, valid for {2} minutes. Tell no one."})
	add(Template{Kind: CodePickup, OnePart: true, Params: []Param{code, minutes},
		ZH: signZH + "您正在领取初始密码，验证码为{1}，{2}分钟内有效，请勿告诉他人。",
		EN: signEN + "Your code to pick up the initial password is {1}, valid for {2} minutes. Tell no one."})
	add(Template{Kind: Approved, Params: []Param{link, deadline},
		ZH: signZH + "您的注册申请已批准。请于{2}前打开{1}，凭查询码和发到本机的验证码领取初始密码（仅一次）。逾期请持身份证到窗口办理。",
		EN: signEN + "Your registration is approved. Before {2}, open {1} and pick up your initial password (once) with your follow code " +
			"and a code sent to this phone. Later, come to a counter with your ID card."})
	add(Template{Kind: Rejected, Params: []Param{link},
		ZH: signZH + "您的注册申请未获批准，理由请在申请进度页查看：{1}",
		EN: signEN + "Your registration was not approved. The reason is on the follow page: {1}"})
	add(Template{Kind: InfoRequested, Params: []Param{link},
		ZH: signZH + "您的注册申请需要补充资料，请在申请进度页查看并补充：{1}",
		EN: signEN + "Your registration needs more information. See what is missing and supply it on the follow page: {1}"})
	add(Template{Kind: TermsRevision, Params: []Param{version, date},
		ZH: signZH + "用户承诺书已修订（版本 {1}），自 {2} 起生效，请登录网站查看并选择接受或拒绝。",
		EN: signEN + "The user agreement is revised (version {1}), in force from {2}. Sign in to read it and accept or reject it."})
	add(Template{Kind: ServiceRules, Params: []Param{service},
		ZH: signZH + "服务「{1}」的办理条件已调整，详情请登录网站查看。",
		EN: signEN + "The conditions of the service \"{1}\" have changed. Sign in for the details."})
	add(Template{Kind: ServiceRetired, Params: []Param{service},
		ZH: signZH + "服务「{1}」已停止提供，已为您关闭，详情请登录网站查看。",
		EN: signEN + "The service \"{1}\" is no longer offered and was closed for you. Sign in for the details."})
}

// Kinds lists every kind, sorted.
func Kinds() []string {
	out := make([]string, 0, len(templates))
	for k := range templates {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lookup finds the template of a kind.
func Lookup(kind string) (Template, bool) {
	t, ok := templates[kind]
	return t, ok
}

// Lang is the language of a message: English only where it was chosen.
func Lang(preference string) string {
	if preference == EN {
		return EN
	}
	return ZH
}

// Params checks and, for names, shortens the parameters of a kind: the
// list a provider's template receives (Render fills the same list in).
func Params(kind string, params []string) ([]string, error) {
	t, ok := templates[kind]
	if !ok {
		return nil, fmt.Errorf("messages: unknown kind %q", kind)
	}
	if len(params) != len(t.Params) {
		return nil, fmt.Errorf("messages: %s takes %d parameters, got %d", kind, len(t.Params), len(params))
	}
	out := make([]string, len(params))
	for i, p := range t.Params {
		v := strings.TrimSpace(params[i])
		if n := utf8.RuneCountInString(v); n > p.Max {
			if !p.Shorten {
				return nil, fmt.Errorf("messages: %s: %s is longer than %d characters", kind, p.Name, p.Max)
			}
			v = string([]rune(v)[:p.Max-1]) + "…"
		}
		out[i] = v
	}
	return out, nil
}

// Render is the text of a kind in a language (zh unless en), with its
// parameters checked and filled in.
func Render(kind, lang string, params []string) (string, error) {
	ps, err := Params(kind, params)
	if err != nil {
		return "", err
	}
	t := templates[kind]
	text := t.ZH
	if Lang(lang) == EN {
		text = t.EN
	}
	pairs := make([]string, 0, 2*len(ps))
	for i, v := range ps {
		pairs = append(pairs, "{"+strconv.Itoa(i+1)+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(text), nil
}

// ProviderText is a template as it is registered with an SMS provider
// that adds the signature itself: without the sign, with {1}, {2} ….
func ProviderText(kind, lang string) string {
	t := templates[kind]
	if Lang(lang) == EN {
		return strings.TrimPrefix(t.EN, signEN)
	}
	return strings.TrimPrefix(t.ZH, signZH)
}

// CheckProviderTemplates checks a provider's template IDs (kind → ID): an
// unknown kind is an error; the kinds without an ID are returned (their
// messages would be abandoned as "no template").
func CheckProviderTemplates(ids map[string]string) (missing []string, err error) {
	for _, k := range Kinds() {
		if ids[k] == "" {
			missing = append(missing, k)
		}
	}
	var unknown []string
	for k := range ids {
		if _, ok := templates[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return missing, fmt.Errorf("messages: no such kind: %s (kinds: %s)", strings.Join(unknown, ", "), strings.Join(Kinds(), ", "))
	}
	return missing, nil
}

// Parts is how many parts an SMS of this text takes: GSM-7 when every
// character is in its basic or extension table (the latter count twice),
// UCS-2 otherwise (characters beyond the BMP count twice).
func Parts(text string) int {
	n, gsm := 0, true
	for _, r := range text {
		switch {
		case r < 0x80 && strings.ContainsRune("^{}\\[~]|", r):
			n += 2
		case r >= 0x20 && r < 0x7f && r != '`', r == '\n', r == '\r':
			n++
		default:
			gsm = false
		}
	}
	if !gsm {
		n = 0
		for _, r := range text {
			n += utf8.RuneLen(r) / 4 // 1 more for a surrogate pair
			n++
		}
		return parts(n, 70, 67)
	}
	return parts(n, 160, 153)
}

func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
