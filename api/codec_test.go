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
// administrator or auditor session, or CODEC_TOKEN) decode them through the
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
	for _, h := range []testenv.Header{testenv.Bearer(s.CodecToken), testenv.Bearer(auditor), testenv.Bearer(s.Admin())} {
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
	enc := s.Expect(s.Do("POST", "/codec/encode", plain, testenv.Bearer(s.CodecToken)), http.StatusOK)
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
