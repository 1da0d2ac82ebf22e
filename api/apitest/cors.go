package apitest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// corsAllowHeaders are the request headers a browser may send cross-origin:
// what Auth0's SPA SDK sends to /oauth/token and a page sends to /api/v2.
const corsAllowHeaders = "Authorization, Content-Type, Auth0-Client"

// corsExposeHeaders are the response headers a page may read besides the
// CORS-safelisted ones.
const corsExposeHeaders = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"

// corsMaxAge is how long (seconds) a browser may cache a preflight answer.
const corsMaxAge = "86400"

// WithAllowedOrigins sets the application's Allowed Web Origins: the page
// origins whose browsers may call the tenant cross-origin (CORS on
// /api/v2/*, /oauth/token, /oauth/device/code, /oauth/revoke, /userinfo and
// /.well-known/*), receive /authorize answers with response_mode=web_message,
// and be sent back to by /v2/logout's returnTo. Each origin is
// "scheme://host[:port]" without a path; the port may be "*" (any port of
// that scheme and host, e.g. "http://localhost:*"), and "*" alone allows
// every origin, for tests. Without this option no origin is allowed, as in
// a new Auth0 application. Repeated options add to the list.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) error {
		for _, o := range origins {
			p, err := parseOriginPattern(o)
			if err != nil {
				return err
			}
			c.origins = append(c.origins, p)
		}
		return nil
	}
}

// originPattern is one allowed web origin; any matches every origin, a
// port of "*" every port.
type originPattern struct {
	any                bool
	scheme, host, port string
}

func parseOriginPattern(s string) (originPattern, error) {
	if s == "*" {
		return originPattern{any: true}, nil
	}
	bad := func(why string) (originPattern, error) {
		return originPattern{}, fmt.Errorf("apitest: allowed origin %q: %s", s, why)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return bad(`want "*" or http(s)://host[:port]`)
	}
	rest = strings.TrimSuffix(rest, "/")
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" {
			return bad("empty port")
		}
	}
	if port == "*" {
		if _, err := url.Parse(scheme + "://" + host); err != nil || host == "" {
			return bad("invalid host")
		}
		return originPattern{scheme: scheme, host: strings.ToLower(host), port: "*"}, nil
	}
	o, ok := parseOrigin(scheme + "://" + rest)
	if !ok {
		return bad("not an origin (a path, query, user or bad port?)")
	}
	return o, nil
}

// parseOrigin reads an Origin header value (or an origin as configured):
// scheme, lower-case host and explicit port, the default port left out.
func parseOrigin(s string) (originPattern, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return originPattern{}, false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return originPattern{}, false
		}
	}
	return originPattern{scheme: u.Scheme, host: host, port: port}, true
}

func (p originPattern) matches(o originPattern) bool {
	return p.any || (p.scheme == o.scheme && p.host == o.host && (p.port == "*" || p.port == o.port))
}

// originAllowed reports whether origin (an Origin header value, or the
// origin of a URL) is one of the allowed web origins. "null" never is.
func (t *Tenant) originAllowed(origin string) bool {
	o, ok := parseOrigin(origin)
	if !ok {
		return false
	}
	for _, p := range t.cfg.origins {
		if p.matches(o) {
			return true
		}
	}
	return false
}

// urlOrigin returns the origin of an absolute http(s) URL.
func urlOrigin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// corsMethods returns the methods a cross-origin page may use on path, and
// false for paths without CORS (/authorize, /v2/logout: browsers navigate
// there).
func corsMethods(path string) (string, bool) {
	switch {
	case path == "/api/v2" || strings.HasPrefix(path, "/api/v2/"):
		return "GET, POST, PATCH, DELETE", true
	case path == "/oauth/token" || path == "/oauth/device/code" || path == "/oauth/revoke":
		return "POST", true
	case path == "/userinfo":
		return "GET, POST", true
	case strings.HasPrefix(path, "/.well-known/"):
		return "GET", true
	}
	return "", false
}

// cors sets the CORS headers of an answer to r, before anything else looks
// at r, and answers a preflight itself, in which case it returns true.
// An allowed origin gets Access-Control-Allow-Origin on every answer
// (errors and 429s included); another origin gets no CORS header.
func (t *Tenant) cors(w http.ResponseWriter, r *http.Request) bool {
	methods, ok := corsMethods(r.URL.EscapedPath())
	if !ok {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	allowed := origin != "" && t.originAllowed(origin)
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method != http.MethodOptions || origin == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		if allowed {
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		return false
	}
	if !allowed {
		writeError(w, http.StatusForbidden, "Origin "+origin+" is not allowed", "")
		return true
	}
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}
