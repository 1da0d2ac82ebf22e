package bff_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bff"
)

const (
	alice = "auth0|alice"
	bob   = "auth0|bob"
)

var allScopes = []string{
	"read:current_user", "update:current_user_identities", "update:current_user_metadata",
	"create:current_user_metadata", "create:current_user_device_credentials", "delete:current_user_device_credentials",
}

var allRoutes = []bff.Route{
	bff.ReadProfile, bff.ReadEnrollments, bff.WriteMetadata, bff.LinkIdentity,
	bff.UnlinkIdentity, bff.CreateDeviceCredential, bff.DeleteDeviceCredential,
}

// testPolicy allows theme (light or dark) and a small list of favourite
// colours.
var testPolicy = bff.MetadataPolicy{
	Keys: map[string]bff.MetadataKey{
		"theme":  {Schema: `{"enum": ["light", "dark"]}`},
		"colors": {Schema: `{"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 5}`, MaxSize: 200},
		"prefs":  {Schema: `{"type": "object"}`},
	},
	MaxTotal: 300,
}

// fixture is a tenant holding alice (with metadata the policy does not
// list, and app_metadata) and bob, a root client, and sessions: the cookie
// "session" names whose token source the user function returns.
type fixture struct {
	tn       *apitest.Tenant
	client   *api.Client
	mu       sync.Mutex
	sessions map[string]oauth2.TokenSource
}

func newFixture(t testing.TB, opts ...apitest.Option) *fixture {
	t.Helper()
	tn := apitest.New(t, append(opts, apitest.WithUsers(
		apitest.User{ID: alice, Email: "alice@example.com", UserMetadata: map[string]any{"theme": "light", "internal_flag": true}, AppMetadata: map[string]any{"plan": "gold"}},
		apitest.User{ID: bob, Email: "bob@example.com"},
		apitest.User{ID: "github|sec", Email: "sec@example.com"},
	))...)
	// The root client's own token source is never used by the Handler.
	client, err := api.New(tn.Domain(), oauth2.StaticTokenSource(&oauth2.Token{}),
		api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{tn: tn, client: client, sessions: map[string]oauth2.TokenSource{}}
}

// signIn makes a session for sub with scopes and returns its cookie value.
func (f *fixture) signIn(sub string, scopes ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[sub] = f.tn.TokenSource(sub, scopes...)
	return sub
}

// user is the Handler's user function: the session named by the cookie.
func (f *fixture) user(r *http.Request) (oauth2.TokenSource, error) {
	c, err := r.Cookie("session")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ts, ok := f.sessions[c.Value]
	if !ok {
		return nil, errors.New("no such session")
	}
	return ts, nil
}

func (f *fixture) handler(t testing.TB, opts ...bff.Option) *bff.Handler {
	t.Helper()
	h, err := bff.New(f.client, f.user, append([]bff.Option{bff.WithMetadataPolicy(testPolicy)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// sent is how many requests the tenant received for /api/v2.
func (f *fixture) sent() int {
	n := 0
	for _, r := range f.tn.Requests() {
		if strings.HasPrefix(r.EscapedPath, "/api/v2/") {
			n++
		}
	}
	return n
}

// request builds a request as alice's (or session's) browser sends it on
// the same origin; a non-empty body is sent as JSON.
func request(method, target, session, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if session != "" {
		r.AddCookie(&http.Cookie{Name: "session", Value: session})
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorBody decodes a refusal, failing t when the body is not one.
func errorBody(t testing.TB, w *httptest.ResponseRecorder) bff.Error {
	t.Helper()
	var e bff.Error
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("status %d: body is not {error, message}: %v", w.Code, err)
	}
	return e
}

func decodeBody(t testing.TB, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("status %d: body %q: %v", w.Code, w.Body, err)
	}
}
