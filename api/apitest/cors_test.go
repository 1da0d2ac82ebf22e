package apitest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
)

const (
	spaOrigin   = "http://127.0.0.1:3000"
	otherOrigin = "http://evil.example"
)

// fromOrigin sends method path with an Origin header and extra headers
// (name, value pairs); it returns the answer read in full.
func fromOrigin(t *testing.T, tn *apitest.Tenant, method, path, origin string, kv ...string) response {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return callWith(t, tn, method, path, "", h)
}

// preflight sends the OPTIONS request a browser sends before a
// cross-origin call with custom headers.
func preflight(t *testing.T, tn *apitest.Tenant, path, origin, method string) response {
	t.Helper()
	return fromOrigin(t, tn, http.MethodOptions, path, origin,
		"Access-Control-Request-Method", method,
		"Access-Control-Request-Headers", "auth0-client,authorization,content-type")
}

func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = h.Get(k)
		}
	}
	return out
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	// An empty bucket proves preflights skip the rate limit; no token
	// proves they skip authentication.
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin), apitest.WithRateLimit(1, 1e-9))
	if r := call(t, tn, "GET", userPath(alice), "", ""); r.status != 401 {
		t.Fatalf("draining the bucket: %d", r.status)
	}
	for _, tc := range []struct{ path, method, methods string }{
		{userPath(alice), "PATCH", "GET, POST, PATCH, DELETE"},
		{"/api/v2/device-credentials", "POST", "GET, POST, PATCH, DELETE"},
		{"/oauth/token", "POST", "POST"},
		{"/oauth/device/code", "POST", "POST"},
		{"/oauth/revoke", "POST", "POST"},
		{"/userinfo", "GET", "GET, POST"},
		{"/.well-known/jwks.json", "GET", "GET"},
		{"/.well-known/openid-configuration", "GET", "GET"},
	} {
		r := preflight(t, tn, tc.path, spaOrigin, tc.method)
		if r.status != http.StatusNoContent {
			t.Errorf("OPTIONS %s: status %d: %s", tc.path, r.status, r.body)
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":      spaOrigin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     tc.methods,
			"Access-Control-Allow-Headers":     "Authorization, Content-Type, Auth0-Client",
			"Access-Control-Max-Age":           "86400",
		}
		if got := corsHeaders(r.header); !equalMaps(got, want) {
			t.Errorf("OPTIONS %s: CORS headers %v, want %v", tc.path, got, want)
		}
		if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
			t.Errorf("OPTIONS %s: no Vary: Origin", tc.path)
		}
	}

	// Another origin: refused, with no CORS header.
	r := preflight(t, tn, userPath(alice), otherOrigin, "GET")
	if r.status != http.StatusForbidden || len(corsHeaders(r.header)) != 0 {
		t.Errorf("preflight from another origin: %d %v", r.status, corsHeaders(r.header))
	}
	// Paths a browser navigates to have no CORS.
	for _, p := range []string{"/authorize", "/v2/logout", "/nowhere"} {
		if r := preflight(t, tn, p, spaOrigin, "GET"); len(corsHeaders(r.header)) != 0 {
			t.Errorf("OPTIONS %s: CORS headers %v", p, corsHeaders(r.header))
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCORSAnswers(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin), apitest.WithRateLimit(2, 1e-9))
	tok := tn.AccessToken(alice, "read:current_user")

	ok := fromOrigin(t, tn, "GET", userPath(alice), spaOrigin, "Authorization", "Bearer "+tok)
	noAuth := fromOrigin(t, tn, "GET", userPath(alice), spaOrigin)
	limited := fromOrigin(t, tn, "GET", userPath(alice), spaOrigin, "Authorization", "Bearer "+tok)
	for _, c := range []struct {
		name   string
		r      response
		status int
	}{{"success", ok, 200}, {"error", noAuth, 401}, {"rate limited", limited, 429}} {
		if c.r.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, c.r.status, c.status, c.r.body)
		}
		if got := c.r.header.Get("Access-Control-Allow-Origin"); got != spaOrigin {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.name, got)
		}
		if got := c.r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-RateLimit-Remaining") {
			t.Errorf("%s: Access-Control-Expose-Headers %q", c.name, got)
		}
	}

	for _, p := range []string{"/.well-known/jwks.json", "/oauth/token"} {
		method := "GET"
		if strings.HasPrefix(p, "/oauth") {
			method = "POST"
		}
		if r := fromOrigin(t, tn, method, p, spaOrigin); r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("%s %s: no Access-Control-Allow-Origin (status %d)", method, p, r.status)
		}
	}

	// Another origin, or none: the same answers without CORS headers.
	for _, origin := range []string{otherOrigin, "null", ""} {
		r := fromOrigin(t, tn, "GET", "/.well-known/jwks.json", origin)
		if r.status != 200 || len(corsHeaders(r.header)) != 0 {
			t.Errorf("origin %q: %d %v", origin, r.status, corsHeaders(r.header))
		}
	}
}

func TestAllowedOriginPatterns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		allowed []string
		origin  string
		want    bool
	}{
		{nil, spaOrigin, false},
		{[]string{"*"}, "https://anything.example:8443", true},
		{[]string{"*"}, "null", false},
		{[]string{"http://localhost:*"}, "http://localhost:5173", true},
		{[]string{"http://localhost:*"}, "http://LOCALHOST:1", true},
		{[]string{"http://localhost:*"}, "https://localhost:5173", false},
		{[]string{"http://localhost:*"}, "http://127.0.0.1:5173", false},
		{[]string{"https://app.example"}, "https://app.example:443", true},
		{[]string{"https://app.example/"}, "https://app.example", true},
		{[]string{"https://app.example"}, "https://app.example:444", false},
		{[]string{"https://app.example"}, "https://app.example.evil", false},
		{[]string{"http://[::1]:*"}, "http://[::1]:8080", true},
		{[]string{"http://[::1]:8080"}, "http://[::1]:8080", true},
		{[]string{"http://a.example", "http://b.example"}, "http://b.example", true},
	} {
		tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(tc.allowed...))
		r := preflight(t, tn, "/oauth/token", tc.origin, "POST")
		if got := r.status == http.StatusNoContent; got != tc.want {
			t.Errorf("allowed %q, origin %q: allowed = %v (status %d)", tc.allowed, tc.origin, got, r.status)
		}
	}
	for _, bad := range []string{"", "localhost:3000", "ftp://x.example", "http://x.example/app", "http://x.example?q", "http://x.example:", "http://x.example:port", "http://:*", "http://u@x.example"} {
		if _, err := apitest.Start(apitest.WithAllowedOrigins(bad)); err == nil || !strings.HasPrefix(err.Error(), "apitest: ") {
			t.Errorf("WithAllowedOrigins(%q): err = %v", bad, err)
		}
	}
}
