package synthetic

import (
	"testing"
	"time"

	"hrss-backoffice/internal/validate"
)

func TestNewPersonIsValid(t *testing.T) {
	for range 500 {
		p := NewPerson()
		birth, fe := validate.ResidentID("id_number", p.IDNumber, time.Now())
		if fe != nil {
			t.Fatalf("%+v", fe)
		}
		if age := validate.AgeOn(birth, time.Now()); age < 16 || age >= 50 {
			t.Fatalf("age %d outside 16..49: tests expect pension_claim (50+) to be refused", age)
		}
		if validate.Mobile("mobile", p.Mobile) != nil || validate.PersonName("name", p.Name) != nil {
			t.Fatalf("invalid %+v", p)
		}
	}
}
