package scopeguard_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/auth0me/auth0me/scopeguard"
)

// Regression tests for the hardening of issue 12: each case was let through
// or refused wrongly before.

func TestTokenOutsideCompactFormIsMalformed(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	for _, bad := range []string{tok + "\n", tok + "\r\n", "\n" + tok, tok + " ", tok + "\t",
		strings.Replace(tok, ".", ".\n", 1), tok + "=", strings.Replace(tok, "-", "+", 1) + "+/", tok + "\x00"} {
		if c, err := scopeguard.ParseClaims(bad); !errors.Is(err, scopeguard.ErrMalformedToken) {
			t.Errorf("ParseClaims(%q) = %+v, %v; want ErrMalformedToken", bad, c, err)
		}
		g, rec := newGuard(t, bad)
		req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
		if _, err := g.RoundTrip(req); !errors.Is(err, scopeguard.ErrMalformedToken) {
			t.Errorf("RoundTrip with token %q: err = %v, want ErrMalformedToken", bad, err)
		}
		if n := len(rec.got()); n != 0 {
			t.Errorf("token %q: %d requests sent, want 0", bad, n)
		}
	}
}

func TestAudienceComparedExactly(t *testing.T) {
	t.Parallel()
	for _, aud := range []string{"https://tenant.eu.auth0.com/API/V2/", "https://TENANT.eu.auth0.com/api/v2/", "HTTPS://tenant.eu.auth0.com/api/v2/"} {
		tok := mint(t, userClaims(allScopes).with("aud", aud))
		if c, err := scopeguard.ParseClaims(tok); err != nil || c.HasAudience(testAud) {
			t.Errorf("HasAudience(%q) with aud %q = true or %v", testAud, aud, err)
		}
		g, rec := newGuard(t, tok)
		req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
		_, err := g.RoundTrip(req)
		checkRefusal(t, err, scopeguard.ErrAudience, tok)
		if n := len(rec.got()); n != 0 {
			t.Errorf("aud %q: %d requests sent, want 0", aud, n)
		}
	}
}

func TestScopesSplitOnSpaceOnly(t *testing.T) {
	t.Parallel()
	for _, scope := range []string{"foo\tread:current_user", "foo\u00a0read:current_user", "foo\u2003read:current_user", "foo\nread:current_user", "\u3000read:current_user"} {
		tok := mint(t, userClaims(scope))
		c, err := scopeguard.ParseClaims(tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.HasScope("read:current_user") {
			t.Errorf("scope %q grants read:current_user; scopes %q", scope, c.Scopes)
		}
		g, rec := newGuard(t, tok)
		req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
		_, err = g.RoundTrip(req)
		checkRefusal(t, err, scopeguard.ErrInsufficientScope, tok)
		if n := len(rec.got()); n != 0 {
			t.Errorf("scope %q: %d requests sent, want 0", scope, n)
		}
	}
	c, err := scopeguard.ParseClaims(mint(t, userClaims("  a  read:current_user ")))
	if err != nil || !c.HasScope("read:current_user") || len(c.Scopes) != 2 {
		t.Errorf("spaces: scopes %q, %v; want [a read:current_user]", c.Scopes, err)
	}
}

func TestParametersCheckedBeforeSubject(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	for _, target := range []string{
		"users/auth0%7Cother/identities/%2e%2e/x",
		"users/auth0%7Cother/identities/auth0/..",
		"users/auth0%7Cother/identities/a%2F..%2Fb/x",
	} {
		g, rec := newGuard(t, tok)
		req, _ := http.NewRequestWithContext(t.Context(), "DELETE", testBase+target, nil)
		_, err := g.RoundTrip(req)
		checkRefusal(t, err, scopeguard.ErrInvalidParameter, tok)
		if n := len(rec.got()); n != 0 {
			t.Errorf("%s: %d requests sent, want 0", target, n)
		}
	}
}

func TestRequestHostWithDefaultPort(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	for _, host := range []string{"tenant.eu.auth0.com:443", "TENANT.eu.auth0.com:443", "tenant.eu.auth0.com"} {
		g, rec := newGuard(t, tok)
		req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
		req.Host = host
		res, err := g.RoundTrip(req)
		if err != nil {
			t.Errorf("Request.Host %q: %v", host, err)
			continue
		}
		res.Body.Close()
		if n := len(rec.got()); n != 1 {
			t.Errorf("Request.Host %q: %d requests sent, want 1", host, n)
		}
	}
	for _, host := range []string{"tenant.eu.auth0.com:8443", "tenant.eu.auth0.com:80", "evil.example:443"} {
		g, _ := newGuard(t, tok)
		req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
		req.Host = host
		_, err := g.RoundTrip(req)
		checkRefusal(t, err, scopeguard.ErrForeignHost, tok)
	}
}

func TestResponseCarriesCallersRequest(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	g, _ := newGuard(t, tok)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", testBase+"users/me", nil)
	res, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request != req {
		t.Errorf("resp.Request = %p, want the caller's request %p", res.Request, req)
	}
	if a := res.Request.Header.Get("Authorization"); a != "" {
		t.Errorf("resp.Request carries Authorization %q", a)
	}
}

func TestRequestWithoutHeader(t *testing.T) {
	t.Parallel()
	tok := mint(t, userClaims(allScopes))
	g, rec := newGuard(t, tok)
	req := (&http.Request{Method: "GET"}).WithContext(t.Context())
	req.URL, _ = url.Parse(testBase + "users/me")
	res, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := rec.got(); len(got) != 1 || got[0].Auth != "Bearer "+tok {
		t.Errorf("received %+v, want one request with the token", got)
	}
	if req.Header != nil {
		t.Error("the caller's request got a header map")
	}
}
