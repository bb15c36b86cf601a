// Package validate checks the personal data a registration carries (C3.2):
// the resident ID number with its GB 11643 check digit and birth date, the
// mainland mobile number, and the optional e-mail address.
package validate

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FieldError is one field's problem, with a stable code and messages in
// both languages the API answers in.
type FieldError struct {
	Field     string `json:"field"`
	Code      string `json:"code"`
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
}

func fieldErr(field, code, zh, en string) *FieldError {
	return &FieldError{Field: field, Code: code, MessageZH: zh, MessageEN: en}
}

// idWeights are the GB 11643-1999 weights of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum modulo 11 to the check character.
const idCheckChars = "10X98765432"

// NormalizeIDNumber trims spaces and upper-cases a trailing x.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// ResidentID validates an 18-character resident ID number: 17 digits, a
// province code that exists, a real birth date not in the future, and the
// check character. It returns the birth date. now is passed in so tests and
// callers agree on "today".
func ResidentID(field, raw string, now time.Time) (time.Time, *FieldError) {
	s := NormalizeIDNumber(raw)
	if s == "" {
		return time.Time{}, fieldErr(field, "required", "请填写公民身份号码", "the resident ID number is required")
	}
	if len(s) != 18 {
		return time.Time{}, fieldErr(field, "id_number_length", "公民身份号码应为18位", "the resident ID number must have 18 characters")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return time.Time{}, fieldErr(field, "id_number_format", "公民身份号码前17位应为数字", "the first 17 characters of the resident ID number must be digits")
		}
		sum += int(c-'0') * idWeights[i]
	}
	last := s[17]
	if (last < '0' || last > '9') && last != 'X' {
		return time.Time{}, fieldErr(field, "id_number_format", "公民身份号码最后一位应为数字或X", "the last character of the resident ID number must be a digit or X")
	}
	// Province codes run from 11 to 82 (mainland, Hong Kong, Macao, Taiwan).
	if p := int(s[0]-'0')*10 + int(s[1]-'0'); p < 11 || p > 82 {
		return time.Time{}, fieldErr(field, "id_number_region", "公民身份号码的地区码无效", "the resident ID number has an invalid region code")
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 {
		return time.Time{}, fieldErr(field, "id_number_birth_date", "公民身份号码中的出生日期无效", "the resident ID number contains an invalid birth date")
	}
	if birth.After(now) {
		return time.Time{}, fieldErr(field, "id_number_birth_date", "公民身份号码中的出生日期晚于今天", "the birth date in the resident ID number is in the future")
	}
	if idCheckChars[sum%11] != last {
		return time.Time{}, fieldErr(field, "id_number_checksum", "公民身份号码校验位不正确", "the check character of the resident ID number is wrong")
	}
	return birth, nil
}

// IDCheckChar computes the check character for 17 leading digits; tests and
// the load generator use it to make valid numbers.
func IDCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// Mobile validates a mainland mobile number: 11 digits starting 13–19.
func Mobile(field, raw string) *FieldError {
	s := strings.TrimSpace(raw)
	if s == "" {
		return fieldErr(field, "required", "请填写手机号码", "the mobile number is required")
	}
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return fieldErr(field, "mobile_format", "手机号码应为以13至19开头的11位数字", "the mobile number must be 11 digits starting with 13 to 19")
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fieldErr(field, "mobile_format", "手机号码应为以13至19开头的11位数字", "the mobile number must be 11 digits starting with 13 to 19")
		}
	}
	return nil
}

// Email validates an optional e-mail address (empty is fine).
func Email(field, raw string) *FieldError {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return fieldErr(field, "email_format", "电子邮箱格式不正确", "the e-mail address is not valid")
	}
	return nil
}

// Text validates free text: required or not, length in characters, valid
// UTF-8 and no control characters.
func Text(field, raw string, required bool, minLen, maxLen int) *FieldError {
	s := strings.TrimSpace(raw)
	if s == "" {
		if required {
			return fieldErr(field, "required", "此项为必填项", "this field is required")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "encoding", "包含无效字符", "contains invalid characters")
	}
	n := utf8.RuneCountInString(s)
	if n < minLen || n > maxLen {
		return fieldErr(field, "length", "长度不符合要求", "has a length outside the allowed range")
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' {
			return fieldErr(field, "encoding", "包含控制字符", "contains control characters")
		}
	}
	return nil
}

// PersonName validates a name: 2 to 50 characters, letters (any script),
// the middle dot used in transliterated names, spaces and hyphens.
func PersonName(field, raw string) *FieldError {
	if fe := Text(field, raw, true, 2, 50); fe != nil {
		return fe
	}
	for _, r := range strings.TrimSpace(raw) {
		if !(unicode.IsLetter(r) || r == '·' || r == '•' || r == ' ' || r == '-') {
			return fieldErr(field, "name_format", "姓名只能包含文字、间隔号、空格或连字符", "the name may contain only letters, the middle dot, spaces or hyphens")
		}
	}
	return nil
}

// AgeOn returns the full years between birth and day.
func AgeOn(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}
