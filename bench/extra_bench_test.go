package bench_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/auth0me/auth0me/bench"
	"github.com/auth0me/auth0me/scopeguard"
)

// BenchmarkGuard sends the same request through the recorded in-memory
// transport bare (with the Authorization header and the user id already
// in place) and through scopeguard (which checks host, token, route,
// subject and scope, substitutes "me" and sets the header). The
// difference is the guard's cost per request.
func BenchmarkGuard(b *testing.B) {
	m := memory(b)
	sub := url.PathEscape(m.f.UserID)
	auth := "Bearer " + m.f.AccessToken
	reqs := []struct{ name, method, guarded, bare string }{
		{"Me", http.MethodGet, "users/me", "users/" + sub},
		{"UnlinkIdentity", http.MethodDelete, "users/me/identities/auth0/" + m.f.SecondaryUserID, "users/" + sub + "/identities/auth0/" + m.f.SecondaryUserID},
	}
	for _, r := range reqs {
		b.Run("op="+r.name, func(b *testing.B) {
			b.Run("rt=bare", func(b *testing.B) {
				roundTrips(b, m.rec, r.method, m.f.BaseURL+r.bare, auth)
			})
			b.Run("rt=scopeguard", func(b *testing.B) {
				g, err := scopeguard.New(m.f.BaseURL, bench.StaticToken(m.f.AccessToken), scopeguard.WithBase(m.rec))
				if err != nil {
					b.Fatal(err)
				}
				roundTrips(b, g, r.method, m.f.BaseURL+r.guarded, "")
			})
		})
	}
}

func roundTrips(b *testing.B, rt http.RoundTripper, method, u, auth string) {
	ctx := context.Background()
	do := func() {
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			b.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode/100 != 2 {
			b.Fatalf("%s %s: %s", method, u, resp.Status)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	do() // the guard decodes the token once; that is BenchmarkFirstCall's
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		do()
	}
}

// tokenPool holds tokens of distinct users, minted once per process.
var tokenPool struct {
	sync.Mutex
	tokens, ids []string
}

// pooledTokens returns at least n tokens of distinct users, minting more
// with the in-memory fixture's tenant when needed.
func pooledTokens(tb testing.TB, m *memFixture, n int) ([]string, []string) {
	tb.Helper()
	tokenPool.Lock()
	defer tokenPool.Unlock()
	if len(tokenPool.tokens) < n {
		tokens, ids, err := bench.MintTokens(m.tn, n)
		if err != nil {
			tb.Fatal(err)
		}
		tokenPool.tokens, tokenPool.ids = tokens, ids
	}
	return tokenPool.tokens[:n], tokenPool.ids[:n]
}

// BenchmarkFirstCall times serving a user not seen before: making the
// user's Client (auth0me: a ForToken view; go-auth0 v1 and v3: a
// Management each; v3 per-call: nothing) and its first call (Me), in
// memory. Every iteration uses a new token, so run it with a fixed
// -benchtime=Nx; tokens are minted beforehand, off the clock.
func BenchmarkFirstCall(b *testing.B) {
	m := memory(b)
	for _, lib := range bench.MultiUserLibraries {
		b.Run("lib="+string(lib), func(b *testing.B) {
			tokens, ids := pooledTokens(b, m, b.N)
			cfg := m.f.Config()
			cfg.HTTPClient = m.client()
			users, err := bench.NewUsers(lib, cfg, 0)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				c, err := users.User(tokens[i], ids[i])
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Me(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// manyUsers is the number of distinct users BenchmarkManyUsers serves.
const manyUsers = 10000

// BenchmarkManyUsers serves 10,000 distinct users at once, in memory, and
// reports the live heap per user's Client (B/view) and what one call per
// user added (B/cached: auth0me's claims cache entry). ns/op is the time
// for the whole run. Run it with -benchtime=1x.
func BenchmarkManyUsers(b *testing.B) {
	m := memory(b)
	tokens, ids := pooledTokens(b, m, manyUsers)
	cfg := m.f.Config()
	for _, lib := range bench.MultiUserLibraries {
		b.Run("lib="+string(lib), func(b *testing.B) {
			var use bench.MemoryUse
			for range b.N {
				u, err := bench.ManyUsers(lib, cfg, m.client(), tokens, ids)
				if err != nil {
					b.Fatal(err)
				}
				use = u
			}
			b.ReportMetric(use.PerView, "B/view")
			b.ReportMetric(use.PerCached, "B/cached")
		})
	}
}
