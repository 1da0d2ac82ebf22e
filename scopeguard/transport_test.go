package scopeguard_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/scopeguard"
)

const allScopes = "openid profile read:current_user update:current_user_metadata update:current_user_identities create:current_user_device_credentials delete:current_user_device_credentials"

func TestNew(t *testing.T) {
	t.Parallel()
	src := static("x")
	tests := []struct {
		name string
		base string
		opts []scopeguard.Option
		want error
	}{
		{"https", "https://tenant.eu.auth0.com/api/v2/", nil, nil},
		{"https without trailing slash", "https://tenant.eu.auth0.com/api/v2", nil, nil},
		{"https with port", "https://tenant.eu.auth0.com:8443/api/v2/", nil, nil},
		{"http loopback v4", "http://127.0.0.1:8080/api/v2/", nil, nil},
		{"http loopback 127/8", "http://127.1.2.3/api/v2/", nil, nil},
		{"http loopback v6", "http://[::1]:8080/api/v2/", nil, nil},
		{"http localhost", "http://LocalHost:8080/api/v2/", nil, nil},
		{"http remote", "http://tenant.eu.auth0.com/api/v2/", nil, scopeguard.ErrBaseURL},
		{"http localhost suffix", "http://localhost.evil.example/api/v2/", nil, scopeguard.ErrBaseURL},
		{"http 10/8", "http://10.0.0.1/api/v2/", nil, scopeguard.ErrBaseURL},
		{"ftp", "ftp://tenant.eu.auth0.com/api/v2/", nil, scopeguard.ErrBaseURL},
		{"no scheme", "tenant.eu.auth0.com/api/v2/", nil, scopeguard.ErrBaseURL},
		{"empty", "", nil, scopeguard.ErrBaseURL},
		{"unparsable", "https://ten ant/%zz", nil, scopeguard.ErrBaseURL},
		{"user info", "https://u:p@tenant.eu.auth0.com/api/v2/", nil, scopeguard.ErrBaseURL},
		{"query", "https://tenant.eu.auth0.com/api/v2/?x=1", nil, scopeguard.ErrBaseURL},
		{"fragment", "https://tenant.eu.auth0.com/api/v2/#x", nil, scopeguard.ErrBaseURL},
		{"escaped path", "https://tenant.eu.auth0.com/api%2Fv2/", nil, scopeguard.ErrBaseURL},
		{"dot segment", "https://tenant.eu.auth0.com/api/../v2/", nil, scopeguard.ErrBaseURL},
		{"nil base is fine", testBase, []scopeguard.Option{scopeguard.WithBase(nil)}, nil},
		{"nil clock", testBase, []scopeguard.Option{scopeguard.WithClock(nil)}, scopeguard.ErrOption},
		{"negative leeway", testBase, []scopeguard.Option{scopeguard.WithLeeway(-time.Second)}, scopeguard.ErrOption},
		{"huge leeway", testBase, []scopeguard.Option{scopeguard.WithLeeway(time.Hour)}, scopeguard.ErrOption},
		{"zero leeway", testBase, []scopeguard.Option{scopeguard.WithLeeway(0)}, nil},
		{"cache size 0", testBase, []scopeguard.Option{scopeguard.WithCacheSize(0)}, scopeguard.ErrOption},
		{"cache size 1", testBase, []scopeguard.Option{scopeguard.WithCacheSize(1)}, nil},
		{"nil option", testBase, []scopeguard.Option{nil}, scopeguard.ErrOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := scopeguard.New(tt.base, src, tt.opts...)
			if tt.want == nil {
				if err != nil || g == nil {
					t.Fatalf("New(%q) = %v, %v; want a Transport", tt.base, g, err)
				}
				return
			}
			if g != nil || !errors.Is(err, tt.want) {
				t.Fatalf("New(%q) = %v, %v; want errors.Is %v", tt.base, g, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "scopeguard: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
}

// TestRules drives one request per rule through a guard over a recorder and
// checks what reached the recorder: for a refusal nothing, and the body
// closed; for a pass, the substituted path and the token.
func TestRules(t *testing.T) {
	t.Parallel()
	base := userClaims(allScopes)
	tests := []struct {
		name     string
		claims   claims // nil: base
		token    string // raw token instead of claims
		method   string
		url      string // below testBase unless it has a scheme
		edit     func(*http.Request)
		opts     []scopeguard.Option
		want     error  // nil: sent
		wantPath string // path the server received, escaped
	}{
		// Substitution and explicit ids.
		{name: "me substituted", method: "GET", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "explicit sub", method: "GET", url: "users/auth0%7Cabc", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "explicit sub unescaped pipe", method: "GET", url: "users/auth0|abc", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "escaped me", method: "GET", url: "users/%6De", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "query kept", method: "GET", url: "users/me?fields=email&include_fields=true", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "enrollments", method: "GET", url: "users/me/enrollments", wantPath: "/api/v2/users/auth0%7Cabc/enrollments"},
		{name: "patch", method: "PATCH", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "patch with create metadata scope only", claims: base.with("scope", "create:current_user_metadata"), method: "PATCH", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "link", method: "POST", url: "users/me/identities", wantPath: "/api/v2/users/auth0%7Cabc/identities"},
		{name: "unlink user_id me not substituted", method: "DELETE", url: "users/me/identities/google-oauth2/me", wantPath: "/api/v2/users/auth0%7Cabc/identities/google-oauth2/me"},
		{name: "unlink explicit", method: "DELETE", url: "users/auth0%7Cabc/identities/auth0/63d1", wantPath: "/api/v2/users/auth0%7Cabc/identities/auth0/63d1"},
		{name: "unlink me with escaped user_id", method: "DELETE", url: "users/me/identities/samlp/a%7Cb%2Fc", wantPath: "/api/v2/users/auth0%7Cabc/identities/samlp/a%7Cb%2Fc"},
		{name: "create device credential", method: "POST", url: "device-credentials", wantPath: "/api/v2/device-credentials"},
		{name: "delete device credential", method: "DELETE", url: "device-credentials/dcr_1", wantPath: "/api/v2/device-credentials/dcr_1"},
		{name: "sub with slash", claims: base.with("sub", "samlp|conn|a/b c"), method: "GET", url: "users/me/enrollments", wantPath: "/api/v2/users/samlp%7Cconn%7Ca%2Fb%20c/enrollments"},
		{name: "explicit sub with slash", claims: base.with("sub", "samlp|a/b"), method: "GET", url: "users/samlp%7Ca%2Fb", wantPath: "/api/v2/users/samlp%7Ca%2Fb"},
		{name: "unicode sub", claims: base.with("sub", "oidc|jörg"), method: "GET", url: "users/me", wantPath: "/api/v2/users/oidc%7Cj%C3%B6rg"},
		{name: "default port written", method: "GET", url: "https://tenant.eu.auth0.com:443/api/v2/users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "upper case host", method: "GET", url: "https://TENANT.eu.auth0.com/api/v2/users/me", wantPath: "/api/v2/users/auth0%7Cabc"},

		// Token sanity that passes.
		{name: "expired within leeway", claims: base.with("exp", now.Add(-29*time.Second).Unix()), method: "GET", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "no exp", claims: base.with("exp", nil), method: "GET", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "aud string", claims: base.with("aud", testAud), method: "GET", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "refreshed token gty", claims: base.with("gty", "refresh_token"), method: "GET", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},
		{name: "HS256 token read", token: "hs256", method: "GET", url: "users/me", wantPath: "/api/v2/users/auth0%7Cabc"},

		// Where the token may go.
		{name: "other host", method: "GET", url: "https://evil.example/api/v2/users/me", want: scopeguard.ErrForeignHost},
		{name: "suffix host", method: "GET", url: "https://tenant.eu.auth0.com.evil.example/api/v2/users/me", want: scopeguard.ErrForeignHost},
		{name: "plain http", method: "GET", url: "http://tenant.eu.auth0.com/api/v2/users/me", want: scopeguard.ErrForeignHost},
		{name: "other port", method: "GET", url: "https://tenant.eu.auth0.com:8443/api/v2/users/me", want: scopeguard.ErrForeignHost},
		{name: "Request.Host differs", method: "GET", url: "users/me", edit: func(r *http.Request) { r.Host = "evil.example" }, want: scopeguard.ErrForeignHost},

		// Token sanity.
		{name: "expired", claims: base.with("exp", now.Add(-31*time.Second).Unix()), method: "GET", url: "users/me", want: scopeguard.ErrTokenExpired},
		{name: "expired no leeway", claims: base.with("exp", now.Add(-time.Second).Unix()), opts: []scopeguard.Option{scopeguard.WithLeeway(0)}, method: "GET", url: "users/me", want: scopeguard.ErrTokenExpired},
		{name: "other tenant aud", claims: base.with("aud", "https://other.eu.auth0.com/api/v2/"), method: "GET", url: "users/me", want: scopeguard.ErrAudience},
		{name: "userinfo aud only", claims: base.with("aud", []string{"https://tenant.eu.auth0.com/userinfo"}), method: "GET", url: "users/me", want: scopeguard.ErrAudience},
		{name: "http aud", claims: base.with("aud", "http://tenant.eu.auth0.com/api/v2/"), method: "GET", url: "users/me", want: scopeguard.ErrAudience},
		{name: "no aud", claims: base.with("aud", nil), method: "GET", url: "users/me", want: scopeguard.ErrAudience},
		{name: "client credentials gty", claims: base.with("gty", "client-credentials"), method: "GET", url: "users/me", want: scopeguard.ErrAdminToken},
		{name: "clients sub", claims: base.with("sub", "abc@clients"), method: "GET", url: "users/abc@clients", want: scopeguard.ErrAdminToken},
		{name: "no sub", claims: base.with("sub", nil), method: "GET", url: "users/me", want: scopeguard.ErrAdminToken},
		{name: "malformed token", token: "not-a-jwt", method: "GET", url: "users/me", want: scopeguard.ErrMalformedToken},
		{name: "three garbage parts", token: "abc.def.ghi", method: "GET", url: "users/me", want: scopeguard.ErrMalformedToken},

		// Route.
		{name: "list users", method: "GET", url: "users", want: scopeguard.ErrUnknownOperation},
		{name: "delete user", method: "DELETE", url: "users/me", want: scopeguard.ErrUnknownOperation},
		{name: "put user", method: "PUT", url: "users/me", want: scopeguard.ErrUnknownOperation},
		{name: "lower case method", method: "get", url: "users/me", want: scopeguard.ErrUnknownOperation},
		{name: "clients", method: "GET", url: "clients", want: scopeguard.ErrUnknownOperation},
		{name: "trailing slash", method: "GET", url: "users/me/", want: scopeguard.ErrUnknownOperation},
		{name: "extra segment", method: "GET", url: "users/me/enrollments/x", want: scopeguard.ErrUnknownOperation},
		{name: "base only", method: "GET", url: "", want: scopeguard.ErrUnknownOperation},
		{name: "outside base", method: "GET", url: "https://tenant.eu.auth0.com/api/v1/users/me", want: scopeguard.ErrUnknownOperation},
		{name: "root", method: "GET", url: "https://tenant.eu.auth0.com/", want: scopeguard.ErrUnknownOperation},
		{name: "escaped literal", method: "GET", url: "%75sers/me", want: scopeguard.ErrUnknownOperation},
		{name: "escaped slash joins segments", method: "GET", url: "users%2Fme", want: scopeguard.ErrUnknownOperation},
		{name: "device credentials list", method: "GET", url: "device-credentials", want: scopeguard.ErrUnknownOperation},

		// Path parameters.
		{name: "empty id", method: "GET", url: "users//enrollments", want: scopeguard.ErrInvalidParameter},
		{name: "dot id", method: "GET", url: "users/./enrollments", want: scopeguard.ErrInvalidParameter},
		{name: "dotdot id", method: "GET", url: "users/../enrollments", want: scopeguard.ErrInvalidParameter},
		{name: "escaped dotdot id", method: "GET", url: "users/%2E%2E/enrollments", want: scopeguard.ErrInvalidParameter},
		{name: "dotdot device credential", method: "DELETE", url: "device-credentials/..", want: scopeguard.ErrInvalidParameter},
		{name: "empty device credential", method: "DELETE", url: "device-credentials/", want: scopeguard.ErrInvalidParameter},
		{name: "traversal in device credential", method: "DELETE", url: "device-credentials/a%2F..%2F..%2Fclients", want: scopeguard.ErrInvalidParameter},
		{name: "backslash traversal", method: "DELETE", url: "device-credentials/..%5Cclients", want: scopeguard.ErrInvalidParameter},
		{name: "dotdot provider", method: "DELETE", url: "users/me/identities/../x", want: scopeguard.ErrInvalidParameter},
		{name: "dotdot user_id", method: "DELETE", url: "users/me/identities/auth0/%2e%2e", want: scopeguard.ErrInvalidParameter},
		{name: "sub that is not one segment", claims: base.with("sub", "auth0|a/../b"), method: "GET", url: "users/me", want: scopeguard.ErrInvalidParameter},

		// Subject, before scopes.
		{name: "other user", method: "GET", url: "users/auth0%7Cother", want: scopeguard.ErrSubjectMismatch},
		{name: "other user without scopes", claims: base.with("scope", "openid"), method: "PATCH", url: "users/auth0%7Cother", want: scopeguard.ErrSubjectMismatch},
		{name: "sub prefix", method: "GET", url: "users/auth0%7Cab", want: scopeguard.ErrSubjectMismatch},
		{name: "sub case", method: "GET", url: "users/AUTH0%7Cabc", want: scopeguard.ErrSubjectMismatch},
		{name: "unlink other primary", method: "DELETE", url: "users/auth0%7Cother/identities/auth0/abc", want: scopeguard.ErrSubjectMismatch},

		// Scopes.
		{name: "read without scope", claims: base.with("scope", "update:current_user_metadata"), method: "GET", url: "users/me", want: scopeguard.ErrInsufficientScope},
		{name: "admin scope name is not current user", claims: base.with("scope", "read:users"), method: "GET", url: "users/me", want: scopeguard.ErrInsufficientScope},
		{name: "patch without scope", claims: base.with("scope", "read:current_user"), method: "PATCH", url: "users/me", want: scopeguard.ErrInsufficientScope},
		{name: "device credential without scope", claims: base.with("scope", "openid profile email"), method: "POST", url: "device-credentials", want: scopeguard.ErrInsufficientScope},
		{name: "no scope claim", claims: base.with("scope", nil), method: "POST", url: "users/me/identities", want: scopeguard.ErrInsufficientScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.claims
			if c == nil {
				c = base
			}
			tok := tt.token
			switch tok {
			case "":
				tok = mint(t, c)
			case "hs256":
				tok = mintAlg(t, "HS256", []byte("0123456789abcdef0123456789abcdef"), c)
			}
			g, rec := newGuard(t, tok, tt.opts...)
			target := tt.url
			if !strings.Contains(target, "://") {
				target = testBase + target
			}
			b := newBody(`{"user_metadata":{}}`)
			req, err := http.NewRequestWithContext(t.Context(), tt.method, target, b)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer caller-value")
			if tt.edit != nil {
				tt.edit(req)
			}
			res, err := g.RoundTrip(req)
			got := rec.got()
			if tt.want != nil {
				if res != nil {
					t.Errorf("RoundTrip returned a response with error %v", err)
				}
				checkRefusal(t, err, tt.want, tok)
				if len(got) != 0 {
					t.Errorf("server received %+v, want nothing", got)
				}
				if !b.closed.Load() {
					t.Error("request body not closed")
				}
				return
			}
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			res.Body.Close()
			if len(got) != 1 {
				t.Fatalf("server received %d requests, want 1", len(got))
			}
			want := received{Method: tt.method, Path: tt.wantPath, RawQuery: req.URL.RawQuery, Auth: "Bearer " + tok}
			if diff := cmp.Diff(want, got[0], cmpIgnoreHeader); diff != "" {
				t.Errorf("received (-want +got):\n%s", diff)
			}
			if n := len(got[0].Header.Values("Authorization")); n != 1 {
				t.Errorf("%d Authorization headers, want 1", n)
			}
		})
	}
}

var cmpIgnoreHeader = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Header" }, cmp.Ignore())

func TestScopeErrorDetail(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims("openid read:current_user"))
	rec := &recorder{}
	g, err := scopeguard.New(testBase, static(tok), scopeguard.WithBase(rec), scopeguard.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: g}
	req, _ := http.NewRequestWithContext(t.Context(), "PATCH", testBase+"users/me", strings.NewReader("{}"))
	_, err = client.Do(req)
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("err = %T %v, want a *url.Error from http.Client", err, err)
	}
	var se *scopeguard.ScopeError
	if !errors.As(err, &se) || !errors.Is(err, scopeguard.ErrInsufficientScope) {
		t.Fatalf("err = %v, want a *ScopeError matching ErrInsufficientScope", err)
	}
	want := &scopeguard.ScopeError{
		Operation: "patch_users_by_id",
		AnyOf:     []string{"update:current_user_metadata", "create:current_user_metadata"},
		Granted:   []string{"openid", "read:current_user"},
	}
	if diff := cmp.Diff(want, se); diff != "" {
		t.Errorf("ScopeError (-want +got):\n%s", diff)
	}
	if len(rec.got()) != 0 {
		t.Error("server received the refused request")
	}
}

func TestSubjectErrorDetail(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	g, rec := newGuard(t, tok)
	client := &http.Client{Transport: g}
	_, err := client.Get(testBase + "users/google-oauth2%7C123/enrollments")
	var se *scopeguard.SubjectError
	if !errors.As(err, &se) || !errors.Is(err, scopeguard.ErrSubjectMismatch) {
		t.Fatalf("err = %v, want a *SubjectError matching ErrSubjectMismatch", err)
	}
	want := &scopeguard.SubjectError{Operation: "get_enrollments", Subject: testSub, Requested: "google-oauth2|123"}
	if diff := cmp.Diff(want, se); diff != "" {
		t.Errorf("SubjectError (-want +got):\n%s", diff)
	}
	if len(rec.got()) != 0 {
		t.Error("server received the refused request")
	}
}

func TestTokenSource(t *testing.T) {
	t.Parallel()
	cause := errors.New("refresh failed")
	tests := []struct {
		name  string
		src   oauth2.TokenSource
		cause error
	}{
		{"error", errSource{cause}, cause},
		{"nil token", funcSource(func() (*oauth2.Token, error) { return nil, nil }), nil},
		{"empty token", static(""), nil},
		{"not bearer", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x.y.z", TokenType: "DPoP"}), nil},
		{"nil source", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			g, err := scopeguard.New(testBase, tt.src, scopeguard.WithBase(rec))
			if err != nil {
				t.Fatal(err)
			}
			b := newBody("{}")
			req, _ := http.NewRequestWithContext(t.Context(), "PATCH", testBase+"users/me", b)
			_, err = g.RoundTrip(req)
			checkRefusal(t, err, scopeguard.ErrTokenSource, "")
			var tse *scopeguard.TokenSourceError
			if !errors.As(err, &tse) {
				t.Errorf("err = %T, want *TokenSourceError", err)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("err = %v, want it to wrap the source's error", err)
			}
			if len(rec.got()) != 0 || !b.closed.Load() {
				t.Errorf("sent %d requests, body closed %v; want 0, true", len(rec.got()), b.closed.Load())
			}
			if _, err := g.Claims(t.Context()); !errors.Is(err, scopeguard.ErrTokenSource) {
				t.Errorf("Claims err = %v, want ErrTokenSource", err)
			}
		})
	}
}

// TestForeignHostTakesNoToken checks that a request for another host is
// refused before the token source is asked.
func TestForeignHostTakesNoToken(t *testing.T) {
	t.Parallel()
	calls := 0
	src := funcSource(func() (*oauth2.Token, error) {
		calls++
		return &oauth2.Token{AccessToken: "x"}, nil
	})
	g, err := scopeguard.New(testBase, src, scopeguard.WithBase(&recorder{}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://evil.example/api/v2/users/me", nil)
	if _, err := g.RoundTrip(req); !errors.Is(err, scopeguard.ErrForeignHost) {
		t.Fatalf("err = %v, want ErrForeignHost", err)
	}
	if calls != 0 {
		t.Errorf("token source called %d times, want 0", calls)
	}
}

func TestRequestNotModified(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	g, rec := newGuard(t, tok)
	for _, target := range []string{"users/me", "users/me/identities/auth0/x", "users/auth0%7Cabc", "users/other"} {
		req, _ := http.NewRequestWithContext(t.Context(), "DELETE", testBase+target, nil)
		if strings.HasPrefix(target, "users/me/") {
			req.Method = "DELETE"
		} else {
			req.Method = "GET"
		}
		req.Header.Set("Authorization", "Basic caller")
		req.Header["authorization"] = []string{"lower"}
		req.Header.Set("X-Correlation-ID", "c1")
		beforeURL := *req.URL
		beforeHeader := req.Header.Clone()
		beforeReq := *req
		res, err := g.RoundTrip(req)
		if err == nil {
			res.Body.Close()
		}
		if diff := cmp.Diff(beforeURL, *req.URL, cmp.AllowUnexported(url.URL{})); diff != "" {
			t.Errorf("%s: URL changed (-before +after):\n%s", target, diff)
		}
		if diff := cmp.Diff(beforeHeader, req.Header); diff != "" {
			t.Errorf("%s: header changed (-before +after):\n%s", target, diff)
		}
		if req.Method != beforeReq.Method || req.Host != beforeReq.Host || req.URL != beforeReq.URL {
			t.Errorf("%s: request fields changed", target)
		}
	}
	got := rec.got()
	if len(got) != 3 {
		t.Fatalf("server received %d requests, want 3", len(got))
	}
	for _, r := range got {
		want := http.Header{"Authorization": {"Bearer " + tok}, "X-Correlation-Id": {"c1"}}
		if diff := cmp.Diff(want, r.Header); diff != "" {
			t.Errorf("sent header (-want +got):\n%s", diff)
		}
	}
}

func TestStatusIsNotAnError(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	base := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusForbidden, Body: http.NoBody}, nil
	})
	g, err := scopeguard.New(testBase, static(tok), scopeguard.WithBase(base), scopeguard.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
	res, err := g.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("RoundTrip = %v, %v; want the 403 response and no error", res, err)
	}
	baseErr := errors.New("dial failed")
	g2, _ := scopeguard.New(testBase, static(tok), scopeguard.WithClock(clock), scopeguard.WithBase(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, baseErr
	})))
	if _, err := g2.RoundTrip(req); err != baseErr {
		t.Errorf("RoundTrip err = %v, want the base transport's error unchanged", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestViewsShareConfiguration(t *testing.T) {
	t.Parallel()
	alice := mint(t, userClaims("read:current_user").with("sub", "auth0|alice"))
	bob := mint(t, userClaims("read:current_user").with("sub", "auth0|bob"))
	g, rec := newGuard(t, alice)
	vb := g.WithTokenSource(static(bob))
	for _, tr := range []*scopeguard.Transport{g, vb, g, vb} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	var paths []string
	for _, r := range rec.got() {
		paths = append(paths, r.Path)
	}
	want := []string{"/api/v2/users/auth0%7Calice", "/api/v2/users/auth0%7Cbob", "/api/v2/users/auth0%7Calice", "/api/v2/users/auth0%7Cbob"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	c, err := vb.Claims(t.Context())
	if err != nil || c.Subject != "auth0|bob" || c.AuthorizedParty != "client123" {
		t.Fatalf("Claims = %+v, %v; want bob's claims", c, err)
	}
	c.Scopes[0] = "changed"
	c2, _ := vb.Claims(t.Context())
	if c2.Scopes[0] != "read:current_user" {
		t.Error("Claims returned the cached claims, not a copy")
	}
}

func TestSubjectOf(t *testing.T) {
	t.Parallel()
	alice := mint(t, userClaims("read:current_user").with("sub", "auth0|alice"))
	bob := mint(t, userClaims("read:current_user").with("sub", "auth0|bob"))
	g, _ := newGuard(t, alice)
	vb := g.WithTokenSource(static(bob))
	for _, tr := range []*scopeguard.Transport{g, vb} {
		// Any view reads any token: the token is the argument, not the
		// view's source.
		for tok, want := range map[string]string{alice: "auth0|alice", bob: "auth0|bob"} {
			if sub, err := tr.SubjectOf(tok); err != nil || sub != want {
				t.Errorf("SubjectOf = %q, %v; want %q", sub, err, want)
			}
		}
	}
	if _, err := g.SubjectOf(alice + "\n"); !errors.Is(err, scopeguard.ErrMalformedToken) {
		t.Errorf("SubjectOf(token with a newline) err = %v, want ErrMalformedToken", err)
	}
}

func TestClaimsContext(t *testing.T) {
	t.Parallel()
	g, _ := newGuard(t, mint(t, userClaims(allScopes)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := g.Claims(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Claims(cancelled) err = %v, want context.Canceled", err)
	}
}
