package sealed

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestSealOpensOnlyWithSameKeyAndAssociatedData(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	b, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := b.Seal([]byte("secret"), []byte("row-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("secret")) {
		t.Fatal("plain text visible in ciphertext")
	}
	if got, err := b.Open(ct, []byte("row-1")); err != nil || string(got) != "secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(ct, []byte("row-2")); err == nil {
		t.Fatal("opened with other associated data")
	}
	other, _ := NewBox(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32)))
	if _, err := other.Open(ct, []byte("row-1")); err == nil {
		t.Fatal("opened with other key")
	}
	if _, err := NewBox("short"); err == nil {
		t.Fatal("bad key accepted")
	}
}

// Derive is stable for one key, and differs by key, label and data.
func TestDeriveIsStablePerKeyLabelAndData(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	a, _ := NewBox(k1)
	a2, _ := NewBox(k1)
	b, _ := NewBox(k2)
	x := a.Derive("follow-token", []byte("id-1"))
	if !bytes.Equal(x, a2.Derive("follow-token", []byte("id-1"))) {
		t.Fatal("the same key, label and data must derive the same secret")
	}
	for _, other := range [][]byte{b.Derive("follow-token", []byte("id-1")), a.Derive("other", []byte("id-1")),
		a.Derive("follow-token", []byte("id-2"))} {
		if bytes.Equal(x, other) {
			t.Fatal("another key, label or data must derive another secret")
		}
	}
}
