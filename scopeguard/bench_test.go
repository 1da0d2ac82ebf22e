package scopeguard_test

import (
	"net/http"
	"testing"

	"github.com/auth0me/auth0me/scopeguard"
)

// cannedRT answers every request with a copy of the same response, without
// network, so that the benchmarks measure the guard alone.
type cannedRT struct{ res *http.Response }

func (c cannedRT) RoundTrip(*http.Request) (*http.Response, error) {
	res := *c.res
	return &res, nil
}

func benchRequest(b *testing.B, rt http.RoundTripper, target string) {
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := rt.RoundTrip(req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGuard(b *testing.B) (*scopeguard.Transport, cannedRT) {
	base := cannedRT{res: &http.Response{StatusCode: 200, Body: http.NoBody}}
	tok := mint(b, userClaims(allScopes))
	g, err := scopeguard.New(testBase, static(tok), scopeguard.WithBase(base), scopeguard.WithClock(clock))
	if err != nil {
		b.Fatal(err)
	}
	return g, base
}

// BenchmarkBare is one GET /users/me through the in-memory transport alone.
func BenchmarkBare(b *testing.B) {
	_, base := benchGuard(b)
	benchRequest(b, base, testBase+"users/me")
}

// BenchmarkGuarded is the same request through the guard, token cached.
func BenchmarkGuarded(b *testing.B) {
	g, _ := benchGuard(b)
	benchRequest(b, g, testBase+"users/me")
}

// BenchmarkGuardedExplicitSub names the user by its sub instead of Me.
func BenchmarkGuardedExplicitSub(b *testing.B) {
	g, _ := benchGuard(b)
	benchRequest(b, g, testBase+"users/auth0%7Cabc")
}

// BenchmarkGuardedUnlink substitutes Me in a path with other parameters.
func BenchmarkGuardedUnlink(b *testing.B) {
	g, _ := benchGuard(b)
	req, _ := http.NewRequest("DELETE", testBase+"users/me/identities/google-oauth2/123", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuardedViews rotates through many per-user views over one
// cache, as the api layer does.
func BenchmarkGuardedViews(b *testing.B) {
	g, _ := benchGuard(b)
	views := make([]*scopeguard.Transport, 64)
	for i := range views {
		views[i] = g.WithTokenSource(static(mint(b, userClaims(allScopes))))
	}
	req, _ := http.NewRequest("GET", testBase+"users/me", nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := views[i%len(views)].RoundTrip(req); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkParallel is the guarded request from all Ps at once.
func BenchmarkParallel(b *testing.B) {
	g, _ := benchGuard(b)
	req, _ := http.NewRequest("GET", testBase+"users/me", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := g.RoundTrip(req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
