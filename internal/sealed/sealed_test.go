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
