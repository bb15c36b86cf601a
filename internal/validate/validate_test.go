package validate

import (
	"testing"
	"time"
)

var today = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// makeID builds a valid number from region, birth date and sequence.
func makeID(region, birth, seq string) string {
	s := region + birth + seq
	return s + string(IDCheckChar(s))
}

// C3.2: registration data must be true and accurate; the resident ID number
// is checked for length, digits, region, a real birth date and check digit.
func TestResidentIDAcceptsValidAndRejectsEachDefect_C3_2(t *testing.T) {
	valid := makeID("310101", "19900307", "123")
	birth, fe := ResidentID("id_number", valid, today)
	if fe != nil {
		t.Fatalf("valid number refused: %+v", fe)
	}
	if birth.Format("2006-01-02") != "1990-03-07" {
		t.Fatalf("birth date %v", birth)
	}
	// A known published example whose check character is X.
	if _, fe := ResidentID("id_number", "11010519491231002x", today); fe != nil {
		t.Fatalf("lower-case x refused: %+v", fe)
	}
	wrongCheck := valid[:17] + string("0123456789X"[(indexOf(valid[17])+1)%11])
	cases := map[string]string{
		"":                                  "required",
		"31010119900307123":                 "id_number_length",
		"3101011990030712A4":                "id_number_format",
		valid[:17] + "Y":                    "id_number_format",
		makeID("000000", "19900307", "123"): "id_number_region",
		makeID("310101", "19900230", "123"): "id_number_birth_date",
		makeID("310101", "20991231", "123"): "id_number_birth_date",
		makeID("310101", "18991231", "123"): "id_number_birth_date",
		wrongCheck:                          "id_number_checksum",
	}
	for in, code := range cases {
		_, fe := ResidentID("id_number", in, today)
		if fe == nil || fe.Code != code {
			t.Errorf("%q: want %s, got %+v", in, code, fe)
		}
		if fe != nil && (fe.Field != "id_number" || fe.MessageZH == "" || fe.MessageEN == "") {
			t.Errorf("%q: incomplete field error %+v", in, fe)
		}
	}
}

func indexOf(c byte) int {
	for i := range 11 {
		if "0123456789X"[i] == c {
			return i
		}
	}
	return -1
}

func TestMobileAcceptsMainlandNumbersOnly_C3_2(t *testing.T) {
	for _, ok := range []string{"13800138000", "19912345678", " 15000000000 "} {
		if fe := Mobile("mobile", ok); fe != nil {
			t.Errorf("%q refused: %+v", ok, fe)
		}
	}
	for _, bad := range []string{"", "12800138000", "1380013800", "138001380000", "1380013800a", "+8613800138000"} {
		if fe := Mobile("mobile", bad); fe == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEmailIsOptionalButMustBeWellFormed(t *testing.T) {
	if Email("email", "") != nil || Email("email", "a.b@example.cn") != nil {
		t.Fatal("valid e-mail refused")
	}
	for _, bad := range []string{"a", "a@b", "Name <a@b.cn>", "a@@b.cn"} {
		if Email("email", bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPersonNameAllowsChineseAndTransliteratedNames(t *testing.T) {
	for _, ok := range []string{"张三", "阿卜杜·热合曼", "Anna-Maria Li"} {
		if fe := PersonName("name", ok); fe != nil {
			t.Errorf("%q refused: %+v", ok, fe)
		}
	}
	for _, bad := range []string{"", "张", "张三1", "a\x00b", "<script>"} {
		if PersonName("name", bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAgeOnCountsFullYears(t *testing.T) {
	b := time.Date(2008, 11, 27, 0, 0, 0, 0, time.UTC)
	if AgeOn(b, today) != 17 {
		t.Fatal("birthday tomorrow must not count yet")
	}
	if AgeOn(b, today.AddDate(0, 0, 1)) != 18 {
		t.Fatal("birthday today counts")
	}
}

// Fuzz: no input may panic, and anything accepted must really be valid.
func FuzzResidentID(f *testing.F) {
	f.Add(makeID("310101", "19900307", "123"))
	f.Add("11010519491231002X")
	f.Add("")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		birth, fe := ResidentID("id_number", s, today)
		if fe == nil {
			n := NormalizeIDNumber(s)
			if len(n) != 18 || IDCheckChar(n[:17]) != n[17] || birth.After(today) {
				t.Fatalf("accepted invalid %q", s)
			}
		}
	})
}

func FuzzMobile(f *testing.F) {
	f.Add("13800138000")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if Mobile("mobile", s) == nil {
			n := len([]rune(s))
			if n < 11 {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}
