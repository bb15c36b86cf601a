package eligibility

import (
	"encoding/json"
	"testing"
)

func ptr(v int) *int { return &v }

func parse(t *testing.T, raw string) ([]Rule, []string) {
	t.Helper()
	rules, errs := Parse("rules", json.RawMessage(raw))
	var names []string
	for _, e := range errs {
		names = append(names, e.Field+":"+e.Code)
	}
	return rules, names
}

func TestAgeRangeRule_C3_4_6(t *testing.T) {
	rules := []Rule{{Type: TypeAgeRange, MinAge: ptr(16), MaxAge: ptr(65)}}
	for age, want := range map[int]string{15: "below_minimum_age_16", 16: "", 65: "", 66: "above_maximum_age_65"} {
		if got := Check(rules, Facts{Age: age}); got != want {
			t.Errorf("age %d: got %q, want %q", age, got, want)
		}
	}
	open := []Rule{{Type: TypeAgeRange, MinAge: ptr(50)}}
	if got := Check(open, Facts{Age: 99}); got != "" {
		t.Errorf("no upper bound: got %q", got)
	}
	for raw, want := range map[string]string{
		`[{"type":"age_range"}]`:                           "rules.0.min_age:required",
		`[{"type":"age_range","min_age":70,"max_age":60}]`: "rules.0.max_age:below_min",
		`[{"type":"age_range","min_age":-1}]`:              "rules.0.min_age:out_of_range",
		`[{"type":"age_range","min_age":1,"scheme":"x"}]`:  "rules.0.scheme:not_allowed",
		`[{"type":"age_range","min_age":"ten"}]`:           "rules.0:malformed",
	} {
		if _, errs := parse(t, raw); len(errs) != 1 || errs[0] != want {
			t.Errorf("%s: got %v, want %s", raw, errs, want)
		}
	}
}

func TestHouseholdOrResidenceRule_C3_4_6(t *testing.T) {
	rules, errs := parse(t, `[{"type":"household_or_residence","region_codes":["3101"],"place_names":[" 上海市 "]}]`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if rules[0].PlaceNames[0] != "上海市" {
		t.Fatalf("place name not trimmed: %q", rules[0].PlaceNames[0])
	}
	cases := []struct {
		name string
		f    Facts
		want string
	}{
		{"household registered in the city (ID number's division code)", Facts{IDNumber: "310104199001011234", Address: "江苏省南京市"}, ""},
		{"living in the city (registered address)", Facts{IDNumber: "320102199001011234", Address: "上海市徐汇区漕溪北路 1 号"}, ""},
		{"residence permit confirmed by the reviewer", Facts{IDNumber: "320102199001011234", Address: "江苏省南京市", Qualifications: []string{QualResidencePermit}}, ""},
		{"neither", Facts{IDNumber: "320102199001011234", Address: "江苏省南京市"}, "no_local_household_or_residence"},
		{"insurance does not count as residence", Facts{IDNumber: "320102199001011234", Address: "江苏省南京市", Qualifications: []string{QualInsuredEmployee}}, "no_local_household_or_residence"},
	}
	for _, c := range cases {
		if got := Check(rules, c.f); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	for raw, want := range map[string]string{
		`[{"type":"household_or_residence","place_names":["上海市"]}]`:                     "rules.0.region_codes:required",
		`[{"type":"household_or_residence","region_codes":["0101"]}]`:                   "rules.0.region_codes.0:invalid",
		`[{"type":"household_or_residence","region_codes":["31"],"place_names":["x"]}]`: "rules.0.place_names.0:invalid",
		`[{"type":"household_or_residence","region_codes":["31"],"min_age":3}]`:         "rules.0.min_age:not_allowed",
	} {
		if _, errs := parse(t, raw); len(errs) != 1 || errs[0] != want {
			t.Errorf("%s: got %v, want %s", raw, errs, want)
		}
	}
}

func TestInsuredRule_C3_4_6(t *testing.T) {
	emp := Facts{Qualifications: []string{QualInsuredEmployee}}
	res := Facts{Qualifications: []string{QualInsuredResident}}
	none := Facts{Qualifications: []string{QualResidencePermit}}
	for _, c := range []struct {
		scheme string
		f      Facts
		want   string
	}{
		{"employee", emp, ""}, {"employee", res, "not_insured"},
		{"resident", res, ""}, {"resident", emp, "not_insured"},
		{"any", emp, ""}, {"any", res, ""}, {"any", none, "not_insured"}, {"any", Facts{}, "not_insured"},
	} {
		if got := Check([]Rule{{Type: TypeInsured, Scheme: c.scheme}}, c.f); got != c.want {
			t.Errorf("scheme %s, %v: got %q, want %q", c.scheme, c.f.Qualifications, got, c.want)
		}
	}
	rules, errs := parse(t, `[{"type":"insured"}]`)
	if len(errs) > 0 || rules[0].Scheme != "any" {
		t.Fatalf("default scheme: %v %v", rules, errs)
	}
	if _, errs := parse(t, `[{"type":"insured","scheme":"gold"}]`); len(errs) != 1 || errs[0] != "rules.0.scheme:unknown" {
		t.Errorf("unknown scheme: %v", errs)
	}
}

// Every rule must hold; the list itself is checked.
func TestRulesCombineAndListIsChecked_C3_4_6(t *testing.T) {
	rules, errs := parse(t, `[{"type":"age_range","min_age":16},{"type":"insured","scheme":"employee"}]`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := Check(rules, Facts{Age: 30}); got != "not_insured" {
		t.Errorf("got %q", got)
	}
	if got := Check(rules, Facts{Age: 15, Qualifications: []string{QualInsuredEmployee}}); got != "below_minimum_age_16" {
		t.Errorf("got %q", got)
	}
	if got := Check(rules, Facts{Age: 30, Qualifications: []string{QualInsuredEmployee}}); got != "" {
		t.Errorf("got %q", got)
	}
	if got := Check(nil, Facts{}); got != "" {
		t.Errorf("no rules: everyone qualifies, got %q", got)
	}
	if got := Check([]Rule{{Type: "future_rule"}}, Facts{}); got == "" {
		t.Error("an unknown stored rule let someone in")
	}
	for raw, want := range map[string]string{
		`{"type":"age_range"}`: "rules:not_a_list",
		`[{"type":"age_range","min_age":1},{"type":"age_range","min_age":2}]`: "rules.1.type:duplicate",
		`[{"type":"lottery"}]`:          "rules.0.type:unknown",
		`[{}]`:                          "rules.0.type:required",
		`[{"type":"insured","fee":10}]`: "rules.0:malformed",
	} {
		if _, errs := parse(t, raw); len(errs) != 1 || errs[0] != want {
			t.Errorf("%s: got %v, want %s", raw, errs, want)
		}
	}
	if rules, errs := parse(t, `null`); len(errs) > 0 || len(rules) != 0 {
		t.Errorf("null: %v %v", rules, errs)
	}
}
