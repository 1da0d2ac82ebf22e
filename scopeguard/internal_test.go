package scopeguard

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

const base = "https://tenant.eu.auth0.com/api/v2/"

func hsToken(t testing.TB, sub string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(map[string]any{
		"sub": sub, "aud": base, "scope": "read:current_user",
		"exp": time.Now().Add(time.Hour).Unix(),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type okRT struct{}

func (okRT) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	g, err := New(base, nil, WithBase(okRT{}), WithCacheSize(3))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		v := g.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: hsToken(t, fmt.Sprintf("auth0|u%d", i))}))
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"users/me", nil)
		if _, err := v.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if n := g.cache.len(); n > 3 {
			t.Fatalf("cache holds %d entries, bound 3", n)
		}
	}
	if n := g.cache.len(); n != 3 {
		t.Errorf("cache holds %d entries, want 3", n)
	}
}

func TestCacheSharedByViews(t *testing.T) {
	t.Parallel()
	g, err := New(base, nil, WithBase(okRT{}))
	if err != nil {
		t.Fatal(err)
	}
	tok := hsToken(t, "auth0|u")
	src := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
	for range 3 {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"users/me", nil)
		if _, err := g.WithTokenSource(src).RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries after three views of one token, want 1", n)
	}
}

func TestConcurrentViews(t *testing.T) {
	t.Parallel()
	g, err := New(base, nil, WithBase(okRT{}), WithCacheSize(2))
	if err != nil {
		t.Fatal(err)
	}
	toks := make([]string, 5)
	for i := range toks {
		toks[i] = hsToken(t, fmt.Sprintf("auth0|u%d", i))
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			v := g.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: toks[i%len(toks)]}))
			for range 50 {
				req, _ := http.NewRequest("GET", base+"users/me", nil)
				if _, err := v.RoundTrip(req); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestCheckParam(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{
		"auth0|abc": true, "a/b": true, `a\b`: true, "...": true, "a.b": true, "%2F": true,
		"": false, ".": false, "..": false, "/a": false, "a/": false, "a//b": false,
		"a/../b": false, "a/./b": false, `..\a`: false, "../": false,
	} {
		if got := checkParam(v) == ""; got != ok {
			t.Errorf("checkParam(%q) ok = %v, want %v", v, got, ok)
		}
	}
}
