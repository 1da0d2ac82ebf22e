package scopeguard_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

// apiServer is a loopback server that mounts the API under /api/v2/ and
// records every request it receives, including those outside the base.
type apiServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
	// handle answers a request; nil answers 200 {}.
	handle http.HandlerFunc
}

func newAPIServer(t *testing.T, handle http.HandlerFunc) *apiServer {
	t.Helper()
	s := &apiServer{handle: handle}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, received{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Auth: r.Header.Get("Authorization")})
		s.mu.Unlock()
		if s.handle != nil {
			s.handle(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if strings.HasSuffix(r.URL.Path, "/enrollments") || strings.Contains(r.URL.Path, "/identities") {
			io.WriteString(w, `[]`)
			return
		}
		io.WriteString(w, `{"user_id":"auth0|abc","email":"a@example.com"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) got() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.reqs...)
}

func (s *apiServer) base() string { return s.URL + "/api/v2/" }

// audFor returns the Management API audience of a loopback server.
func audFor(s *httptest.Server) string {
	return "https://" + strings.TrimPrefix(s.URL, "http://") + "/api/v2/"
}

func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, nil)
	tok := mint(t, userClaims(allScopes).with("aud", audFor(srv.Server)))
	guard, err := scopeguard.New(srv.base(), static(tok), scopeguard.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	c, err := gen.NewClientWithResponses(srv.base(), gen.WithHTTPClient(&http.Client{Transport: guard}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	res, err := c.GetUsersByIDWithResponse(ctx, scopeguard.Me, nil)
	if err != nil {
		t.Fatalf("GetUsersByID(Me): %v", err)
	}
	if res.StatusCode() != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode())
	}
	if _, err := c.GetUsersByIDWithResponse(ctx, testSub, nil); err != nil {
		t.Fatalf("GetUsersByID(sub): %v", err)
	}
	if _, err := c.GetEnrollmentsWithResponse(ctx, scopeguard.Me); err != nil {
		t.Fatalf("GetEnrollments(Me): %v", err)
	}
	if _, err := c.DeleteUserIdentityByUserIDWithResponse(ctx, scopeguard.Me, gen.UserIdentityProviderEnum("google-oauth2"), "me"); err != nil {
		t.Fatalf("DeleteUserIdentityByUserID(Me): %v", err)
	}
	_, err = c.GetUsersByIDWithResponse(ctx, "auth0|other", nil)
	if !errors.Is(err, scopeguard.ErrSubjectMismatch) {
		t.Errorf("GetUsersByID(other) err = %v, want ErrSubjectMismatch", err)
	}
	_, err = c.DeleteDeviceCredentialsByIDWithResponse(ctx, "..")
	if !errors.Is(err, scopeguard.ErrUnknownOperation) && !errors.Is(err, scopeguard.ErrInvalidParameter) {
		t.Errorf("DeleteDeviceCredentialsByID(..) err = %v, want a refusal", err)
	}

	want := []received{
		{Method: "GET", Path: "/api/v2/users/auth0%7Cabc", Auth: "Bearer " + tok},
		{Method: "GET", Path: "/api/v2/users/auth0%7Cabc", Auth: "Bearer " + tok},
		{Method: "GET", Path: "/api/v2/users/auth0%7Cabc/enrollments", Auth: "Bearer " + tok},
		{Method: "DELETE", Path: "/api/v2/users/auth0%7Cabc/identities/google-oauth2/me", Auth: "Bearer " + tok},
	}
	if diff := cmp.Diff(want, srv.got()); diff != "" {
		t.Errorf("server received (-want +got):\n%s", diff)
	}
}

func TestRedirectToOtherHost(t *testing.T) {
	t.Parallel()
	other := newAPIServer(t, nil)
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	})
	tok := mint(t, userClaims(allScopes).with("aud", audFor(srv.Server)))
	guard, err := scopeguard.New(srv.base(), static(tok), scopeguard.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: guard}
	res, err := client.Get(srv.base() + "users/me")
	if err == nil {
		res.Body.Close()
		t.Fatal("redirect to another host was followed")
	}
	checkRefusal(t, err, scopeguard.ErrForeignHost, tok)
	var he *scopeguard.HostError
	if !errors.As(err, &he) || he.Host != strings.TrimPrefix(other.URL, "http://") {
		t.Errorf("err = %#v, want a *HostError naming the other host", err)
	}
	if got := other.got(); len(got) != 0 {
		t.Errorf("other host received %+v, want nothing", got)
	}
	if got := srv.got(); len(got) != 1 || got[0].Auth != "Bearer "+tok {
		t.Errorf("API server received %+v, want one request with the token", got)
	}
}

func TestRedirectSameHost(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v2/users/auth0|abc":
			http.Redirect(w, r, "/api/v2/users/me/enrollments", http.StatusFound)
		case "/api/v2/users/auth0|abc/enrollments":
			http.Redirect(w, r, "/api/v2/clients", http.StatusFound)
		}
	})
	tok := mint(t, userClaims(allScopes).with("aud", audFor(srv.Server)))
	guard, err := scopeguard.New(srv.base(), static(tok), scopeguard.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&http.Client{Transport: guard}).Get(srv.base() + "users/me")
	checkRefusal(t, err, scopeguard.ErrUnknownOperation, tok)
	var paths []string
	for _, r := range srv.got() {
		paths = append(paths, r.Path)
	}
	if diff := cmp.Diff([]string{"/api/v2/users/auth0%7Cabc", "/api/v2/users/auth0%7Cabc/enrollments"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

// TestTokenNotInErrors makes every kind of refusal, with the token or its
// parts in the request path and in the claims where possible, and checks
// that no message holds the token or a part of it.
func TestTokenNotInErrors(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, nil)
	aud := audFor(srv.Server)
	cases := []struct {
		name   string
		claims claims
		method string
		path   string // {tok} and {sig} are replaced by the token and its signature
		want   error
	}{
		{"scope", userClaims("openid").with("aud", aud), "PATCH", "users/me", scopeguard.ErrInsufficientScope},
		{"subject", userClaims(allScopes).with("aud", aud), "GET", "users/{sig}", scopeguard.ErrSubjectMismatch},
		{"subject whole token", userClaims(allScopes).with("aud", aud), "GET", "users/{tok}", scopeguard.ErrSubjectMismatch},
		{"unknown", userClaims(allScopes).with("aud", aud), "GET", "clients/{tok}", scopeguard.ErrUnknownOperation},
		{"param", userClaims(allScopes).with("aud", aud), "DELETE", "device-credentials/{sig}%2F..", scopeguard.ErrInvalidParameter},
		{"audience", userClaims(allScopes).with("aud", []string{"https://other/api/v2/"}), "GET", "users/{sig}", scopeguard.ErrAudience},
		{"expired", userClaims(allScopes).with("aud", aud, "exp", 1), "GET", "users/{sig}", scopeguard.ErrTokenExpired},
		{"admin", userClaims(allScopes).with("aud", aud, "gty", "client-credentials"), "GET", "users/{sig}", scopeguard.ErrAdminToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := mint(t, tc.claims)
			sig := tok[strings.LastIndexByte(tok, '.')+1:]
			guard, err := scopeguard.New(srv.base(), static(tok), scopeguard.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: guard}
			p := strings.NewReplacer("{tok}", tok, "{sig}", sig).Replace(tc.path)
			for _, target := range []string{srv.base() + p, srv.base() + p + "?x=" + tok} {
				req, _ := http.NewRequestWithContext(t.Context(), tc.method, target, strings.NewReader("{}"))
				_, err := client.Do(req)
				checkRefusal(t, err, tc.want, tok)
			}
		})
	}
	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		good := mint(t, userClaims(allScopes))
		for _, tok := range []string{
			"not-a-jwt-but-a-long-secret-value",
			"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA",
			good[:len(good)-10] + "!!!",
			strings.Replace(good, ".", "..", 1),
			good + "." + good,
		} {
			guard, err := scopeguard.New(srv.base(), static(tok))
			if err != nil {
				t.Fatal(err)
			}
			_, err = (&http.Client{Transport: guard}).Get(srv.base() + "users/me")
			checkRefusal(t, err, scopeguard.ErrMalformedToken, tok)
		}
	})
	t.Cleanup(func() {
		if got := srv.got(); len(got) != 0 {
			t.Errorf("server received %d requests, want none", len(got))
		}
	})
}
