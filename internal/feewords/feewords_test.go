package feewords

import "testing"

func TestFindsFeeWordsNotLookalikes_C2_4(t *testing.T) {
	for _, s := range []string{"service_fee", "paymentMethod", "price", "缴费方式", "请支付", "total-amount"} {
		if len(In(s)) == 0 {
			t.Errorf("%q: fee word missed", s)
		}
	}
	for _, s := range []string{"payload", "payloads", "coffee", "免费"} {
		if w := In(s); len(w) > 0 {
			t.Errorf("%q is not a fee word (%v)", s, w)
		}
	}
}
