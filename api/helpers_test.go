package api_test

import (
	"testing"

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

// testUsers are the users of every test tenant: alice, bob and carol.
var testUsers = apitest.WithUsers(
	apitest.User{ID: alice, Email: "alice@example.com", UserMetadata: map[string]any{"color": "blue"}},
	apitest.User{ID: bob, Email: "bob@example.com"},
	apitest.User{ID: carol, Email: "carol@example.com", UserMetadata: map[string]any{"lost": true}},
)

// newClient returns a client acting as sub with scopes on tn.
func newClient(t testing.TB, tn *apitest.Tenant, sub string, scopes []string, opts ...api.Option) *api.Client {
	t.Helper()
	c, err := api.New(tn.Domain(), tn.TokenSource(sub, scopes...), append([]api.Option{api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
