package scopeguard_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

// A guard wraps the generated client; Me stands for the signed-in user.
// Refusals are matched with errors.Is and errors.As.
func Example() {
	// In a program the source refreshes the user's token, e.g.
	// oauth2.ReuseTokenSource(tok, cfg.TokenSource(ctx, tok)).
	var src oauth2.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: exampleToken})
	guard, err := scopeguard.New("https://tenant.eu.auth0.com/api/v2/", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := gen.NewClientWithResponses("https://tenant.eu.auth0.com/api/v2/",
		gen.WithHTTPClient(&http.Client{Transport: guard}))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The token only has read:current_user: the PATCH is refused in-process.
	_, err = c.PatchUsersByIDWithResponse(ctxBackground, scopeguard.Me, gen.PatchUsersByIDJSONRequestBody{})
	var se *scopeguard.ScopeError
	if errors.As(err, &se) {
		fmt.Println(se.Operation, "needs one of", se.AnyOf)
	}
	// Another user's id is refused before scopes are looked at.
	_, err = c.GetUsersByIDWithResponse(ctxBackground, "auth0|someone-else", nil)
	fmt.Println(errors.Is(err, scopeguard.ErrSubjectMismatch))
	// Output:
	// patch_users_by_id needs one of [update:current_user_metadata create:current_user_metadata]
	// true
}

var ctxBackground = context.Background()

// exampleToken is an HS256 test token for tenant.eu.auth0.com with sub
// auth0|abc, scope read:current_user, and no exp.
const exampleToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL3RlbmFudC5ldS5hdXRoMC5jb20vIiwic3ViIjoiYXV0aDB8YWJjIiwiYXVkIjoiaHR0cHM6Ly90ZW5hbnQuZXUuYXV0aDAuY29tL2FwaS92Mi8iLCJhenAiOiJleGFtcGxlIiwic2NvcGUiOiJyZWFkOmN1cnJlbnRfdXNlciJ9.aMmQxsTsadbdsrBFqvH-F4bQx1RACTesLTQNuOp0s8g"
