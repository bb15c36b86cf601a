// Package tencentsms sends SMS through Tencent Cloud SMS (API 2021-01-11,
// action SendSms), signing each request with TC3-HMAC-SHA256 as the
// provider checks it. A message is a template ID with parameters (the
// provider fills its approved template); the provider's error codes are
// mapped to "retry later" or "give up" (Permanent).
package tencentsms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config names the account, the application and the signature.
type Config struct {
	SecretID, SecretKey string
	// Endpoint is https://sms.tencentcloudapi.com unless a test says
	// otherwise; Region defaults to ap-guangzhou.
	Endpoint string
	Region   string
	// SDKAppID and SignName identify the SMS application and signature.
	SDKAppID string
	SignName string
	// Templates maps a notice kind (verification_code, …) to its
	// approved template ID.
	Templates map[string]string
	Client    *http.Client
	Now       func() time.Time
}

// Client sends SMS.
type Client struct{ cfg Config }

// New checks the configuration.
func New(cfg Config) (*Client, error) {
	if cfg.SecretID == "" || cfg.SecretKey == "" || cfg.SDKAppID == "" || cfg.SignName == "" {
		return nil, errors.New("tencentsms: secret ID, secret key, SDK app ID and sign name are required")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "https://sms.tencentcloudapi.com"
	}
	if cfg.Region == "" {
		cfg.Region = "ap-guangzhou"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}, nil
}

// Permanent marks an error that sending again will not mend.
type Permanent struct{ Err error }

func (p Permanent) Error() string { return p.Err.Error() }
func (p Permanent) Unwrap() error { return p.Err }

// Result is one accepted message: the provider's serial number.
type Result struct{ SerialNo string }

const (
	service = "sms"
	version = "2021-01-11"
	action  = "SendSms"
)

// Send sends one templated SMS to a mainland number (11 digits) or an
// E.164 number. The error is Permanent when the provider says retrying
// cannot help.
func (c *Client) Send(ctx context.Context, mobile, kind string, params []string) (Result, error) {
	tpl, ok := c.cfg.Templates[kind]
	if !ok {
		return Result{}, Permanent{fmt.Errorf("tencentsms: no template for %q", kind)}
	}
	phone := mobile
	if !strings.HasPrefix(phone, "+") {
		phone = "+86" + phone
	}
	body, err := json.Marshal(map[string]any{"PhoneNumberSet": []string{phone}, "SmsSdkAppId": c.cfg.SDKAppID,
		"SignName": c.cfg.SignName, "TemplateId": tpl, "TemplateParamSet": params})
	if err != nil {
		return Result{}, err
	}
	u, err := url.Parse(c.cfg.Endpoint)
	if err != nil {
		return Result{}, Permanent{err}
	}
	now := c.cfg.Now().UTC()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("Host", u.Host)
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", version)
	req.Header.Set("X-TC-Region", c.cfg.Region)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("Authorization", Authorization(c.cfg.SecretID, c.cfg.SecretKey, u.Host, action, body, now))
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("tencentsms: %w", err) // network: retry
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 500 {
		return Result{}, fmt.Errorf("tencentsms: HTTP %d", resp.StatusCode)
	}
	var out struct {
		Response struct {
			Error *struct {
				Code    string `json:"Code"`
				Message string `json:"Message"`
			} `json:"Error"`
			SendStatusSet []struct {
				SerialNo string `json:"SerialNo"`
				Code     string `json:"Code"`
				Message  string `json:"Message"`
			} `json:"SendStatusSet"`
		} `json:"Response"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return Result{}, fmt.Errorf("tencentsms: unreadable answer (HTTP %d)", resp.StatusCode)
	}
	if e := out.Response.Error; e != nil {
		return Result{}, classify(e.Code, e.Message)
	}
	if len(out.Response.SendStatusSet) != 1 {
		return Result{}, errors.New("tencentsms: no send status in the answer")
	}
	st := out.Response.SendStatusSet[0]
	if st.Code != "Ok" {
		return Result{}, classify(st.Code, st.Message)
	}
	return Result{SerialNo: st.SerialNo}, nil
}

// classify maps a provider error code to retry (plain error) or give up
// (Permanent): throttling, internal and timing errors are worth another
// try; credentials, parameters, templates, signatures, blocked or invalid
// numbers and daily caps are not.
func classify(code, msg string) error {
	err := fmt.Errorf("tencentsms: %s: %s", code, msg)
	switch {
	case strings.HasPrefix(code, "InternalError"), strings.HasPrefix(code, "RequestLimitExceeded"),
		code == "LimitExceeded.PhoneNumberThirtySecondLimit", code == "LimitExceeded.PhoneNumberOneHourLimit",
		code == "FailedOperation.FailResolvePacket", code == "ResourceUnavailable":
		return err
	default:
		return Permanent{err}
	}
}

// ContentType is what the request body is declared as (and signed with).
const ContentType = "application/json; charset=utf-8"

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Authorization is the TC3-HMAC-SHA256 Authorization header of a POST of
// body to host with the given action at time t (exported so that a test
// server can check what the provider checks).
func Authorization(secretID, secretKey, host, action string, body []byte, t time.Time) string {
	t = t.UTC()
	date := t.Format("2006-01-02")
	signedHeaders := "content-type;host;x-tc-action"
	canonical := strings.Join([]string{http.MethodPost, "/", "",
		"content-type:" + ContentType + "\nhost:" + host + "\nx-tc-action:" + strings.ToLower(action) + "\n",
		signedHeaders, sha256hex(body)}, "\n")
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(t.Unix(), 10) + "\n" + scope + "\n" + sha256hex([]byte(canonical))
	key := hmacSHA256(hmacSHA256(hmacSHA256([]byte("TC3"+secretKey), date), service), "tc3_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	return "TC3-HMAC-SHA256 Credential=" + secretID + "/" + scope + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig
}
