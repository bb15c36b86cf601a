// Package eligibility holds the service qualifications (C3.4(6)) as data:
// each service carries a list of rules, each rule a type with parameters.
// A person qualifies for a service when every rule of it holds. The rules
// are stored as JSON in services.rules; Parse checks what a staff member
// sends, Check applies the rules to the facts known at approval.
package eligibility

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"hrss-backoffice/internal/validate"
)

// Rule types.
const (
	// TypeAgeRange: the person's age on the day of the decision lies in
	// [min_age, max_age] (either bound may be absent).
	TypeAgeRange = "age_range"
	// TypeHouseholdOrResidence: household registration or residence in the
	// city. Household registration is read from the resident ID number
	// (its first digits are the administrative division code of the
	// household register: region_codes), residence from the registered
	// address (place_names), or the reviewer confirms a residence permit
	// seen at the counter (qualification "residence_permit").
	TypeHouseholdOrResidence = "household_or_residence"
	// TypeInsured: the person is insured in the scheme (employee, resident
	// or any), confirmed by the reviewer against the insurance record at
	// the decision (qualifications "insured_employee", "insured_resident").
	TypeInsured = "insured"
)

// Qualifications a reviewer may confirm at the decision.
const (
	QualResidencePermit = "residence_permit"
	QualInsuredEmployee = "insured_employee"
	QualInsuredResident = "insured_resident"
)

// Qualifications lists every confirmable qualification.
var Qualifications = []string{QualResidencePermit, QualInsuredEmployee, QualInsuredResident}

// Types lists the rule types.
var Types = []string{TypeAgeRange, TypeHouseholdOrResidence, TypeInsured}

// Insurance schemes of the insured rule.
var Schemes = []string{"any", "employee", "resident"}

// Rule is one qualification with its parameters. Only the parameters of
// its type are set.
type Rule struct {
	Type        string   `json:"type"`
	MinAge      *int     `json:"min_age,omitempty"`
	MaxAge      *int     `json:"max_age,omitempty"`
	RegionCodes []string `json:"region_codes,omitempty"`
	PlaceNames  []string `json:"place_names,omitempty"`
	Scheme      string   `json:"scheme,omitempty"`
}

// Facts are what the decision knows about the person.
type Facts struct {
	Age            int
	IDNumber       string
	Address        string
	Qualifications []string // confirmed by the reviewer
}

var regionCode = regexp.MustCompile(`^[1-9][0-9]{1,5}$`)

const maxRules = 10

func fe(field, code, zh, en string) validate.FieldError {
	return validate.FieldError{Field: field, Code: code, MessageZH: zh, MessageEN: en}
}

