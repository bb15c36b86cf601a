// Package payloadcodec encrypts Temporal payloads with AES-256-GCM under
// named keys, so that workflow inputs, results, updates, signals, queries
// and failure details are stored encrypted in Temporal (docs/reliability.md).
//
// Keys rotate: PAYLOAD_KEYS="kid2:base64key,kid1:base64key" lists every
// known key, the first is the newest and encrypts; any listed key decrypts.
// Plain payloads (histories from before the codec, the committed replay
// histories) decode unchanged.
package payloadcodec

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload.
const (
	Encoding      = "binary/encrypted"
	MetadataKeyID = "encryption-key-id"
	// MetadataClear ("1") marks a payload made from a Clear value: the
	// codec leaves it in clear both ways.
	MetadataClear = "hrss-clear"
)

// Clear is implemented by values that hold codes and IDs only (never
// personal data or secrets) and that operators must read without the
// codec: the memos of runs (what the run is about, docs/operations.md).
// Their payloads are plain JSON marked with MetadataClear, and the codec
// passes them through; every other value is encrypted.
type Clear interface{ ClearPayload() }

// clearConverter turns Clear values into marked JSON payloads; other values
// are left to the converters after it. Its Encoding is a key of its own in
// the composite (the payloads it makes are json/plain and read back with
// the JSON converter).
type clearConverter struct{ json converter.PayloadConverter }

func (c clearConverter) ToPayload(v any) (*commonpb.Payload, error) {
	if _, ok := v.(Clear); !ok {
		return nil, nil
	}
	p, err := c.json.ToPayload(v)
	if err != nil || p == nil {
		return p, err
	}
	p.Metadata[MetadataClear] = []byte("1")
	return p, nil
}

func (c clearConverter) FromPayload(p *commonpb.Payload, to any) error {
	return c.json.FromPayload(p, to)
}
func (c clearConverter) ToString(p *commonpb.Payload) string { return c.json.ToString(p) }
func (clearConverter) Encoding() string                      { return "json/plain+hrss-clear" }

// payloadConverter is the SDK's default set with Clear values first.
var payloadConverter = converter.NewCompositeDataConverter(
	clearConverter{json: converter.NewJSONPayloadConverter()},
	converter.NewNilPayloadConverter(),
	converter.NewByteSlicePayloadConverter(),
	converter.NewProtoJSONPayloadConverter(),
	converter.NewProtoPayloadConverter(),
	converter.NewJSONPayloadConverter(),
)

func isClear(p *commonpb.Payload) bool { return string(p.GetMetadata()[MetadataClear]) == "1" }

// Codec is a converter.PayloadCodec.
type Codec struct {
	current string
	keys    map[string]cipher.AEAD
}

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Parse reads "kid:base64key,…" (32-byte keys, standard base64); the first
// key encrypts. An empty string gives nil: no codec.
func Parse(spec string) (*Codec, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	c := &Codec{keys: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		kid, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !kidPattern.MatchString(kid) {
			return nil, fmt.Errorf("PAYLOAD_KEYS: each entry is kid:base64key with a key ID of letters, digits, '.', '_' or '-'")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("PAYLOAD_KEYS: key %q must be 32 bytes in standard base64", kid)
		}
		if _, dup := c.keys[kid]; dup {
			return nil, fmt.Errorf("PAYLOAD_KEYS: key ID %q appears twice", kid)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.keys[kid] = aead
		if c.current == "" {
			c.current = kid
		}
	}
	return c, nil
}

// CurrentKeyID is the ID of the key that encrypts.
func (c *Codec) CurrentKeyID() string { return c.current }

// Encode encrypts each payload (its whole protobuf form, metadata
// included) under the current key; the key ID is additional data, so a
// payload cannot be passed off under another key. Payloads of Clear values
// (MetadataClear) pass through.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.keys[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if isClear(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		sealed := aead.Seal(nonce, nonce, plain, []byte(c.current))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(c.current)},
			Data:     sealed,
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads with the key named in them and passes
// plain payloads (Clear values among them) through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		kid := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.keys[kid]
		if !ok {
			return nil, fmt.Errorf("payload encrypted with unknown key %q", kid)
		}
		if len(p.Data) < aead.NonceSize() {
			return nil, fmt.Errorf("encrypted payload too short")
		}
		plain, err := aead.Open(nil, p.Data[:aead.NonceSize()], p.Data[aead.NonceSize():], []byte(kid))
		if err != nil {
			return nil, fmt.Errorf("payload under key %q does not decrypt", kid)
		}
		dec := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, dec); err != nil {
			return nil, err
		}
		out[i] = dec
	}
	return out, nil
}

// DataConverter is the default converter (with Clear values as marked
// plain JSON) with this codec, for the client of the API and the worker;
// nil c gives the converter without a codec.
func DataConverter(c *Codec) converter.DataConverter {
	if c == nil {
		return payloadConverter
	}
	return converter.NewCodecDataConverter(payloadConverter, c)
}

// FailureConverter also encodes failure messages and stack traces, which
// could otherwise carry what an error message quoted.
func FailureConverter(c *Codec) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: DataConverter(c), EncodeCommonAttributes: c != nil})
}

// DecodeMessage decodes every payload inside a Temporal protobuf message
// (a history, an event) in place, for tools and tests that read histories.
func DecodeMessage(ctx context.Context, c *Codec, msg proto.Message) error {
	if c == nil {
		return nil
	}
	return proxy.VisitPayloads(ctx, msg, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Decode(ps)
		},
	})
}

// NewKey returns a fresh key entry "kid:base64key".
func NewKey(kid string) string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return kid + ":" + base64.StdEncoding.EncodeToString(key)
}
