package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
)

// browser is a user's browser on the app: a cookie jar, following
// redirects through the tenant's /authorize.
type browser struct {
	t    *testing.T
	app  *httptest.Server
	hc   *http.Client
	mu   sync.Mutex
	seen []string // every answer body, to check no token reaches the browser
}

// startApp starts a tenant where alice is signed in and the app on it.
func startApp(t *testing.T, opts ...apitest.Option) (*apitest.Tenant, *browser) {
	t.Helper()
	tn := apitest.New(t, append([]apitest.Option{apitest.WithLoginUser("auth0|alice"), apitest.WithUsers(apitest.User{
		ID: "auth0|alice", Email: "alice@example.com", Name: "Alice",
		UserMetadata: map[string]any{"theme": "light", "support_tier": "gold"},
	})}, opts...)...)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	h, err := newApp(config{
		Domain: tn.Domain(), TenantURL: tn.URL(), ClientID: tn.ClientID(), ClientSecret: "secret",
		PublicURL: srv.URL, HTTPClient: tn.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return tn, &browser{t: t, app: srv, hc: &http.Client{Jar: jar}}
}

// do sends a request as the page would, from the app's own origin unless
// origin says otherwise, and returns the status and body.
func (b *browser) do(method, path, body, origin string) (int, string, http.Header) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.app.URL+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin == "" {
		origin = b.app.URL
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", origin)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	b.mu.Lock()
	b.seen = append(b.seen, string(out))
	b.mu.Unlock()
	return resp.StatusCode, string(out), resp.Header
}

func TestSignInReadAndEditThePreference(t *testing.T) {
	t.Parallel()
	tn, b := startApp(t)

	if status, body, _ := b.do("GET", "/api/account/me", "", ""); status != http.StatusUnauthorized || !strings.Contains(body, `"unauthorized"`) {
		t.Fatalf("before sign-in: %d %s", status, body)
	}
	status, page, hdr := b.do("GET", "/login", "", "")
	if status != http.StatusOK || !strings.Contains(page, `<select id="theme">`) {
		t.Fatalf("sign-in did not end on the page: %d %s", status, page)
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	status, body, hdr := b.do("GET", "/api/account/me", "", "")
	if status != http.StatusOK || !strings.Contains(body, `"user_metadata":{"theme":"light"}`) || strings.Contains(body, "support_tier") {
		t.Fatalf("profile: %d %s", status, body)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("profile Cache-Control %q", hdr.Get("Cache-Control"))
	}
	status, body, _ = b.do("PATCH", "/api/account/me/metadata", `{"theme": "dark"}`, "")
	if status != http.StatusOK || !strings.Contains(body, `"theme":"dark"`) {
		t.Fatalf("edit: %d %s", status, body)
	}
	if u, _ := tn.User("auth0|alice"); u.UserMetadata["theme"] != "dark" || u.UserMetadata["support_tier"] != "gold" {
		t.Errorf("stored metadata %v", u.UserMetadata)
	}

	// What the safe way refuses, with nothing sent to the tenant.
	tn.ResetRequests()
	for _, c := range []struct {
		name, method, path, body, origin string
		status                           int
	}{
		{"another origin", "PATCH", "/api/account/me/metadata", `{"theme": "light"}`, "https://evil.example", http.StatusForbidden},
		{"a port of the same host", "PATCH", "/api/account/me/metadata", `{"theme": "light"}`, "http://127.0.0.1:1", http.StatusForbidden},
		{"a key outside the policy", "PATCH", "/api/account/me/metadata", `{"support_tier": "platinum"}`, "", http.StatusBadRequest},
		{"a value outside the schema", "PATCH", "/api/account/me/metadata", `{"theme": "<script>"}`, "", http.StatusBadRequest},
		{"an oversized body", "PATCH", "/api/account/me/metadata", `{"theme": "` + strings.Repeat("x", 20000) + `"}`, "", http.StatusRequestEntityTooLarge},
		{"malformed JSON", "PATCH", "/api/account/me/metadata", `{"theme": `, "", http.StatusBadRequest},
		{"a route not allowed", "GET", "/api/account/me/enrollments", "", "", http.StatusNotFound},
		{"a route not allowed", "POST", "/api/account/me/device-credentials", `{"device_name": "d", "device_id": "ab", "value": "v"}`, "", http.StatusNotFound},
		{"an Auth0 path", "GET", "/api/account/api/v2/users/auth0%7Calice", "", "", http.StatusNotFound},
		{"an Auth0 path", "GET", "/api/v2/users/auth0%7Calice", "", "", http.StatusNotFound},
		{"sign-out from another origin", "POST", "/logout", "", "https://evil.example", http.StatusForbidden},
	} {
		if status, body, _ := b.do(c.method, c.path, c.body, c.origin); status != c.status {
			t.Errorf("%s (%s %s): %d %s, want %d", c.name, c.method, c.path, status, body, c.status)
		}
	}
	for _, r := range tn.Requests() {
		t.Errorf("the tenant received %s %s", r.Method, r.EscapedPath)
	}

	// Signing out ends the session.
	if status, _, _ := b.do("POST", "/logout", "", ""); status != http.StatusOK {
		t.Errorf("sign-out: %d", status)
	}
	if status, _, _ := b.do("GET", "/api/account/me", "", ""); status != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d", status)
	}
	for _, s := range b.seen {
		if strings.Contains(s, "eyJ") {
			t.Errorf("an answer holds a JWT: %.200s", s)
		}
	}
	for _, c := range b.hc.Jar.Cookies(mustURL(t, b.app.URL)) {
		if strings.Contains(c.Value, "eyJ") {
			t.Errorf("cookie %s holds a JWT", c.Name)
		}
	}
}

// TestRefreshRotates: with access tokens that oauth2 treats as expired at
// once, every call refreshes; Auth0-style rotation retires each refresh
// token, so the sign-in survives only if one source is shared and each new
// refresh token is kept. Concurrent calls of the same user included.
func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	tn, b := startApp(t, apitest.WithTokenLifetimes(5*time.Second, time.Hour))
	if status, _, _ := b.do("GET", "/login", "", ""); status != http.StatusOK {
		t.Fatalf("sign-in: %d", status)
	}
	var wg sync.WaitGroup
	for _, n := range []int{2, 3} {
		for range n {
			wg.Go(func() {
				if status, body, _ := b.do("GET", "/api/account/me", "", ""); status != http.StatusOK {
					t.Errorf("call: %d %s", status, body)
				}
			})
		}
		wg.Wait()
		time.Sleep(10 * time.Millisecond)
	}
	refreshes := 0
	for _, r := range tn.Requests() {
		if r.EscapedPath == "/oauth/token" && strings.Contains(string(r.Body), "refresh_token") {
			refreshes++
		}
	}
	if refreshes == 0 {
		t.Error("no refresh happened; the test proves nothing")
	}
}

func TestNewAppRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []config{
		{},
		{Domain: "d.example", ClientID: "c", ClientSecret: "s"},
		{Domain: "d.example", ClientID: "c", PublicURL: "http://127.0.0.1"},
		{Domain: "d.example", ClientID: "c", ClientSecret: "s", PublicURL: "::"},
		// Plain http to a host that is not loopback: the client secret
		// and the tokens would cross the network in clear.
		{Domain: "d.example", ClientID: "c", ClientSecret: "s", PublicURL: "http://127.0.0.1", TenantURL: "http://d.example"},
	} {
		if _, err := newApp(cfg); err == nil {
			t.Errorf("newApp(%+v) accepted", cfg)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
