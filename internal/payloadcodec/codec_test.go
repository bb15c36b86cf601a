package payloadcodec_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"hrss-backoffice/internal/payloadcodec"
)

func payload(t *testing.T, v any) *commonpb.Payload {
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestEncryptsWithNewestDecryptsAnyKnownKey(t *testing.T) {
	old := payloadcodec.NewKey("k1")
	newer := payloadcodec.NewKey("k2")
	before, err := payloadcodec.Parse(old)
	require.NoError(t, err)
	after, err := payloadcodec.Parse(newer + "," + old)
	require.NoError(t, err)
	require.Equal(t, "k2", after.CurrentKeyID())

	marker := "MARKER-110105194912310021"
	p := payload(t, map[string]string{"x": marker})
	encOld, err := before.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Equal(t, "k1", string(encOld[0].Metadata[payloadcodec.MetadataKeyID]))
	require.False(t, bytes.Contains(encOld[0].Data, []byte(marker)), "the clear text is gone")
	encNew, err := after.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Equal(t, "k2", string(encNew[0].Metadata[payloadcodec.MetadataKeyID]))

	// After rotation both old and new payloads decode to the original.
	for _, enc := range [][]*commonpb.Payload{encOld, encNew} {
		dec, err := after.Decode(enc)
		require.NoError(t, err)
		require.True(t, proto.Equal(p, dec[0]))
	}
	// A key that was dropped no longer decodes; the error names no data.
	_, err = before.Decode(encNew)
	require.ErrorContains(t, err, `unknown key "k2"`)
	// Plain payloads pass through.
	dec, err := after.Decode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Same(t, p, dec[0])
	// Tampering (data or key ID) is refused.
	bad := proto.Clone(encNew[0]).(*commonpb.Payload)
	bad.Data[len(bad.Data)-1] ^= 1
	_, err = after.Decode([]*commonpb.Payload{bad})
	require.Error(t, err)
	swapped := proto.Clone(encNew[0]).(*commonpb.Payload)
	swapped.Metadata[payloadcodec.MetadataKeyID] = []byte("k1")
	_, err = after.Decode([]*commonpb.Payload{swapped})
	require.Error(t, err)
	// Each encryption uses a fresh nonce.
	again, err := after.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.NotEqual(t, encNew[0].Data, again[0].Data)
}

func TestParseRefusesBadKeys(t *testing.T) {
	c, err := payloadcodec.Parse("  ")
	require.NoError(t, err)
	require.Nil(t, c)
	for _, spec := range []string{"k1", "k1:notbase64!", "k1:c2hvcnQ=", "bad kid:" + strings.Repeat("A", 44),
		payloadcodec.NewKey("k1") + "," + payloadcodec.NewKey("k1")} {
		_, err := payloadcodec.Parse(spec)
		require.Error(t, err, spec)
		if _, key, ok := strings.Cut(spec, ":"); ok && len(key) > 8 {
			require.NotContains(t, err.Error(), key, "the key is not echoed")
		}
	}
}

func TestDataConverterRoundTripAndHistoryDecoding(t *testing.T) {
	c, err := payloadcodec.Parse(payloadcodec.NewKey("k1"))
	require.NoError(t, err)
	dc := payloadcodec.DataConverter(c)
	ps, err := dc.ToPayloads("application-id", 42)
	require.NoError(t, err)
	require.Equal(t, payloadcodec.Encoding, string(ps.Payloads[0].Metadata[converter.MetadataEncoding]))
	var s string
	var n int
	require.NoError(t, dc.FromPayloads(ps, &s, &n))
	require.Equal(t, "application-id", s)
	require.Equal(t, 42, n)

	h := &historypb.History{Events: []*historypb.HistoryEvent{{EventId: 1,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
			WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{Input: ps}}}}}
	bin, _ := proto.Marshal(h)
	require.False(t, bytes.Contains(bin, []byte("application-id")))
	require.NoError(t, payloadcodec.DecodeMessage(context.Background(), c, h))
	bin, _ = proto.Marshal(h)
	require.True(t, bytes.Contains(bin, []byte("application-id")))
}

// clearMemo is a value of codes and IDs only, marked to stay readable.
type clearMemo struct {
	Kind     string `json:"kind"`
	RecordID string `json:"record_id"`
}

func (clearMemo) ClearPayload() {}

// A run's memo (codes and IDs, marked Clear) stays plain JSON through the
// codec so that an operator reads it without decoding; every other value
// (inputs, results) is still encrypted; both read back through the data
// converter, and a marked payload decodes unchanged.
func TestClearValuesStayPlainOthersEncrypted_C4(t *testing.T) {
	c, err := payloadcodec.Parse(payloadcodec.NewKey("k1"))
	require.NoError(t, err)
	dc := payloadcodec.DataConverter(c)

	memo := clearMemo{Kind: "registration", RecordID: "0b7c1c3e-5f55-4d2e-8f43-000000000001"}
	mp, err := dc.ToPayload(memo)
	require.NoError(t, err)
	require.Equal(t, "json/plain", string(mp.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "1", string(mp.Metadata[payloadcodec.MetadataClear]))
	require.JSONEq(t, `{"kind":"registration","record_id":"0b7c1c3e-5f55-4d2e-8f43-000000000001"}`, string(mp.Data))
	var back clearMemo
	require.NoError(t, dc.FromPayload(mp, &back))
	require.Equal(t, memo, back)
	dec, err := c.Decode([]*commonpb.Payload{mp})
	require.NoError(t, err)
	require.Same(t, mp, dec[0], "decode passes a clear payload through")

	// The same fields in an unmarked value are encrypted.
	in, err := dc.ToPayload(map[string]string{"kind": "registration", "record_id": memo.RecordID})
	require.NoError(t, err)
	require.Equal(t, payloadcodec.Encoding, string(in.Metadata[converter.MetadataEncoding]))
	require.False(t, bytes.Contains(in.Data, []byte(memo.RecordID)))
	ins, err := dc.ToPayloads("x", memo)
	require.NoError(t, err)
	require.Equal(t, payloadcodec.Encoding, string(ins.Payloads[0].Metadata[converter.MetadataEncoding]))
	require.Equal(t, "json/plain", string(ins.Payloads[1].Metadata[converter.MetadataEncoding]))

	// Without a codec the marked value is plain JSON too.
	np, err := payloadcodec.DataConverter(nil).ToPayload(memo)
	require.NoError(t, err)
	require.Equal(t, "1", string(np.Metadata[payloadcodec.MetadataClear]))
}
