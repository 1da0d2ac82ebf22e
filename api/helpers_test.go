package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
)

const (
	alice = "auth0|alice"
	bob   = "auth0|bob"
	carol = "google-oauth2|carol"
)

var allScopes = []string{
	"read:current_user", "update:current_user_identities", "update:current_user_metadata",
	"create:current_user_metadata", "create:current_user_device_credentials", "delete:current_user_device_credentials",
}

// sharedKey is the signing key of every tenant of the test binary: RSA key
// generation is the slowest part of starting one.
var sharedKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func signingKey(testing.TB) *rsa.PrivateKey { return sharedKey() }

// startTenant starts a tenant holding alice, bob and carol.
func startTenant(t testing.TB, opts ...apitest.Option) *apitest.Tenant {
	t.Helper()
	tn, err := apitest.Start(append([]apitest.Option{apitest.WithSigningKey(signingKey(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tn.Close)
	for _, u := range []apitest.User{
		{ID: alice, Email: "alice@example.com", UserMetadata: map[string]any{"color": "blue"}},
		{ID: bob, Email: "bob@example.com"},
		{ID: carol, Email: "carol@example.com", UserMetadata: map[string]any{"lost": true}},
	} {
		if err := tn.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

// newClient returns a client acting as sub with scopes on tn.
func newClient(t testing.TB, tn *apitest.Tenant, sub string, scopes []string, opts ...api.Option) *api.Client {
	t.Helper()
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tn.AccessToken(sub, scopes...)})
	c, err := api.New(tn.Domain(), ts, append([]api.Option{api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
