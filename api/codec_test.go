package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Workflow payloads are stored encrypted in Temporal; operators (an
// operator, administrator or auditor session, or CODEC_TOKEN) decode them through the
// web UI's remote codec protocol; everyone else is refused.
func TestPayloadsAreEncryptedAndOnlyOperatorsDecode(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	id, _ := s.Register(testenv.NewPerson())
	s.WaitForStatus(id, "pending")

	// The start event's input, as Temporal stores it: encrypted.
	it := s.Temporal.GetWorkflowHistory(testenv.Context(t), workflows.RegistrationWorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	require.NoError(t, err)
	input := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	require.NotEmpty(t, input)
	require.Equal(t, payloadcodec.Encoding, string(input[0].Metadata["encoding"]))
	require.NotContains(t, string(input[0].Data), id, "the application ID is not readable without the key")

	body := map[string]any{"payloads": []map[string]any{{
		"metadata": map[string]string{"encoding": base64.StdEncoding.EncodeToString(input[0].Metadata["encoding"]),
			"encryption-key-id": base64.StdEncoding.EncodeToString(input[0].Metadata["encryption-key-id"])},
		"data": base64.StdEncoding.EncodeToString(input[0].Data)}}}
	decodedBy := func(h ...testenv.Header) testenv.Response { return s.Do("POST", "/codec/decode", body, h...) }

	auditor, _ := s.Staff(workflows.RoleAuditor)
	operator, _ := s.Staff(workflows.RoleOperator)
	for _, h := range []testenv.Header{testenv.Bearer(s.CodecToken), testenv.Bearer(auditor), testenv.Bearer(s.Admin()), testenv.Bearer(operator)} {
		r := s.Expect(decodedBy(h), http.StatusOK)
		data := r.Body["payloads"].([]any)[0].(map[string]any)["data"].(string)
		plain, err := base64.StdEncoding.DecodeString(data)
		require.NoError(t, err)
		require.Contains(t, string(plain), id)
	}
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	require.Equal(t, http.StatusUnauthorized, decodedBy().Status)
	require.Equal(t, http.StatusUnauthorized, decodedBy(testenv.Bearer("codec-wrong")).Status)
	require.Equal(t, http.StatusForbidden, decodedBy(testenv.Bearer(reviewer)).Status)
	// The CODEC_TOKEN opens the codec only.
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/staff", nil, testenv.Bearer(s.CodecToken)).Status)

	// Encode then decode gives the payload back; plain payloads pass.
	plain := map[string]any{"payloads": []map[string]any{{"metadata": map[string]string{"encoding": base64.StdEncoding.EncodeToString([]byte("json/plain"))},
		"data": base64.StdEncoding.EncodeToString([]byte(`"hello"`))}}}
	enc := s.Expect(s.Do("POST", "/codec/encode", plain, testenv.Bearer(s.Admin())), http.StatusOK)
	require.NotContains(t, string(enc.Raw), base64.StdEncoding.EncodeToString([]byte(`"hello"`)))
	dec := s.Expect(s.Do("POST", "/codec/decode", enc.Body, testenv.Bearer(s.CodecToken)), http.StatusOK)
	require.Contains(t, string(dec.Raw), base64.StdEncoding.EncodeToString([]byte(`"hello"`)))
	same := s.Expect(s.Do("POST", "/codec/decode", plain, testenv.Bearer(s.CodecToken)), http.StatusOK)
	require.Contains(t, string(same.Raw), base64.StdEncoding.EncodeToString([]byte(`"hello"`)))
	// A payload under an unknown key: a defined 422, no 500.
	forged := map[string]any{"payloads": []map[string]any{{"metadata": map[string]string{
		"encoding": base64.StdEncoding.EncodeToString([]byte(payloadcodec.Encoding)), "encryption-key-id": base64.StdEncoding.EncodeToString([]byte("nokey"))},
		"data": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 40)))}}}
	r := s.Do("POST", "/codec/decode", forged, testenv.Bearer(s.CodecToken))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Raw))
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("POST", "/codec/decode", []byte(`{"payloads":"x"}`), testenv.Bearer(s.CodecToken)).Status)
}

