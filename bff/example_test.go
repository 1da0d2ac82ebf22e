package bff_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bff"
)

// A back end mounts the Handler at /api/account/. The user function finds
// the signed-in user's token in the application's session; here a map
// keyed by a cookie stands in for it, and apitest for the tenant.
func ExampleNew() {
	tenant, err := apitest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer tenant.Close()
	if err := tenant.AddUser(apitest.User{ID: "auth0|alice", Email: "alice@example.com",
		UserMetadata: map[string]any{"theme": "light", "internal_score": 42}}); err != nil {
		log.Fatal(err)
	}
	sessions := map[string]oauth2.TokenSource{
		"s3cr3t-session-id": oauth2.StaticTokenSource(&oauth2.Token{
			AccessToken: tenant.AccessToken("auth0|alice", "read:current_user", "update:current_user_metadata"),
		}),
	}

	// One Client for every user; its own token source is never used.
	client, err := api.New(tenant.Domain(), oauth2.StaticTokenSource(&oauth2.Token{}),
		api.WithBaseURL(tenant.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	h, err := bff.New(client,
		func(r *http.Request) (oauth2.TokenSource, error) {
			c, err := r.Cookie("session")
			if err != nil {
				return nil, err
			}
			return sessions[c.Value], nil // nil: not signed in
		},
		bff.Allow(bff.ReadProfile, bff.WriteMetadata),
		bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{
			"theme": {Schema: `{"enum": ["light", "dark"]}`},
		}}))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/account/", http.StripPrefix("/api/account", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// What the single-page app sends.
	call := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "session", Value: "s3cr3t-session-id"})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Print(resp.StatusCode, " ", string(b))
	}
	call("PATCH", "/api/account/me/metadata", `{"theme": "dark"}`)
	call("PATCH", "/api/account/me/metadata", `{"internal_score": 100}`)
	call("PATCH", "/api/account/me/metadata", `{"theme": "neon"}`)
	// Output:
	// 200 {"email":"alice@example.com","email_verified":false,"identities":[{"connection":"Username-Password-Authentication","provider":"auth0","user_id":"alice"}],"name":"alice@example.com","nickname":"alice","user_id":"auth0|alice","user_metadata":{"theme":"dark"}}
	// 400 {"error":"metadata_key_not_allowed","message":"user_metadata key \"internal_score\" is not one the application allows","key":"internal_score"}
	// 400 {"error":"metadata_value_invalid","message":"the value of \"theme\" is refused: at '': value must be one of 'light', 'dark'","key":"theme"}
}
