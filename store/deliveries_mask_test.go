package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/store"
)

// Delivery reasons shown to staff carry no address (issue 18, C4), and
// masking an address masks only the address: a one-letter local part does
// not garble the rest of the reason.
func TestMaskAddressMasksWholeAddressesOnly_C4(t *testing.T) {
	for _, c := range []struct{ reason, address, want string }{
		{"550 5.1.1 <a@x.cn>: mailbox unavailable", "a@x.cn", "550 5.1.1 <***>: mailbox unavailable"},
		{"452 mailbox of a@x.cn is full, try again later", "b@y.cn", "452 mailbox of ***@x.cn is full, try again later"},
		{"recipient 13800138000@sms.invalid refused", "13800138000", "recipient ***@sms.invalid refused"},
		{"number +86 13800138000 is on the blacklist", "13800138000", "number +86 *** is on the blacklist"},
		{"421 4.3.2 service not available", "a@x.cn", "421 4.3.2 service not available"},
		{"", "a@x.cn", ""},
	} {
		require.Equal(t, c.want, store.MaskAddress(c.reason, c.address), c.reason)
	}
}
