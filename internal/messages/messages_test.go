package messages

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// longest is the longest value of a parameter: Chinese characters where a
// name may be Chinese (they cost the most in an SMS), else ASCII.
func longest(p Param) string {
	switch p.Name {
	case "service":
		return strings.Repeat("养", 100) // a service name may have 100 characters
	case "link":
		return "https://" + strings.Repeat("w", MaxBaseURL-len("https://")) + "/follow"
	case "code":
		return "123456"
	case "minutes":
		return "100"
	case "deadline":
		return "2026-12-31 23:59"
	case "date":
		return "2026-12-31"
	}
	return strings.Repeat("9", p.Max)
}

// C1.5, C2.6, C2.7 (issue 18): every notice kind renders in Chinese and
// English with its longest parameters within the SMS limits: a code in one
// part (70 UCS-2 characters), any other notice in at most MaxParts parts;
// every placeholder is filled, and the provider's template has the same
// parameter list.
func TestEveryTemplateFitsTheSMSLimits_C1_5(t *testing.T) {
	require.NotEmpty(t, Kinds())
	placeholder := regexp.MustCompile(`\{\d+\}`)
	for _, kind := range Kinds() {
		tpl, ok := Lookup(kind)
		require.True(t, ok)
		params := make([]string, len(tpl.Params))
		for i, p := range tpl.Params {
			params[i] = longest(p)
		}
		for _, lang := range []string{ZH, EN} {
			text, err := Render(kind, lang, params)
			require.NoError(t, err, kind)
			require.NotRegexp(t, placeholder, text, "%s/%s: every placeholder filled", kind, lang)
			limit := MaxParts
			if tpl.OnePart {
				limit = 1
			}
			require.LessOrEqualf(t, Parts(text), limit, "%s/%s: %d characters: %q", kind, lang, utf8.RuneCountInString(text), text)
			// The provider's template numbers the same parameters.
			found := placeholder.FindAllString(ProviderText(kind, lang), -1)
			require.Lenf(t, found, len(tpl.Params), "%s/%s", kind, lang)
		}
		require.Contains(t, mustRender(t, kind, ZH, params), "【上海人社】")
	}
	// A Chinese code message is one UCS-2 part: at most 70 characters.
	text := mustRender(t, CodePickup, ZH, []string{"123456", "10"})
	require.LessOrEqual(t, utf8.RuneCountInString(text), 70)
}

func mustRender(t *testing.T, kind, lang string, params []string) string {
	t.Helper()
	s, err := Render(kind, lang, params)
	require.NoError(t, err)
	return s
}

func TestRenderChecksItsParameters_C1_5(t *testing.T) {
	_, err := Render("no_such_kind", ZH, nil)
	require.Error(t, err)
	_, err = Render(CodeRegistration, ZH, []string{"123456"})
	require.Error(t, err, "a missing parameter")
	_, err = Render(Approved, ZH, []string{"https://" + strings.Repeat("x", 100) + "/follow", "2026-01-01 10:00"})
	require.Error(t, err, "a link is never cut")
	ps, err := Params(ServiceRetired, []string{strings.Repeat("名", 30)})
	require.NoError(t, err)
	require.Equal(t, 20, utf8.RuneCountInString(ps[0]), "a long name is shortened")
	require.True(t, strings.HasSuffix(ps[0], "…"))
	require.Equal(t, "【上海人社】您正在领取初始密码，验证码为654321，10分钟内有效，请勿告诉他人。",
		mustRender(t, CodePickup, "", []string{"654321", "10"}), "Chinese unless English was chosen")
	require.True(t, strings.HasPrefix(mustRender(t, CodePickup, EN, []string{"654321", "10"}), "[Shanghai HRSS] "))
}

func TestSMSParts(t *testing.T) {
	require.Equal(t, 1, Parts(strings.Repeat("a", 160)))
	require.Equal(t, 2, Parts(strings.Repeat("a", 161)))
	require.Equal(t, 1, Parts(strings.Repeat("字", 70)))
	require.Equal(t, 2, Parts(strings.Repeat("字", 71)))
	require.Equal(t, 3, Parts(strings.Repeat("字", 67*2+1)))
	require.Equal(t, 2, Parts(strings.Repeat("a", 159)+"{"), "an extension character counts twice")
}

func TestProviderTemplateIDsNameKnownKinds(t *testing.T) {
	ids := map[string]string{}
	for _, k := range Kinds() {
		ids[k] = "1"
	}
	missing, err := CheckProviderTemplates(ids)
	require.NoError(t, err)
	require.Empty(t, missing)
	delete(ids, Rejected)
	ids["verification_code"] = "2"
	missing, err = CheckProviderTemplates(ids)
	require.Error(t, err)
	require.Equal(t, []string{Rejected}, missing)
}
