package bff_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bff"
)

func TestReadProfileFiltersFields(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(bff.ReadProfile))
	w := serve(h, request("GET", "/me", f.signIn(alice, "read:current_user"), ""))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got map[string]any
	decodeBody(t, w, &got)
	want := map[string]any{
		"user_id": alice, "email": "alice@example.com", "email_verified": false,
		"name": "alice@example.com", "nickname": "alice",
		"identities":    []any{map[string]any{"provider": "auth0", "user_id": "alice", "connection": "Username-Password-Authentication"}},
		"user_metadata": map[string]any{"theme": "light"}, // not internal_flag
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile (-want +got):\n%s", diff)
	}
}

func TestProfileFieldsOption(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := testPolicy
	p.Profile = []string{"user_id", "app_metadata"}
	h, err := bff.New(f.client, f.user, bff.Allow(bff.ReadProfile), bff.WithMetadataPolicy(p))
	if err != nil {
		t.Fatal(err)
	}
	w := serve(h, request("GET", "/me", f.signIn(alice, "read:current_user"), ""))
	var got map[string]any
	decodeBody(t, w, &got)
	want := map[string]any{"user_id": alice, "app_metadata": map[string]any{"plan": "gold"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile (-want +got):\n%s", diff)
	}
}

func TestReadEnrollments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.tn.SetEnrollments(alice, []apitest.Enrollment{{ID: "totp|dev_1", Status: "confirmed", Type: "authenticator", AuthMethod: "authenticator", Name: "phone"}}); err != nil {
		t.Fatal(err)
	}
	h := f.handler(t, bff.Allow(bff.ReadEnrollments))
	w := serve(h, request("GET", "/me/enrollments", f.signIn(alice, "read:current_user"), ""))
	var got []map[string]any
	decodeBody(t, w, &got)
	if w.Code != http.StatusOK || len(got) != 1 || got[0]["id"] != "totp|dev_1" || got[0]["status"] != "confirmed" {
		t.Errorf("status %d, enrollments %v", w.Code, got)
	}
}

func TestWriteMetadata(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(bff.WriteMetadata))
	sess := f.signIn(alice, "update:current_user_metadata")
	w := serve(h, request("PATCH", "/me/metadata", sess, `{"theme": "dark", "colors": ["red", "teal"]}`))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got struct {
		UserMetadata map[string]any `json:"user_metadata"`
	}
	decodeBody(t, w, &got)
	want := map[string]any{"theme": "dark", "colors": []any{"red", "teal"}}
	if diff := cmp.Diff(want, got.UserMetadata); diff != "" {
		t.Errorf("answered metadata (-want +got):\n%s", diff)
	}
	// null deletes; keys the policy does not list stay untouched.
	w = serve(h, request("PATCH", "/me/metadata", sess, `{"theme": null}`))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	u, _ := f.tn.User(alice)
	want = map[string]any{"colors": []any{"red", "teal"}, "internal_flag": true}
	if diff := cmp.Diff(want, u.UserMetadata); diff != "" {
		t.Errorf("stored metadata (-want +got):\n%s", diff)
	}
}

func TestClearNeedsAllowClear(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sess := f.signIn(alice, "update:current_user_metadata")
	h := f.handler(t, bff.Allow(bff.WriteMetadata))
	if w := serve(h, request("PATCH", "/me/metadata", sess, `{}`)); w.Code != http.StatusBadRequest || errorBody(t, w).Code != "metadata_clear_not_allowed" {
		t.Errorf("{} without AllowClear: status %d", w.Code)
	}
	if n := f.sent(); n != 0 {
		t.Errorf("%d requests reached the tenant", n)
	}
	p := testPolicy
	p.AllowClear = true
	h, err := bff.New(f.client, f.user, bff.Allow(bff.WriteMetadata), bff.WithMetadataPolicy(p))
	if err != nil {
		t.Fatal(err)
	}
	if w := serve(h, request("PATCH", "/me/metadata", sess, `{}`)); w.Code != http.StatusOK {
		t.Fatalf("{} with AllowClear: status %d: %s", w.Code, w.Body)
	}
	if u, _ := f.tn.User(alice); len(u.UserMetadata) != 0 {
		t.Errorf("metadata after {}: %v", u.UserMetadata)
	}
}

