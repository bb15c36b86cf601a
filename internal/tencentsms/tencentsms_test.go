package tencentsms_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/tencentsms"
)

const (
	secretID  = "AKIDtest0000000000000000"
	secretKey = "test-secret-key-000000000000"
)

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hexsum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// verify checks the request as the provider does, from what arrived: the
// signed headers' values, the body's hash, the timestamp's date and scope,
// and the key derived from the secret key.
func verify(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	const algo = "TC3-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return errors.New("algorithm")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo), ", ") {
		k, v, _ := strings.Cut(part, "=")
		fields[k] = v
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return errors.New("timestamp")
	}
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	scope := date + "/sms/tc3_request"
	if fields["Credential"] != secretID+"/"+scope {
		return errors.New("credential")
	}
	var canonHeaders strings.Builder
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		if h == "x-tc-action" {
			v = strings.ToLower(v)
		}
		canonHeaders.WriteString(h + ":" + v + "\n")
	}
	canonical := "POST\n/\n\n" + canonHeaders.String() + "\n" + fields["SignedHeaders"] + "\n" + hexsum(body)
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + hexsum([]byte(canonical))
	key := mac(mac(mac([]byte("TC3"+secretKey), date), "sms"), "tc3_request")
	if !hmac.Equal([]byte(fields["Signature"]), []byte(hex.EncodeToString(mac(key, toSign)))) {
		return errors.New("signature")
	}
	return nil
}

// The Tencent Cloud SMS adapter against a local server that checks the
// TC3-HMAC-SHA256 signature and answers like the provider: accepted,
// throttled (retry), a bad number or bad credentials (give up), and a
// server error (retry). Issue 18, C1.5.
func TestTencentSMSSignatureAndErrors_C1_5(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" {
			http.Error(w, "bad action", http.StatusBadRequest)
			return
		}
		if err := verify(r, body); err != nil {
			_, _ = w.Write([]byte(`{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"` + err.Error() + `"},"RequestId":"r"}}`))
			return
		}
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		got = append(got, req)
		phone := req["PhoneNumberSet"].([]any)[0].(string)
		switch phone {
		case "+8613900000001":
			_, _ = w.Write([]byte(`{"Response":{"SendStatusSet":[{"SerialNo":"2028:ok-1","PhoneNumber":"+8613900000001","Code":"Ok","Message":"send success"}],"RequestId":"r1"}}`))
		case "+8613900000002":
			_, _ = w.Write([]byte(`{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"too many"},"RequestId":"r2"}}`))
		case "+8613900000003":
			_, _ = w.Write([]byte(`{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+8613900000003","Code":"InvalidParameterValue.IncorrectPhoneNumber","Message":"bad number"}],"RequestId":"r3"}}`))
		default:
			http.Error(w, "down", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	cfg := tencentsms.Config{SecretID: secretID, SecretKey: secretKey, Endpoint: srv.URL, SDKAppID: "1400000000", SignName: "上海人社",
		Templates: map[string]string{"verification_code": "100001"}}
	c, err := tencentsms.New(cfg)
	require.NoError(t, err)
	ctx := context.Background()

	res, err := c.Send(ctx, "13900000001", "verification_code", []string{"123456", "10"})
	require.NoError(t, err)
	require.Equal(t, "2028:ok-1", res.SerialNo, "the provider's ID is kept")
	require.Equal(t, "100001", got[0]["TemplateId"])
	require.Equal(t, []any{"123456", "10"}, got[0]["TemplateParamSet"])
	require.Equal(t, "上海人社", got[0]["SignName"])

	var perm tencentsms.Permanent
	_, err = c.Send(ctx, "13900000002", "verification_code", []string{"1", "10"})
	require.Error(t, err)
	require.False(t, errors.As(err, &perm), "throttling is retried: %v", err)
	_, err = c.Send(ctx, "13900000003", "verification_code", []string{"1", "10"})
	require.True(t, errors.As(err, &perm), "a bad number is given up: %v", err)
	_, err = c.Send(ctx, "13900000004", "verification_code", []string{"1", "10"})
	require.Error(t, err)
	require.False(t, errors.As(err, &perm), "a provider outage is retried: %v", err)
	_, err = c.Send(ctx, "13900000001", "no_such_kind", nil)
	require.True(t, errors.As(err, &perm), "an unknown template is given up")

	// A wrong secret key: the provider's signature check refuses, final.
	cfg.SecretKey = "wrong"
	bad, err := tencentsms.New(cfg)
	require.NoError(t, err)
	_, err = bad.Send(ctx, "13900000001", "verification_code", []string{"1", "10"})
	require.True(t, errors.As(err, &perm), "%v", err)
	require.Contains(t, err.Error(), "AuthFailure.SignatureFailure")
}
