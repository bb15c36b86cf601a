package api

import (
	"crypto/subtle"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"hrss-backoffice/workflows"
)

const codecOperatorKey = "codec_operator"

// codecRoutes serve the Temporal web UI's (and CLI's --codec-endpoint)
// remote codec protocol: POST {"payloads":[...]} to /codec/encode or
// /codec/decode. Decoding shows what workflows carry, so only operators
// may call it: a staff session of an administrator or auditor, or the
// bearer CODEC_TOKEN of an operator tool. The UI's origin may call it from
// the browser (CORS).
func (s *server) codecRoutes(e *echo.Echo) {
	if s.Codec == nil {
		return
	}
	g := e.Group("/codec", middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     []string{strings.TrimRight(s.UIURL, "/")},
		AllowMethods:     []string{http.MethodPost, http.MethodOptions},
		AllowHeaders:     []string{"Content-Type", "X-Namespace", "Authorization"},
		AllowCredentials: true,
	}))
	g.OPTIONS("/:op", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	g.POST("/encode", s.codec(true), s.requireCodecOperator)
	g.POST("/decode", s.codec(false), s.requireCodecOperator)
}

// codecTokenMatches is true for the CODEC_TOKEN bearer on a codec route.
func (s *server) codecTokenMatches(c echo.Context, header string) bool {
	if s.Codec == nil || s.CodecToken == "" || !strings.HasPrefix(c.Path(), "/codec/") {
		return false
	}
	token, _ := strings.CutPrefix(header, "Bearer ")
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.CodecToken)) != 1 {
		return false
	}
	c.Set(codecOperatorKey, true)
	return true
}

func (s *server) requireCodecOperator(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ok, _ := c.Get(codecOperatorKey).(bool); ok {
			return next(c)
		}
		p := caller(c)
		if p == nil {
			return errUnauthenticated()
		}
		if p.Kind != "staff" || !p.hasRole(workflows.RoleAdministrator, workflows.RoleAuditor) {
			return errForbidden("the payload codec is for administrators and auditors", "仅管理员和审计员可使用载荷编解码")
		}
		return next(c)
	}
}

func (s *server) codec(encode bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		var in commonpb.Payloads
		if err := protojson.Unmarshal(body, &in); err != nil {
			return errValidation(detail("payloads", "malformed", "the body is not {\"payloads\": [...]}"))
		}
		var out []*commonpb.Payload
		if encode {
			out, err = s.Codec.Encode(in.Payloads)
		} else {
			out, err = s.Codec.Decode(in.Payloads)
		}
		if err != nil {
			return errValidation(detail("payloads", "undecodable", "a payload does not decode with the known keys"))
		}
		js, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, js)
	}
}
