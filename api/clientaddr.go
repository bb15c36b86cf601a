package api

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/reqid"
)

// clientAddress is the API's echo.IPExtractor: the peer address of the
// connection, unless the peer is a trusted proxy (TRUSTED_PROXIES), in which
// case X-Forwarded-For is read from the right, skipping trusted proxies,
// and the first address that is not one is the client (X-Real-IP when there
// is no X-Forwarded-For). Every address is checked with net.ParseIP and
// written in its canonical form; a malformed hop ends the walk at the last
// good address. Forwarding headers from anyone else count for nothing.
func clientAddress(trusted []*net.IPNet) echo.IPExtractor {
	isTrusted := func(ip net.IP) bool {
		for _, n := range trusted {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		peer := net.ParseIP(host)
		if peer == nil {
			return ""
		}
		if !isTrusted(peer) {
			return peer.String()
		}
		var hops []string
		for _, v := range r.Header.Values(echo.HeaderXForwardedFor) {
			hops = append(hops, strings.Split(v, ",")...)
		}
		if len(hops) == 0 {
			if ip := net.ParseIP(strings.TrimSpace(r.Header.Get(echo.HeaderXRealIP))); ip != nil {
				return ip.String()
			}
			return peer.String()
		}
		last := peer
		for i := len(hops) - 1; i >= 0; i-- {
			ip := net.ParseIP(strings.TrimSpace(hops[i]))
			if ip == nil {
				break
			}
			last = ip
			if !isTrusted(ip) {
				break
			}
		}
		return last.String()
	}
}

// requestID keeps the client's X-Request-ID only when it is short and
// safe (reqid.Valid); otherwise the request gets a fresh one. The kept or
// new ID replaces the request header too, so that nothing downstream (the
// request log, the in-process page calls) sees the client's raw value.
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := reqid.Accept(c.Request().Header.Get(echo.HeaderXRequestID))
		c.Request().Header.Set(echo.HeaderXRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}
