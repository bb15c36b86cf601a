// Package feewords finds the words of a fee or a payment in names and
// texts, for the tests of C2.4 (online services are free): no operation,
// field or page of the system may ask for one.
package feewords

import "strings"

var (
	// tokens are English words, matched as whole identifier tokens (split at
	// anything but letters and digits), so "payload" is not "pay".
	tokens = map[string]bool{"fee": true, "fees": true, "payment": true, "payments": true, "pay": true, "paid": true,
		"price": true, "prices": true, "amount": true, "charge": true, "charges": true, "cost": true, "costs": true,
		"tariff": true, "billing": true, "invoice": true, "currency": true}
	// zh are Chinese words, matched anywhere in a text.
	zh = []string{"费用", "支付", "收费", "缴费", "付款", "价格", "金额", "计费"}
)

// In reports the fee or payment words in an identifier or text.
func In(s string) []string {
	var found []string
	for _, tok := range words(s) {
		if tokens[tok] {
			found = append(found, tok)
		}
	}
	for _, w := range zh {
		if strings.Contains(s, w) {
			found = append(found, w)
		}
	}
	return found
}

// words splits an identifier or text into lower-case ASCII words: at
// anything but letters and digits, and where camelCase starts a word.
func words(s string) []string {
	var out []string
	var cur strings.Builder
	prevLower := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if prevLower {
				flush()
			}
			cur.WriteRune(r + ('a' - 'A'))
			prevLower = false
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			cur.WriteRune(r)
			prevLower = true
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return out
}
