package passwords

import (
	_ "embed"
	"strings"
	"unicode"
)

//go:embed common-passwords.txt
var commonList string

// common holds the shipped list of common passwords, lower case.
var common = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonList, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// IsCommon reports whether pw is on the shipped list of common passwords,
// ignoring case and any digits or symbols added at either end
// ("Password2026!" is "password").
func IsCommon(pw string) bool {
	lower := strings.ToLower(strings.TrimSpace(pw))
	if common[lower] {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	return core != "" && common[core]
}

// CommonCount is the size of the list, for tests.
func CommonCount() int { return len(common) }
