// Package synthetic makes valid, random registration data for tests, the
// load generator and the benchmarks. Nobody real is described.
package synthetic

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"hrss-backoffice/internal/validate"
)

// Person is valid registration data.
type Person struct {
	Name, IDNumber, Mobile, Address string
}

var seq atomic.Int64

func randN(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}

var districts = []string{"310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113", "310115"}

// NewPerson makes a person born between 1980 and 1999: at least 16 and
// under 50 until 2029, so old enough for most services and always too
// young for pension_claim (tests rely on that). District, birth date and
// sequence are random so that collisions are rare across runs.
func NewPerson() Person {
	n := seq.Add(1)
	day := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(randN(7300)))
	first17 := fmt.Sprintf("%s%s%03d", districts[randN(int64(len(districts)))], day.Format("20060102"), randN(1000))
	names := []string{"王秀英", "李建国", "张丽华", "刘志强", "陈静怡", "杨光明"}
	return Person{
		Name:     names[n%int64(len(names))] + string(rune('甲'+n%10)),
		IDNumber: first17 + string(validate.IDCheckChar(first17)),
		Mobile:   fmt.Sprintf("139%08d", randN(100000000)),
		Address:  fmt.Sprintf("上海市黄浦区人民大道%d号", 100+n%900),
	}
}

// Registration is the body of POST /v1/registrations for p. It claims no
// channel: the channel follows from who submits it (anonymous: online).
func (p Person) Registration(services ...string) map[string]any {
	if services == nil {
		services = []string{}
	}
	return map[string]any{"name": p.Name, "id_number": p.IDNumber, "mobile": p.Mobile, "address": p.Address,
		"services": services, "terms_version": "2026-01", "agreed": true}
}