// Parse checks rules sent by staff and returns them normalised, or field
// errors named under prefix ("rules").
func Parse(prefix string, raw json.RawMessage) ([]Rule, []validate.FieldError) {
	if len(raw) == 0 || string(raw) == "null" {
		return []Rule{}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, []validate.FieldError{fe(prefix, "not_a_list", "规则应为列表", "rules must be a list")}
	}
	if len(items) > maxRules {
		return nil, []validate.FieldError{fe(prefix, "too_many", fmt.Sprintf("规则最多 %d 条", maxRules), fmt.Sprintf("at most %d rules", maxRules))}
	}
	var errs []validate.FieldError
	out := []Rule{}
	seen := map[string]bool{}
	for i, item := range items {
		field := prefix + "." + strconv.Itoa(i)
		var r Rule
		dec := json.NewDecoder(strings.NewReader(string(item)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			errs = append(errs, fe(field, "malformed", "规则格式不正确（类型或参数有误）", "malformed rule (unknown parameter or wrong type)"))
			continue
		}
		if seen[r.Type] {
			errs = append(errs, fe(field+".type", "duplicate", "同一类型的规则只能有一条", "one rule of each type"))
			continue
		}
		seen[r.Type] = true
		errs = append(errs, check(field, &r)...)
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func check(field string, r *Rule) []validate.FieldError {
	var errs []validate.FieldError
	only := func(ok bool, name string) {
		if !ok {
			errs = append(errs, fe(field+"."+name, "not_allowed", "此类规则没有该参数", "this rule type has no such parameter"))
		}
	}
	switch r.Type {
	case TypeAgeRange:
		only(r.RegionCodes == nil, "region_codes")
		only(r.PlaceNames == nil, "place_names")
		only(r.Scheme == "", "scheme")
		if r.MinAge == nil && r.MaxAge == nil {
			errs = append(errs, fe(field+".min_age", "required", "至少填写最低或最高年龄", "give min_age, max_age or both"))
		}
		for name, v := range map[string]*int{"min_age": r.MinAge, "max_age": r.MaxAge} {
			if v != nil && (*v < 0 || *v > 150) {
				errs = append(errs, fe(field+"."+name, "out_of_range", "年龄应在 0 至 150 之间", "an age between 0 and 150"))
			}
		}
		if r.MinAge != nil && r.MaxAge != nil && *r.MinAge > *r.MaxAge {
			errs = append(errs, fe(field+".max_age", "below_min", "最高年龄不能低于最低年龄", "max_age is below min_age"))
		}
	case TypeHouseholdOrResidence:
		only(r.MinAge == nil, "min_age")
		only(r.MaxAge == nil, "max_age")
		only(r.Scheme == "", "scheme")
		if len(r.RegionCodes) == 0 {
			errs = append(errs, fe(field+".region_codes", "required", "请填写户籍所在地的行政区划代码", "give the administrative division codes of the city"))
		}
		if len(r.RegionCodes) > 50 || len(r.PlaceNames) > 20 {
			errs = append(errs, fe(field, "too_many", "代码或地名过多", "too many codes or place names"))
		}
		for j, c := range r.RegionCodes {
			if !regionCode.MatchString(c) {
				errs = append(errs, fe(field+".region_codes."+strconv.Itoa(j), "invalid", "行政区划代码为 2 至 6 位数字", "a division code is 2 to 6 digits"))
			}
		}
		for j, p := range r.PlaceNames {
			r.PlaceNames[j] = strings.TrimSpace(p)
			if n := utf8.RuneCountInString(r.PlaceNames[j]); n < 2 || n > 40 || !utf8.ValidString(p) {
				errs = append(errs, fe(field+".place_names."+strconv.Itoa(j), "invalid", "地名为 2 至 40 个字", "a place name is 2 to 40 characters"))
			}
		}
	case TypeInsured:
		only(r.MinAge == nil, "min_age")
		only(r.MaxAge == nil, "max_age")
		only(r.RegionCodes == nil, "region_codes")
		only(r.PlaceNames == nil, "place_names")
		if r.Scheme == "" {
			r.Scheme = "any"
		}
		if !contains(Schemes, r.Scheme) {
			errs = append(errs, fe(field+".scheme", "unknown", "参保类别应为 any、employee 或 resident", "scheme is any, employee or resident"))
		}
	case "":
		errs = append(errs, fe(field+".type", "required", "请选择规则类型", "the rule type is required"))
	default:
		errs = append(errs, fe(field+".type", "unknown", "未知的规则类型", "unknown rule type; one of "+strings.Join(Types, ", ")))
	}
	return errs
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Check applies the rules to the facts: "" when the person qualifies,
// else the reason of the first rule that fails (a stable code).
func Check(rules []Rule, f Facts) string {
	for _, r := range rules {
		if reason := r.apply(f); reason != "" {
			return reason
		}
	}
	return ""
}

func (r Rule) apply(f Facts) string {
	switch r.Type {
	case TypeAgeRange:
		if r.MinAge != nil && f.Age < *r.MinAge {
			return fmt.Sprintf("below_minimum_age_%d", *r.MinAge)
		}
		if r.MaxAge != nil && f.Age > *r.MaxAge {
			return fmt.Sprintf("above_maximum_age_%d", *r.MaxAge)
		}
		return ""
	case TypeHouseholdOrResidence:
		for _, c := range r.RegionCodes {
			if c != "" && strings.HasPrefix(f.IDNumber, c) {
				return ""
			}
		}
		for _, p := range r.PlaceNames {
			if p != "" && strings.Contains(f.Address, p) {
				return ""
			}
		}
		if contains(f.Qualifications, QualResidencePermit) {
			return ""
		}
		return "no_local_household_or_residence"
	case TypeInsured:
		employee, resident := contains(f.Qualifications, QualInsuredEmployee), contains(f.Qualifications, QualInsuredResident)
		switch {
		case r.Scheme == "employee" && employee, r.Scheme == "resident" && resident,
			(r.Scheme == "" || r.Scheme == "any") && (employee || resident):
			return ""
		}
		return "not_insured"
	}
	return "unknown_rule_" + r.Type // a rule this code does not know never lets anyone in
}

// AgeBounds returns the bounds of the age rule (for the older min_age and
// max_age columns and answers).
func AgeBounds(rules []Rule) (minAge, maxAge *int) {
	for _, r := range rules {
		if r.Type == TypeAgeRange {
			return r.MinAge, r.MaxAge
		}
	}
	return nil, nil
}

// Decode reads stored rules; stored rules were checked when written.
func Decode(raw []byte) ([]Rule, error) {
	rules := []Rule{}
	if len(raw) == 0 {
		return rules, nil
	}
	err := json.Unmarshal(raw, &rules)
	return rules, err
}
