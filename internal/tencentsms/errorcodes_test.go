package tencentsms_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/tencentsms"
)

// The provider's error codes mapped to retry or give up (issue 18, C1.5),
// each answered by a local server that checks the signature first, both
// as a request error and as a per-number send status: throttling,
// internal errors and transient limits are retried; credentials,
// templates, signatures, numbers, blacklists and daily caps are final.
func TestTencentSMSErrorCodeMapping_C1_5(t *testing.T) {
	codes := map[string]bool{ // code: retried
		"InternalError.Timeout":                              true,
		"InternalError.RequestTimeException":                 true,
		"RequestLimitExceeded":                               true,
		"LimitExceeded.PhoneNumberThirtySecondLimit":         true,
		"LimitExceeded.PhoneNumberOneHourLimit":              true,
		"FailedOperation.FailResolvePacket":                  true,
		"ResourceUnavailable":                                true,
		"AuthFailure.SecretIdNotFound":                       false,
		"UnauthorizedOperation.SmsSdkAppIdVerifyFail":        false,
		"FailedOperation.TemplateIncorrectOrUnapproved":      false,
		"FailedOperation.SignatureIncorrectOrUnapproved":     false,
		"InvalidParameterValue.IncorrectPhoneNumber":         false,
		"FailedOperation.PhoneNumberInBlacklist":             false,
		"LimitExceeded.DailyLimit":                           false,
		"LimitExceeded.PhoneNumberDailyLimit":                false,
		"InvalidParameterValue.TemplateParameterFormatError": false,
	}
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verify(r, body); err != nil {
			t.Errorf("signature: %v", err)
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	c, err := tencentsms.New(tencentsms.Config{SecretID: secretID, SecretKey: secretKey, Endpoint: srv.URL, SDKAppID: "1400000000",
		SignName: "上海人社", Templates: map[string]string{"verification_code": "100001"}})
	require.NoError(t, err)
	for code, retried := range codes {
		for form, body := range map[string]string{
			"request error": `{"Response":{"Error":{"Code":"` + code + `","Message":"m"},"RequestId":"r"}}`,
			"send status":   `{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+8613900000001","Code":"` + code + `","Message":"m"}],"RequestId":"r"}}`,
		} {
			answer = body
			_, err := c.Send(context.Background(), "13900000001", "verification_code", []string{"123456", "10"})
			require.Error(t, err, "%s (%s)", code, form)
			require.Contains(t, err.Error(), code)
			require.Equal(t, !retried, errors.As(err, new(tencentsms.Permanent)), "%s (%s): final=%v", code, form, !retried)
		}
	}
}
