package scopeguard

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
	"unsafe"

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
		if n := g.s.cache.len(); n > 3 {
			t.Fatalf("cache holds %d entries, bound 3", n)
		}
	}
	if n := g.s.cache.len(); n != 3 {
		t.Errorf("cache holds %d entries, want 3", n)
	}
}

func TestCacheSharedAndHitAllocFree(t *testing.T) {
	// Not parallel: testing.AllocsPerRun refuses parallel tests.
	tok := hsToken(t, "auth0|abc")
	g, err := New(base, nil, WithBase(okRT{}))
	if err != nil {
		t.Fatal(err)
	}
	src := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
	e1, err := g.WithTokenSource(src).current()
	if err != nil {
		t.Fatal(err)
	}
	e2, err := g.WithTokenSource(src).current()
	if err != nil {
		t.Fatal(err)
	}
	if e1 != e2 {
		t.Error("two views decoded the same token into two entries")
	}
	if n := testing.AllocsPerRun(100, func() { g.s.cache.get(tok) }); n != 0 {
		t.Errorf("cache hit allocates %v times", n)
	}
}

var sink *Transport

func TestViewIsSmall(t *testing.T) {
	// Not parallel: testing.AllocsPerRun refuses parallel tests.
	g, err := New(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if size := unsafe.Sizeof(Transport{}); size > 64 {
		t.Errorf("Transport is %d bytes, want at most 64", size)
	}
	src := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})
	if n := testing.AllocsPerRun(100, func() { sink = g.WithTokenSource(src) }); n != 1 {
		t.Errorf("WithTokenSource allocates %v times, want 1", n)
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
