package api

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"hrss-backoffice/internal/authz"
)

const (
	codecOperatorKey = "codec_operator"
	// consoleSessionCookie is the staff console's session cookie (web/security.go,
	// sessionCookie): on /codec/* only, and only from the web UI's origin, it
	// stands for the bearer, so that the web UI decodes for a signed-in operator.
	consoleSessionCookie = "hrss_session"
)

// CodecOrigin gives the origin (scheme://host[:port]) that may call /codec/*
// from a browser: origin when set (CODEC_ALLOWED_ORIGIN), else the origin of
// the web UI's URL. Wildcards and paths are refused: the match is exact.
func CodecOrigin(origin, uiURL string) (string, error) {
	src := origin
	if src == "" {
		src = uiURL
	}
	if src == "" {
		return "", nil
	}
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(src, "*") ||
		(origin != "" && (u.Path != "" || u.RawQuery != "" || u.User != nil)) {
		return "", fmt.Errorf("CODEC_ALLOWED_ORIGIN / TEMPORAL_UI_URL: %q is not an http(s) origin such as http://localhost:8233", src)
	}
	return u.Scheme + "://" + u.Host, nil
}

// codecRoutes serve the Temporal web UI's (and CLI's --codec-endpoint)
// remote codec protocol: POST {"payloads":[...]} to /codec/encode or
// /codec/decode. Decoding shows what workflows carry, so only operators
// may call it: a staff session of an operator, administrator or auditor
// (the bearer, or the console's session cookie sent by the web UI with
// credentials from its own origin), or the bearer CODEC_TOKEN of an
// operator tool. Encoding (which lets a caller forge inputs the workflows
// trust) is for administrators only. Every call is audited, never the
// payloads.
func (s *server) codecRoutes(e *echo.Echo) {
	if s.Codec == nil {
		return
	}
	var origins []string
	if s.CodecOrigin != "" {
		origins = []string{s.CodecOrigin}
	}
	g := e.Group("/codec", middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     origins,
		AllowMethods:     []string{http.MethodPost, http.MethodOptions},
		AllowHeaders:     []string{"Content-Type", "X-Namespace", "Authorization"},
		AllowCredentials: true,
		MaxAge:           600,
	}))
	g.OPTIONS("/:op", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	g.POST("/encode", s.codec(true), s.requireCodecCaller(true))
	g.POST("/decode", s.codec(false), s.requireCodecCaller(false))
}

// codecCookieBearer gives "Bearer <console session>" for a /codec/* request
// that carries no Authorization header but the console's session cookie and
// comes from the allowed origin (exact match); "" otherwise. A request from
// any other origin, or without an Origin header, stays anonymous.
func (s *server) codecCookieBearer(c echo.Context) string {
	if s.Codec == nil || s.CodecOrigin == "" || !strings.HasPrefix(c.Path(), "/codec/") ||
		c.Request().Header.Get(echo.HeaderOrigin) != s.CodecOrigin {
		return ""
	}
	ck, err := c.Request().Cookie(consoleSessionCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	return "Bearer " + ck.Value
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

func (s *server) requireCodecCaller(encode bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if ok, _ := c.Get(codecOperatorKey).(bool); ok {
				if encode {
					return errForbidden("encoding is for administrators (a personal session), not the codec token", "仅管理员本人可编码载荷")
				}
				return next(c)
			}
			p := caller(c)
			if p == nil {
				return errUnauthenticated()
			}
			if encode && !may(c, authz.CodecEncode) {
				return errForbidden("encoding payloads is for administrators", "仅管理员可编码载荷")
			}
			if !may(c, authz.CodecDecode) {
				return errForbidden("the payload codec is for operators, administrators and auditors", "仅运维人员、管理员和审计员可使用载荷编解码")
			}
			return next(c)
		}
	}
}

// namespacePattern: what a Temporal namespace name may be; anything else
// is recorded as "invalid", never as sent.
var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)

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
		if err := s.auditCodec(c, encode, len(in.Payloads)); err != nil {
			return err
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

// auditCodec records who used the codec, for which namespace (the web UI
// and the CLI send X-Namespace; they send no workflow ID), how many
// payloads and through which credential, before anything is decoded: no
// audit row, no answer. The payloads are never recorded.
func (s *server) auditCodec(c echo.Context, encode bool, n int) error {
	action := "codec.decoded"
	if encode {
		action = "codec.encoded"
	}
	ns := c.Request().Header.Get("X-Namespace")
	switch {
	case ns == "":
		ns = s.Namespace
	case !namespacePattern.MatchString(ns):
		ns = "invalid"
	}
	via := "bearer"
	if ok, _ := c.Get(codecOperatorKey).(bool); ok {
		via = "codec_token"
		// The token names no person: it is recorded as a system actor.
		c.Set(principalKey, &principal{Kind: "system", AccountID: "codec_token"})
	} else if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
		via = "console_session"
	}
	ctx := c.Request().Context()
	return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, c, action, "temporal_namespace", ns, map[string]any{"payloads": n, "via": via})
	})
}
