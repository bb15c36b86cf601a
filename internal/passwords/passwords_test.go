package passwords

import (
	"strings"
	"testing"
)

var fast = Params{MemoryKiB: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// C3.3(1): passwords are kept only as a slow salted hash.
func TestHashVerifiesOnlyTheRightPassword_C3_3_1(t *testing.T) {
	h, err := Hash("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("unexpected encoding %q", h)
	}
	h2, _ := Hash("correct horse battery", fast)
	if h == h2 {
		t.Fatal("two hashes of one password must differ by salt")
	}
	if ok, err := Verify("correct horse battery", h); !ok || err != nil {
		t.Fatalf("right password refused: %v %v", ok, err)
	}
	if ok, _ := Verify("correct horse batterY", h); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := Verify("x", "$bcrypt$x"); err != ErrMalformedHash {
		t.Fatalf("malformed hash: %v", err)
	}
}

func TestOWASPParametersAreTheDefault(t *testing.T) {
	if OWASP.MemoryKiB < 19*1024 || OWASP.Time < 2 {
		t.Fatalf("parameters below OWASP minimum: %+v", OWASP)
	}
}

// C2.1: the initial password is random, long enough and unambiguous.
func TestGenerateInitialIsLongRandomAndUnambiguous_C2_1(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := GenerateInitial()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) < 12 || strings.ContainsAny(p, "0Oo1lI2Z5S") {
			t.Fatalf("bad initial password shape %q", p)
		}
		if seen[p] {
			t.Fatal("repeated initial password")
		}
		seen[p] = true
	}
}
