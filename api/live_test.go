//go:build live

package api_test

import (
	"os"
	"testing"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
)

// TestLive runs the read-only operations against a real tenant:
//
//	AUTH0_DOMAIN=example.eu.auth0.com AUTH0_TOKEN=ey... go test -tags live -run TestLive ./api/
func TestLive(t *testing.T) {
	domain, token := os.Getenv("AUTH0_DOMAIN"), os.Getenv("AUTH0_TOKEN")
	if domain == "" || token == "" {
		t.Skip("set AUTH0_DOMAIN and AUTH0_TOKEN (a user-scoped token with read:current_user) to run the live test")
	}
	c, err := api.New(domain, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	claims, err := c.Claims(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if u.UserID != claims.Subject {
		t.Errorf("Me returned user %q, token subject %q", u.UserID, claims.Subject)
	}
	if _, err := c.Enrollments(t.Context()); err != nil {
		t.Fatal(err)
	}
}