// Issue 17 and issue 13 item 14 (C1.4): the web UI decodes with the
// console's session cookie, sent with CORS credentials from the UI's origin
// only (exact match; preflight answered); another origin, or no Origin, is
// anonymous. Encoding is for administrators only (not auditors, operators
// or the CODEC_TOKEN). Every call is audited with the caller and the
// namespace, never the payloads.
func TestCodecDecodesForOperatorsConsoleSessionFromUIOriginOnly_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{UIURL: "http://localhost:8233/"})
	secret := `"secret-payload-text"`
	plain := map[string]any{"payloads": []map[string]any{{"metadata": map[string]string{"encoding": base64.StdEncoding.EncodeToString([]byte("json/plain"))},
		"data": base64.StdEncoding.EncodeToString([]byte(secret))}}}
	enc := s.Expect(s.Do("POST", "/codec/encode", plain, testenv.Bearer(s.Admin())), http.StatusOK)

	operator, operatorID := s.Staff(workflows.RoleOperator)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	uiOrigin := testenv.Header{Name: "Origin", Value: "http://localhost:8233"}
	cookie := func(token string) testenv.Header {
		return testenv.Header{Name: "Cookie", Value: "hrss_session=" + token}
	}
	ns := testenv.Header{Name: "X-Namespace", Value: "default"}

	// The operator's console session from the UI's origin decodes, with
	// the CORS answer that lets the UI read it.
	r := s.Expect(s.Do("POST", "/codec/decode", enc.Body, cookie(operator), uiOrigin, ns), http.StatusOK)
	require.Contains(t, string(r.Raw), base64.StdEncoding.EncodeToString([]byte(secret)))
	require.Equal(t, "http://localhost:8233", r.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", r.Header.Get("Access-Control-Allow-Credentials"))
	// The preflight of the UI's origin is answered; another origin's is not allowed.
	pre := s.Do("OPTIONS", "/codec/decode", nil, uiOrigin, testenv.Header{Name: "Access-Control-Request-Method", Value: "POST"},
		testenv.Header{Name: "Access-Control-Request-Headers", Value: "content-type,x-namespace"})
	require.Equal(t, http.StatusNoContent, pre.Status)
	require.Equal(t, "http://localhost:8233", pre.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", pre.Header.Get("Access-Control-Allow-Credentials"))
	for _, o := range []string{"http://evil.example", "http://localhost:8233.evil.example", "http://localhost:82330", "null"} {
		pre := s.Do("OPTIONS", "/codec/decode", nil, testenv.Header{Name: "Origin", Value: o},
			testenv.Header{Name: "Access-Control-Request-Method", Value: "POST"})
		require.Empty(t, pre.Header.Get("Access-Control-Allow-Origin"), o)
		// The cookie from another origin (or with no Origin) is not a session.
		r := s.Do("POST", "/codec/decode", enc.Body, cookie(operator), testenv.Header{Name: "Origin", Value: o})
		require.Equal(t, http.StatusUnauthorized, r.Status, o)
		require.NotContains(t, string(r.Raw), base64.StdEncoding.EncodeToString([]byte(secret)))
	}
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/codec/decode", enc.Body, cookie(operator)).Status)
	// The cookie opens /codec only, and only for the roles that decode.
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, cookie(operator), uiOrigin).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/codec/decode", enc.Body, cookie(reviewer), uiOrigin).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/codec/decode", enc.Body, cookie("not-a-session"), uiOrigin).Status)

	// Encoding: administrators only.
	for _, h := range []testenv.Header{testenv.Bearer(s.CodecToken), testenv.Bearer(operator), cookie(operator)} {
		require.Equal(t, http.StatusForbidden, s.Do("POST", "/codec/encode", plain, h, uiOrigin).Status)
	}
	auditor, _ := s.Staff(workflows.RoleAuditor)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/codec/encode", plain, testenv.Bearer(auditor)).Status)

	// Audited: who, which namespace, how, never the payloads.
	var rows []struct {
		Kind   string `db:"actor_kind"`
		ID     string `db:"actor_id"`
		Action string `db:"action"`
		NS     string `db:"record_id"`
		Detail string `db:"detail"`
	}
	require.NoError(t, s.DB.Select(&rows, `SELECT actor_kind, actor_id, action, record_id, detail::text AS detail FROM audit_log
		WHERE action LIKE 'codec.%' ORDER BY id`))
	require.Len(t, rows, 2, "the administrator's encode and the operator's decode")
	require.Equal(t, "codec.encoded", rows[0].Action)
	require.Equal(t, []string{"staff", operatorID, "codec.decoded", "default"}, []string{rows[1].Kind, rows[1].ID, rows[1].Action, rows[1].NS})
	require.Contains(t, rows[1].Detail, `"via": "console_session"`)
	require.Contains(t, rows[1].Detail, `"payloads": 1`)
	var all string
	require.NoError(t, s.DB.Get(&all, `SELECT coalesce(string_agg(detail::text || record_id, ' '), '') FROM audit_log`))
	require.NotContains(t, all, "secret-payload-text")
	require.NotContains(t, all, base64.StdEncoding.EncodeToString([]byte(secret)))

	// The token's decodes are recorded as a system actor.
	s.Expect(s.Do("POST", "/codec/decode", enc.Body, testenv.Bearer(s.CodecToken), testenv.Header{Name: "X-Namespace", Value: "bad ns!"}), http.StatusOK)
	var kind, id, rec string
	require.NoError(t, s.DB.QueryRow(`SELECT actor_kind, actor_id, record_id FROM audit_log WHERE action = 'codec.decoded' ORDER BY id DESC LIMIT 1`).Scan(&kind, &id, &rec))
	require.Equal(t, []string{"system", "codec_token", "invalid"}, []string{kind, id, rec})
}