func TestIdentities(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(bff.LinkIdentity, bff.UnlinkIdentity))
	sess := f.signIn(alice, "update:current_user_identities")
	body, _ := json.Marshal(map[string]string{"id_token": f.tn.IDToken("github|sec")})
	w := serve(h, request("POST", "/me/identities", sess, string(body)))
	if w.Code != http.StatusOK {
		t.Fatalf("link: status %d: %s", w.Code, w.Body)
	}
	var ids []map[string]any
	decodeBody(t, w, &ids)
	want := []map[string]any{
		{"provider": "auth0", "user_id": "alice", "connection": "Username-Password-Authentication"},
		{"provider": "github", "user_id": "sec", "connection": "github"},
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("identities after link (-want +got):\n%s", diff)
	}

	w = serve(h, request("DELETE", "/me/identities/github/sec", sess, ""))
	if w.Code != http.StatusOK {
		t.Fatalf("unlink: status %d: %s", w.Code, w.Body)
	}
	ids = nil
	decodeBody(t, w, &ids)
	if diff := cmp.Diff(want[:1], ids); diff != "" {
		t.Errorf("identities after unlink (-want +got):\n%s", diff)
	}

	// Path parameters that would leave their segment are refused unsent.
	before := f.sent()
	for _, p := range []string{"/me/identities/github%2F..%2F..%2Fusers/x", "/me/identities/github/sec%2F..", "/me/identities/%2E%2E/x"} {
		w := serve(h, request("DELETE", p, sess, ""))
		if e := errorBody(t, w); w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound {
			t.Errorf("DELETE %s: status %d %+v", p, w.Code, e)
		}
	}
	if n := f.sent() - before; n != 0 {
		t.Errorf("%d requests with escaping path parameters reached the tenant", n)
	}

	// An ID token Auth0 would refuse is refused here, unsent.
	w = serve(h, request("POST", "/me/identities", sess, `{"id_token": "not.a.jwt"}`))
	if e := errorBody(t, w); w.Code != http.StatusBadRequest || e.Code != "invalid_id_token" {
		t.Errorf("bad ID token: status %d %+v", w.Code, e)
	}
}

func TestDeviceCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(bff.CreateDeviceCredential, bff.DeleteDeviceCredential))
	sess := f.signIn(alice, "create:current_user_device_credentials", "delete:current_user_device_credentials")
	w := serve(h, request("POST", "/me/device-credentials", sess, `{"device_name": "laptop", "device_id": "ab-12", "value": "cHVibGlj"}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: status %d: %s", w.Code, w.Body)
	}
	var created struct{ ID string }
	decodeBody(t, w, &created)
	if creds := f.tn.DeviceCredentials(alice); len(creds) != 1 || creds[0].ID != created.ID || creds[0].DeviceName != "laptop" {
		t.Fatalf("tenant holds %+v, answered id %q", creds, created.ID)
	}
	// The same device again: Auth0's 409, mapped without its text.
	w = serve(h, request("POST", "/me/device-credentials", sess, `{"device_name": "laptop", "device_id": "ab-12", "value": "cHVibGlj"}`))
	if e := errorBody(t, w); w.Code != http.StatusConflict || e.Code != "conflict" {
		t.Errorf("duplicate: status %d %+v", w.Code, e)
	}

	w = serve(h, request("DELETE", "/me/device-credentials/"+created.ID, sess, ""))
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("delete: status %d: %s", w.Code, w.Body)
	}
	if creds := f.tn.DeviceCredentials(alice); len(creds) != 0 {
		t.Errorf("tenant still holds %+v", creds)
	}
	w = serve(h, request("DELETE", "/me/device-credentials/"+created.ID, sess, ""))
	if e := errorBody(t, w); w.Code != http.StatusNotFound || e.Code != "not_found" || strings.Contains(e.Message, "device credential does not exist") {
		t.Errorf("delete again: status %d %+v", w.Code, e)
	}
	// A bad device id is api's refusal: 400, nothing sent.
	before := f.sent()
	w = serve(h, request("POST", "/me/device-credentials", sess, `{"device_name": "x", "device_id": "not hex", "value": "v"}`))
	if e := errorBody(t, w); w.Code != http.StatusBadRequest || e.Code != "invalid_request" || f.sent() != before {
		t.Errorf("bad device id: status %d %+v, %d sent", w.Code, e, f.sent()-before)
	}
}

// TestOnlyAllowedRoutes: a Handler allowing one route answers 404 for the
// others and for anything else, and sends nothing for them.
func TestOnlyAllowedRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(bff.ReadProfile))
	sess := f.signIn(alice, allScopes...)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/me/enrollments", ""},
		{"PATCH", "/me/metadata", `{"theme": "dark"}`},
		{"POST", "/me/identities", `{"id_token": "x"}`},
		{"DELETE", "/me/identities/github/sec", ""},
		{"POST", "/me/device-credentials", `{}`},
		{"DELETE", "/me/device-credentials/dcr_1", ""},
		{"POST", "/me", ""},
		{"GET", "/me/", ""},
		{"GET", "/me/../me", ""},
		{"GET", "//me", ""},
		{"GET", "/users/" + alice, ""},
		{"GET", "/api/v2/users/me", ""},
		{"GET", "/", ""},
	} {
		w := serve(h, request(c.method, c.path, sess, c.body))
		if e := errorBody(t, w); w.Code != http.StatusNotFound || e.Code != "not_found" {
			t.Errorf("%s %s: status %d %+v, want 404 not_found", c.method, c.path, w.Code, e)
		}
	}
	if n := f.sent(); n != 0 {
		t.Errorf("%d requests reached the tenant", n)
	}
	// Under a prefix.
	mux := http.NewServeMux()
	mux.Handle("/api/account/", http.StripPrefix("/api/account", h))
	if w := serve(mux, request("GET", "/api/account/me", sess, "")); w.Code != http.StatusOK {
		t.Errorf("GET /api/account/me: status %d: %s", w.Code, w.Body)
	}
	if w := serve(mux, request("GET", "/api/account/me/enrollments", sess, "")); w.Code != http.StatusNotFound {
		t.Errorf("GET /api/account/me/enrollments: status %d", w.Code)
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(allRoutes...))
	nilSource, err := bff.New(f.client, func(*http.Request) (oauth2.TokenSource, error) { return nil, nil }, bff.Allow(bff.ReadProfile))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := bff.New(f.client, func(*http.Request) (oauth2.TokenSource, error) {
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "not a jwt"}), nil
	}, bff.Allow(bff.ReadProfile))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		h *bff.Handler
		r *http.Request
	}{
		"no cookie":       {h, request("GET", "/me", "", "")},
		"unknown session": {h, request("PATCH", "/me/metadata", "nobody", `{"theme": "dark"}`)},
		"bearer ignored":  {h, withHeader(request("GET", "/me", "", ""), "Authorization", "Bearer "+f.tn.AccessToken(alice, allScopes...))},
		"nil source":      {nilSource, request("GET", "/me", "", "")},
		"unusable token":  {expired, request("GET", "/me", "", "")},
	} {
		w := serve(c.h, c.r)
		if e := errorBody(t, w); w.Code != http.StatusUnauthorized || e.Code != "unauthorized" {
			t.Errorf("%s: status %d %+v", name, w.Code, e)
		}
	}
	if n := f.sent(); n != 0 {
		t.Errorf("%d requests reached the tenant", n)
	}
}

func withHeader(r *http.Request, k, v string) *http.Request {
	r.Header.Set(k, v)
	return r
}

// TestInsufficientScope: the guard's refusal is 403 naming the scopes that
// would do, and nothing is sent.
func TestInsufficientScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(allRoutes...))
	sess := f.signIn(alice, "read:current_user")
	w := serve(h, request("PATCH", "/me/metadata", sess, `{"theme": "dark"}`))
	e := errorBody(t, w)
	if w.Code != http.StatusForbidden || e.Code != "insufficient_scope" ||
		!slices.Equal(e.Scopes, []string{"update:current_user_metadata", "create:current_user_metadata"}) {
		t.Errorf("status %d %+v", w.Code, e)
	}
	if n := f.sent(); n != 0 {
		t.Errorf("%d requests reached the tenant", n)
	}
}

// TestAuth0ErrorsMapped: Auth0's failures become the Handler's codes, and
// Auth0's own texts are not passed on.
func TestAuth0ErrorsMapped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status     int
		want       int
		code       string
		retryAfter bool
	}{
		{http.StatusBadRequest, http.StatusBadRequest, "invalid_request", false},
		{http.StatusUnauthorized, http.StatusUnauthorized, "unauthorized", false},
		{http.StatusForbidden, http.StatusForbidden, "forbidden", false},
		{http.StatusNotFound, http.StatusNotFound, "not_found", false},
		{http.StatusTooManyRequests, http.StatusTooManyRequests, "rate_limited", true},
		{http.StatusInternalServerError, http.StatusBadGateway, "upstream_error", false},
		{http.StatusServiceUnavailable, http.StatusBadGateway, "upstream_error", false},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			client, err := api.New(f.tn.Domain(), oauth2.StaticTokenSource(&oauth2.Token{}),
				api.WithBaseURL(f.tn.BaseURL()), api.WithHTTPClient(f.tn.Client()), api.WithoutRetries())
			if err != nil {
				t.Fatal(err)
			}
			f.client = client
			h := f.handler(t, bff.Allow(bff.WriteMetadata))
			f.tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Status: c.status})
			w := serve(h, request("PATCH", "/me/metadata", f.signIn(alice, allScopes...), `{"theme": "dark"}`))
			raw := w.Body.String()
			e := errorBody(t, w)
			if w.Code != c.want || e.Code != c.code {
				t.Errorf("status %d %+v, want %d %s", w.Code, e, c.want, c.code)
			}
			if (w.Header().Get("Retry-After") != "") != c.retryAfter {
				t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
			}
			for _, auth0Text := range []string{"statusCode", "errorCode", "Bad Request", "Unauthorized", "Internal Server Error", "Service Unavailable", "Too Many Requests"} {
				if strings.Contains(raw, auth0Text) {
					t.Errorf("body %s passes on Auth0's %q", raw, auth0Text)
				}
			}
		})
	}
}

func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(allRoutes...), bff.WithTrustedOrigins("https://app.example"))
	sess := f.signIn(alice, allScopes...)
	changes := []struct{ method, path, body string }{
		{"PATCH", "/me/metadata", `{"theme": "dark"}`},
		{"POST", "/me/identities", `{"id_token": "x"}`},
		{"DELETE", "/me/identities/github/sec", ""},
		{"POST", "/me/device-credentials", `{"device_name": "d", "device_id": "ab", "value": "v"}`},
		{"DELETE", "/me/device-credentials/dcr_1", ""},
	}
	for _, c := range changes {
		for name, set := range map[string]func(*http.Request){
			"Sec-Fetch-Site cross-site": func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
			"Sec-Fetch-Site same-site":  func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-site") },
			"Origin of another host": func(r *http.Request) {
				r.Header.Del("Sec-Fetch-Site")
				r.Header.Set("Origin", "https://evil.example")
			},
		} {
			r := request(c.method, c.path, sess, c.body)
			set(r)
			w := serve(h, r)
			if e := errorBody(t, w); w.Code != http.StatusForbidden || e.Code != "cross_origin" {
				t.Errorf("%s %s, %s: status %d %+v", c.method, c.path, name, w.Code, e)
			}
		}
	}
	if n := f.sent(); n != 0 {
		t.Errorf("%d requests reached the tenant", n)
	}
	// A trusted origin passes; so does a cross-site GET, which changes
	// nothing.
	r := request("PATCH", "/me/metadata", sess, `{"theme": "dark"}`)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://app.example")
	if w := serve(h, r); w.Code != http.StatusOK {
		t.Errorf("trusted origin: status %d: %s", w.Code, w.Body)
	}
	r = request("GET", "/me", sess, "")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := serve(h, r); w.Code != http.StatusOK {
		t.Errorf("cross-site GET: status %d: %s", w.Code, w.Body)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(allRoutes...))
	sess := f.signIn(alice, "read:current_user")
	for _, r := range []*http.Request{
		request("GET", "/me", sess, ""),
		request("GET", "/nothing", sess, ""),
		request("GET", "/me", "", ""),
		request("PATCH", "/me/metadata", sess, `{"nope": 1}`),
	} {
		w := serve(h, r)
		if got := w.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s (status %d): Cache-Control %q", r.Method, r.URL, w.Code, got)
		}
		if got := w.Header().Get("Content-Type"); got != "application/json" {
			t.Errorf("%s %s (status %d): Content-Type %q", r.Method, r.URL, w.Code, got)
		}
		if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options %q", r.Method, r.URL, got)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, opts := range map[string][]bff.Option{
		"nothing allowed":        nil,
		"unknown route":          {bff.Allow("GET /users")},
		"metadata without keys":  {bff.Allow(bff.WriteMetadata)},
		"bad schema":             {bff.Allow(bff.ReadProfile), bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{"a": {Schema: `{"type": 3}`}}})},
		"schema not JSON":        {bff.Allow(bff.ReadProfile), bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{"a": {Schema: ``}}})},
		"remote reference":       {bff.Allow(bff.ReadProfile), bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{"a": {Schema: `{"$ref": "file:///etc/passwd"}`}}})},
		"key with dot":           {bff.Allow(bff.ReadProfile), bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{"a.b": {Schema: `true`}}})},
		"negative size":          {bff.Allow(bff.ReadProfile), bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{"a": {Schema: `true`, MaxSize: -1}}})},
		"bad origin":             {bff.Allow(bff.ReadProfile), bff.WithTrustedOrigins("not an origin")},
		"zero user limit":        {bff.Allow(bff.ReadProfile), bff.WithUserLimit(0, 1)},
		"nil option":             {bff.Allow(bff.ReadProfile), nil},
		"no users":               {bff.Allow(bff.ReadProfile), bff.WithMaxUsers(0)},
		"negative body size cap": {bff.Allow(bff.ReadProfile), bff.WithMaxBodySize(-1)},
	} {
		if _, err := bff.New(f.client, f.user, opts...); !errors.Is(err, bff.ErrOption) {
			t.Errorf("%s: error %v, want ErrOption", name, err)
		}
	}
	if _, err := bff.New(nil, f.user, bff.Allow(bff.ReadProfile)); !errors.Is(err, bff.ErrOption) {
		t.Errorf("nil client: error %v", err)
	}
}
