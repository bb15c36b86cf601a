package synthetic

import (
	"testing"
	"time"

	"hrss-backoffice/internal/validate"
)

func TestNewPersonIsValid(t *testing.T) {
	for range 500 {
		p := NewPerson()
		if _, fe := validate.ResidentID("id_number", p.IDNumber, time.Now()); fe != nil {
			t.Fatalf("%+v", fe)
		}
		if validate.Mobile("mobile", p.Mobile) != nil || validate.PersonName("name", p.Name) != nil {
			t.Fatalf("invalid %+v", p)
		}
	}
}
