package scopeguard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

func FuzzParseClaims(f *testing.F) {
	f.Add(mint(f, userClaims(allScopes)))
	f.Add(mint(f, claims{"sub": "x", "aud": "a", "scope": []string{"a b"}}))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := scopeguard.ParseClaims(tok)
		if err != nil {
			if c != nil {
				t.Fatal("claims and error both returned")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "scopeguard: malformed token: ") {
				t.Fatalf("message %q lacks the prefix", msg)
			}
			// Messages are fixed texts; an input long enough not to be a
			// word of them must not appear, nor any long part of it.
			for part := range strings.SplitSeq(tok, ".") {
				if len(part) >= 12 && strings.Contains(msg, part) {
					t.Fatalf("message %q contains part %q of the input", msg, part)
				}
			}
			return
		}
		// Only the JWS compact form is read: a byte a base64 decoder
		// would skip (CR, LF) must not make a token valid.
		for _, b := range []byte(tok) {
			if !(b == '.' || b == '-' || b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z') {
				t.Fatalf("token with byte %q read as valid", b)
			}
		}
		// Scopes split on U+0020 alone.
		for _, s := range c.Scopes {
			if s == "" || strings.Contains(s, " ") {
				t.Fatalf("scope %q is not one scope", s)
			}
		}
	})
}

var hsKey = []byte("fuzz-key-0123456789abcdef0123456")

// FuzzRoute sends random method, path and sub through the guard and checks
// that whatever reaches the base transport is one of the templates of
// gen.Operations, with the acting-user segment decoding to exactly sub.
func FuzzRoute(f *testing.F) {
	for _, s := range [][3]string{
		{"GET", "users/me", "auth0|abc"},
		{"GET", "users/auth0%7Cabc", "auth0|abc"},
		{"PATCH", "users/me", "samlp|a/b"},
		{"GET", "users/me/enrollments", "oidc|jörg"},
		{"POST", "users/me/identities", "auth0|abc"},
		{"DELETE", "users/me/identities/google-oauth2/me", "auth0|abc"},
		{"DELETE", "users/%6De/identities/a%2Fb/..", "x"},
		{"POST", "device-credentials", "auth0|abc"},
		{"DELETE", "device-credentials/dcr_1", "auth0|abc"},
		{"GET", "users/../clients", "auth0|abc"},
		{"GET", "users/me", ".."},
		{"GET", "users/me", "a/../b"},
		{"GET", "users/%2e%2E", ".."},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, method, path, sub string) {
		u, err := url.Parse(testBase + path)
		if err != nil {
			return
		}
		c := userClaims(allScopes).with("sub", sub)
		tok := mintAlg(t, jose.HS256, hsKey, c)
		// JSON encoding may change sub (invalid UTF-8 becomes U+FFFD); the
		// token's sub is what the guard must substitute.
		if pc, err := scopeguard.ParseClaims(tok); err == nil {
			sub = pc.Subject
		}
		g, rec := newGuard(t, tok)
		req := &http.Request{Method: method, URL: u, Header: http.Header{}, Host: u.Host}
		res, err := g.RoundTrip(req)
		got := rec.got()
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("refused with %v but sent %+v", err, got)
			}
			if !strings.HasPrefix(err.Error(), "scopeguard: ") {
				t.Fatalf("message %q lacks the prefix", err)
			}
			if strings.Contains(err.Error(), tok) {
				t.Fatal("message contains the token")
			}
			return
		}
		res.Body.Close()
		if len(got) != 1 {
			t.Fatalf("sent %d requests", len(got))
		}
		sent := got[0]
		if sent.Method == "" {
			sent.Method = http.MethodGet // as net/http reads it
		}
		rest, ok := strings.CutPrefix(sent.Path, "/api/v2/")
		if !ok {
			t.Fatalf("sent path %q outside the base", sent.Path)
		}
		segs := strings.Split(rest, "/")
		matched := false
		for _, op := range gen.Operations {
			tmpl := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
			if op.Method != sent.Method || len(tmpl) != len(segs) {
				continue
			}
			ok := true
			for i, ts := range tmpl {
				if !strings.HasPrefix(ts, "{") {
					ok = ok && segs[i] == ts
					continue
				}
				v, err := url.PathUnescape(segs[i])
				if err != nil || v == "" || v == "." || v == ".." {
					t.Fatalf("sent path %q has bad parameter %q", sent.Path, segs[i])
				}
				if ts == "{"+op.UserParam+"}" && ok && v != sub {
					t.Fatalf("sent path %q: user segment decodes to %q, want sub %q", sent.Path, v, sub)
				}
			}
			matched = matched || ok
		}
		if !matched {
			t.Fatalf("%s %q sent as %s %q, which matches no template", method, path, sent.Method, sent.Path)
		}
		if sent.Auth != "Bearer "+tok {
			t.Fatal("sent without the token")
		}
	})
}
