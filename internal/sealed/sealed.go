// Package sealed encrypts short secrets at rest with AES-256-GCM, for the
// initial passwords waiting for their single pickup. The key comes from the
// PICKUP_KEY setting, shared by the worker (which seals) and the API (which
// opens).
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Box seals and opens with one key. The associated data binds a ciphertext
// to its row, so a ciphertext copied to another row does not open.
type Box struct {
	aead cipher.AEAD
	// macKey keys MAC and Derive; it is derived from the box key, so every
	// replica that can open a sealed copy computes the same values, and it
	// is never used to encrypt.
	macKey []byte
}

// NewBox takes the key as standard base64 of 32 bytes.
func NewBox(keyB64 string) (*Box, error) {
	key, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil || len(key) != 32 {
		return nil, errors.New("sealed: the key must be base64 of 32 bytes (e.g. `head -c32 /dev/urandom | base64`)")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mk := sha256.Sum256(append([]byte("hrss-mac-v1\x00"), key...))
	return &Box{aead: aead, macKey: mk[:]}, nil
}

// Derive answers a secret that only the holder of the key can compute from
// label and data, the same every time: what a repeated request must get
// back without the server keeping the first answer in clear (for example
// the follow token of a registration repeated with its Idempotency-Key).
func (b *Box) Derive(label string, data []byte) []byte {
	m := hmac.New(sha256.New, b.macKey)
	m.Write([]byte("derive\x00" + label + "\x00"))
	m.Write(data)
	return m.Sum(nil)
}

// MAC is an HMAC-SHA256 of data under a key derived from the box key: for
// short secrets (one-time codes) that must be compared, never read back,
// and whose plain hash could be reversed by trying every value.
func (b *Box) MAC(data []byte) []byte {
	m := hmac.New(sha256.New, b.macKey)
	m.Write(data)
	return m.Sum(nil)
}

// Seal encrypts plain; the nonce is prepended.
func (b *Box) Seal(plain, associated []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, plain, associated), nil
}

// Open decrypts what Seal produced with the same associated data.
func (b *Box) Open(sealed, associated []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("sealed: ciphertext too short")
	}
	return b.aead.Open(nil, sealed[:n], sealed[n:], associated)
}
