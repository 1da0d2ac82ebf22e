package api_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
)

// A program reads and updates the signed-in user. Here the tenant is
// apitest's, in process; against Auth0 it would be
// api.New("example.eu.auth0.com", ts) with ts the token source of the
// user's sign-in, such as an oauth2.Config's TokenSource.
func Example() {
	tenant, err := apitest.Start(apitest.WithUsers(apitest.User{ID: "auth0|alice", Email: "alice@example.com",
		UserMetadata: map[string]any{"theme": "light"},
		Enrollments:  []apitest.Enrollment{{ID: "sms|dev_1", Status: "confirmed", AuthMethod: "sms"}}}))
	if err != nil {
		log.Fatal(err)
	}
	defer tenant.Close()
	ts := tenant.TokenSource("auth0|alice", "read:current_user", "update:current_user_metadata")
	client, err := api.New(tenant.Domain(), ts, api.WithBaseURL(tenant.BaseURL())) // plain http on loopback
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	user, err := client.Me(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserID, user.Email, user.UserMetadata["theme"])

	enrollments, err := client.Enrollments(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range enrollments {
		fmt.Println(e.ID, e.Status, e.AuthMethod)
	}

	// "theme": nil removes the key; "lang" is added.
	user, err = client.UpdateMetadata(ctx, map[string]any{"theme": nil, "lang": "fr"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserMetadata)
	// Output:
	// auth0|alice alice@example.com light
	// sms|dev_1 confirmed sms
	// map[lang:fr]
}

func ExampleClient_LinkIdentity() {
	tenant, err := apitest.Start(apitest.WithUsers(
		apitest.User{ID: "auth0|alice", Email: "alice@example.com"},
		apitest.User{ID: "google-oauth2|bob", Email: "bob@example.com"}))
	if err != nil {
		log.Fatal(err)
	}
	defer tenant.Close()
	ts := tenant.TokenSource("auth0|alice", "update:current_user_identities")
	client, err := api.New(tenant.Domain(), ts, api.WithBaseURL(tenant.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// The ID token proves the user also holds the secondary account.
	identities, err := client.LinkIdentity(ctx, tenant.IDToken("google-oauth2|bob"))
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range identities {
		fmt.Println(id.Provider, id.UserID, id.ProfileData.Email)
	}

	identities, err = client.UnlinkIdentity(ctx, "google-oauth2", "bob")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(identities), identities[0].Provider)
	// Output:
	// auth0 alice alice@example.com
	// google-oauth2 bob bob@example.com
	// 1 auth0
}

func ExampleClient_CreateDeviceCredential() {
	tenant, err := apitest.Start(apitest.WithUsers(apitest.User{ID: "auth0|alice", Email: "alice@example.com"}))
	if err != nil {
		log.Fatal(err)
	}
	defer tenant.Close()
	ts := tenant.TokenSource("auth0|alice", "create:current_user_device_credentials", "delete:current_user_device_credentials")
	client, err := api.New(tenant.Domain(), ts, api.WithBaseURL(tenant.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	id, err := client.CreateDeviceCredential(ctx, api.DeviceCredential{
		DeviceName: "Alice's phone",
		DeviceID:   "3f2a9c1e-0b7d-4e55-a1c2-9d8e7f6a5b4c",
		Value:      "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tenant.DeviceCredentials("auth0|alice")))

	if err := client.DeleteDeviceCredential(ctx, id); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tenant.DeviceCredentials("auth0|alice")))
	// Output:
	// 1
	// 0
}

func ExampleClient_ForToken() {
	tenant, err := apitest.Start(apitest.WithUsers(
		apitest.User{ID: "auth0|alice", Email: "alice@example.com"},
		apitest.User{ID: "google-oauth2|bob", Email: "bob@example.com"}))
	if err != nil {
		log.Fatal(err)
	}
	defer tenant.Close()
	client, err := api.New(tenant.Domain(), tenant.TokenSource("auth0|alice", "read:current_user"), api.WithBaseURL(tenant.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}

	// One Client serves many users: each view shares the connection pool,
	// the rate-limit model and the claims cache.
	bob := client.ForToken(tenant.TokenSource("google-oauth2|bob", "read:current_user"))
	user, err := bob.Me(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.Email)
	// Output: bob@example.com
}

// Errors from the server are *api.Error values; refusals by the guard,
// made before anything is sent, match api's sentinels and *api.ScopeError.
// Both work with errors.Is and errors.As.
func ExampleError() {
	tenant, err := apitest.Start(apitest.WithUsers(apitest.User{ID: "auth0|alice", Email: "alice@example.com"}))
	if err != nil {
		log.Fatal(err)
	}
	defer tenant.Close()
	client, err := api.New(tenant.Domain(), tenant.TokenSource("auth0|alice", "read:current_user"), api.WithBaseURL(tenant.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}

	_, err = client.UpdateMetadata(context.Background(), map[string]any{"a": 1})
	var scopeErr *api.ScopeError
	if errors.Is(err, api.ErrInsufficientScope) && errors.As(err, &scopeErr) {
		fmt.Println("refused before sending; need any of", scopeErr.AnyOf)
	}

	ghost := client.ForToken(tenant.TokenSource("auth0|ghost", "read:current_user"))
	_, err = ghost.Me(context.Background())
	var apiErr *api.Error
	if errors.As(err, &apiErr) && errors.Is(err, api.ErrNotFound) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// refused before sending; need any of [update:current_user_metadata create:current_user_metadata]
	// 404 inexistent_user
}
