package apitest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
)

// otherKey signs "foreign" tokens.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

const (
	alice = "auth0|alice0000000000000001"
	bob   = "auth0|bob000000000000000002"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testUsers are the users of every test tenant: alice and bob.
var testUsers = apitest.WithUsers(
	apitest.User{ID: alice, Email: "alice@example.com", EmailVerified: true, UserMetadata: map[string]any{"color": "blue"}, AppMetadata: map[string]any{"plan": "free"}},
	apitest.User{ID: bob, Email: "bob@example.com", UserMetadata: map[string]any{"lang": "fr"}},
)

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value ("" body gives nil).
func (r response) json(t *testing.T) any {
	t.Helper()
	if len(r.body) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return v
}

// call sends method path (relative to the tenant root, already escaped)
// with an optional bearer token and body.
func call(t *testing.T, tn *apitest.Tenant, method, path, token, body string) response {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	return callWith(t, tn, method, path, body, h)
}

// callWith sends method path with the given headers and optional body.
func callWith(t *testing.T, tn *apitest.Tenant, method, path, body string, h http.Header) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, tn.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	res, err := tn.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// errBody is an Auth0 error body as a generic JSON value.
func errBody(status int, errText, message, code string) map[string]any {
	m := map[string]any{"statusCode": float64(status), "error": errText, "message": message}
	if code != "" {
		m["errorCode"] = code
	}
	return m
}

func userPath(id string) string { return "/api/v2/users/" + escape(id) }

// escape escapes a path segment as Auth0 clients do ("|" and "/" too).
func escape(s string) string {
	r := strings.NewReplacer("%", "%25", "|", "%7C", "/", "%2F", " ", "%20", "?", "%3F", "#", "%23")
	return r.Replace(s)
}

func mustSign(t *testing.T, tn *apitest.Tenant, claims map[string]any, opts ...apitest.SignOption) string {
	t.Helper()
	s, err := tn.SignToken(claims, opts...)
	if err != nil {
		t.Fatalf("SignToken: %v", err)
	}
	return s
}
