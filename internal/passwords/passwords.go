// Package passwords hashes and checks passwords with argon2id (C3.3(1)) and
// generates initial passwords (C2.1). Plain passwords and hashes stay in the
// API and activities: they never enter a workflow payload or a log.
package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	SaltLen   int
	KeyLen    uint32
}

// OWASP's recommended minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
var OWASP = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hash returns the PHC-style encoding $argon2id$v=19$m=..,t=..,p=..$salt$key.
func Hash(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// AwaitingPickup is the stored hash of an account whose initial password
// has not been picked up yet: no password matches it (Verify reports it
// malformed), and the pickup replaces it with the password's hash.
const AwaitingPickup = "!awaiting-pickup"

// Usable tells whether a stored hash is one a password can match (an
// argon2id hash this package wrote), as opposed to AwaitingPickup, the
// marker of a deregistered account or no hash at all.
func Usable(encoded string) bool { return strings.HasPrefix(encoded, "$argon2id$") }

// ErrMalformedHash means the stored hash is not one this package wrote.
var ErrMalformedHash = errors.New("passwords: malformed hash")

// Verify reports whether password matches the encoded hash, in constant
// time with respect to the key comparison.
func Verify(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformedHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformedHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrMalformedHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when a username has no account, so that a
// failed sign-in costs the same time whether or not the account exists.
var dummyHash = func() string {
	h, err := Hash("no account has this password", OWASP)
	if err != nil {
		panic(err)
	}
	return h
}()

// BurnVerify spends the time of one Verify and always fails.
func BurnVerify(password string) {
	_, _ = Verify(password, dummyHash)
}

// initialAlphabet leaves out characters that are easy to misread on a
// printed slip: 0/O/o, 1/l/I, and 2/Z, 5/S.
const initialAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789"

// InitialLength is the length of a generated initial password.
const InitialLength = 14

// GenerateInitial returns a random initial password from crypto/rand with
// at least one lower-case letter, one upper-case letter and one digit.
func GenerateInitial() (string, error) {
	max := big.NewInt(int64(len(initialAlphabet)))
	for {
		b := make([]byte, InitialLength)
		for i := range b {
			n, err := rand.Int(rand.Reader, max)
			if err != nil {
				return "", err
			}
			b[i] = initialAlphabet[n.Int64()]
		}
		s := string(b)
		if strings.ContainsAny(s, "abcdefghijkmnpqrstuvwxyz") &&
			strings.ContainsAny(s, "ABCDEFGHJKLMNPQRTUVWXY") &&
			strings.ContainsAny(s, "346789") {
			return s, nil
		}
	}
}
