package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/passwords"
)

// C3.4(8), issue 21: a hash no password matches (an initial password not
// yet picked up, a deregistered account) is checked against the dummy
// hash like a missing one, so the answer takes as long as a wrong
// password's and does not tell which accounts wait for their pickup.
func TestVerifySpendsTheDummyOnHashesNothingMatches_C3_4_8(t *testing.T) {
	cheap := passwords.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	dummy, err := passwords.Hash("dummy", cheap)
	require.NoError(t, err)
	real, err := passwords.Hash("Right-Password-1", cheap)
	require.NoError(t, err)
	a := &passwordAttempt{s: &server{dummyHash: dummy}}
	for _, stored := range []string{"", passwords.AwaitingPickup, "!deregistered"} {
		before := dummyVerifies.Load()
		require.False(t, a.verify("Right-Password-1", stored), "stored %q", stored)
		require.Equal(t, before+1, dummyVerifies.Load(), "stored %q: the dummy was checked", stored)
	}
	before := dummyVerifies.Load()
	require.True(t, a.verify("Right-Password-1", real))
	require.False(t, a.verify("Wrong-Password-1", real))
	require.Equal(t, before, dummyVerifies.Load(), "a real hash is checked itself")
}
