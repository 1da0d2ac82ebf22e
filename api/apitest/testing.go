package apitest

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// New starts a tenant for a test, as httptest.NewServer starts a server: it
// fails the test (t.Fatal) when the tenant cannot start, and closes the
// tenant when the test and its subtests end (t.Cleanup).
//
//	tn := apitest.New(t, apitest.WithUsers(apitest.User{ID: "auth0|abc"}))
//	client, err := api.New(tn.Domain(), tn.TokenSource("auth0|abc", "read:current_user"),
//		api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client()))
func New(t testing.TB, opts ...Option) *Tenant {
	t.Helper()
	tn, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
		return nil // for a testing.TB whose Fatal returns
	}
	t.Cleanup(tn.Close)
	return tn
}

// WithUsers adds users when the tenant starts, as AddUser does; a user
// AddUser refuses makes Start fail.
func WithUsers(users ...User) Option {
	return func(c *config) error {
		c.users = append(c.users, users...)
		return nil
	}
}

// TokenSource returns a source of access tokens for sub with scopes, as
// AccessToken mints them. A token is reused until it expires (by the
// tenant's clock, 24h unless WithTokenLifetimes), then a new one is minted.
func (t *Tenant) TokenSource(sub string, scopes ...string) oauth2.TokenSource {
	scopes = append([]string(nil), scopes...)
	return oauth2.ReuseTokenSource(nil, tokenMinter{t, sub, scopes})
}

type tokenMinter struct {
	t      *Tenant
	sub    string
	scopes []string
}

func (m tokenMinter) Token() (*oauth2.Token, error) {
	claims := m.t.AccessTokenClaims(m.sub, m.scopes...)
	s, err := m.t.SignToken(claims)
	if err != nil {
		return nil, err
	}
	tok := &oauth2.Token{AccessToken: s, TokenType: "Bearer"}
	if exp, ok := claims["exp"].(int64); ok {
		// Expiry is read against time.Now; a tenant clock behind the real
		// one gives a token that looks expired and is minted afresh.
		tok.Expiry = time.Unix(exp, 0)
	}
	return tok, nil
}

// defaultKey is the signing key of every tenant started without
// WithSigningKey, generated once per process: generating a 2048-bit RSA key
// per tenant would dominate a test suite's run time. Tenants still refuse
// each other's tokens by issuer and audience, except tenants on the memory
// network, which share the domain apitest.invalid; give those
// WithSigningKey when that matters.
var defaultKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("apitest: generate signing key: %w", err)
	}
	return k, nil
})
