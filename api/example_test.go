package api_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/scopeguard"
)

// exampleClient starts an in-process tenant holding alice and bob, and
// returns a client acting as alice with the given scopes. Against a real
// tenant it would be:
//
//	client, err := api.New("example.eu.auth0.com", tokenSource)
func exampleClient(scopes ...string) (*api.Client, *apitest.Tenant) {
	tenant, err := apitest.Start(apitest.WithSigningKey(sharedKey()))
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range []apitest.User{
		{ID: "auth0|alice", Email: "alice@example.com", UserMetadata: map[string]any{"theme": "light"}},
		{ID: "google-oauth2|bob", Email: "bob@example.com"},
	} {
		if err := tenant.AddUser(u); err != nil {
			log.Fatal(err)
		}
	}
	token := tenant.AccessToken("auth0|alice", scopes...)
	client, err := api.New(tenant.Domain(),
		oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}),
		api.WithBaseURL(tenant.BaseURL())) // the tenant serves plain http on loopback
	if err != nil {
		log.Fatal(err)
	}
	return client, tenant
}

func ExampleNew() {
	tenant, err := apitest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer tenant.Close()
	if err := tenant.AddUser(apitest.User{ID: "auth0|alice", Email: "alice@example.com"}); err != nil {
		log.Fatal(err)
	}
	// In a program the token comes from the user's sign-in, for example an
	// oauth2.Config's TokenSource.
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tenant.AccessToken("auth0|alice", "read:current_user")})

	client, err := api.New(tenant.Domain(), ts, api.WithBaseURL(tenant.BaseURL()))
	if err != nil {
		log.Fatal(err)
	}
	user, err := client.Me(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserID, user.Email)
	// Output: auth0|alice alice@example.com
}

func ExampleClient_Me() {
	client, tenant := exampleClient("read:current_user")
	defer tenant.Close()

	user, err := client.Me(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserID, user.UserMetadata["theme"])
	// Output: auth0|alice light
}

func ExampleClient_Enrollments() {
	client, tenant := exampleClient("read:current_user")
	defer tenant.Close()
	_ = tenant.SetEnrollments("auth0|alice", []apitest.Enrollment{{ID: "sms|dev_1", Status: "confirmed", AuthMethod: "sms"}})

	enrollments, err := client.Enrollments(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range enrollments {
		fmt.Println(e.ID, e.Status, e.AuthMethod)
	}
	// Output: sms|dev_1 confirmed sms
}

func ExampleClient_UpdateMetadata() {
	client, tenant := exampleClient("update:current_user_metadata")
	defer tenant.Close()

	// "theme": nil removes the key; "lang" is added.
	user, err := client.UpdateMetadata(context.Background(), map[string]any{"theme": nil, "lang": "fr"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserMetadata)
	// Output: map[lang:fr]
}

func ExampleClient_LinkIdentity() {
	client, tenant := exampleClient("update:current_user_identities")
	defer tenant.Close()

	// The ID token proves the user also holds the secondary account.
	identities, err := client.LinkIdentity(context.Background(), tenant.IDToken("google-oauth2|bob"))
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range identities {
		fmt.Println(id.Provider, id.UserID)
	}
	// Output:
	// auth0 alice
	// google-oauth2 bob
}

func ExampleClient_UnlinkIdentity() {
	client, tenant := exampleClient("update:current_user_identities")
	defer tenant.Close()
	ctx := context.Background()
	if _, err := client.LinkIdentity(ctx, tenant.IDToken("google-oauth2|bob")); err != nil {
		log.Fatal(err)
	}

	identities, err := client.UnlinkIdentity(ctx, "google-oauth2", "bob")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(identities), identities[0].Provider)
	// Output: 1 auth0
}

func ExampleClient_CreateDeviceCredential() {
	client, tenant := exampleClient("create:current_user_device_credentials")
	defer tenant.Close()

	id, err := client.CreateDeviceCredential(context.Background(), api.DeviceCredential{
		DeviceName: "Alice's phone",
		DeviceID:   "3f2a9c1e-0b7d-4e55-a1c2-9d8e7f6a5b4c",
		Value:      "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tenant.DeviceCredentials("auth0|alice")), id == tenant.DeviceCredentials("auth0|alice")[0].ID)
	// Output: 1 true
}

func ExampleClient_DeleteDeviceCredential() {
	client, tenant := exampleClient("create:current_user_device_credentials", "delete:current_user_device_credentials")
	defer tenant.Close()
	ctx := context.Background()
	id, err := client.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "tablet", DeviceID: "ab12", Value: "a2V5"})
	if err != nil {
		log.Fatal(err)
	}

	if err := client.DeleteDeviceCredential(ctx, id); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tenant.DeviceCredentials("auth0|alice")))
	// Output: 0
}

func ExampleClient_ForToken() {
	client, tenant := exampleClient("read:current_user")
	defer tenant.Close()

	// One Client serves many users: each view shares the connection pool,
	// the rate-limit model and the claims cache.
	bob := client.ForToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tenant.AccessToken("google-oauth2|bob", "read:current_user")}))
	user, err := bob.Me(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.Email)
	// Output: bob@example.com
}

// Errors from the server are *api.Error values; refusals by the guard keep
// scopeguard's errors. Both work with errors.Is and errors.As.
func ExampleError() {
	client, tenant := exampleClient("read:current_user")
	defer tenant.Close()

	_, err := client.UpdateMetadata(context.Background(), map[string]any{"a": 1})
	var scopeErr *scopeguard.ScopeError
	if errors.As(err, &scopeErr) {
		fmt.Println("refused before sending; need any of", scopeErr.AnyOf)
	}

	ghost := client.ForToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tenant.AccessToken("auth0|ghost", "read:current_user")}))
	_, err = ghost.Me(context.Background())
	var apiErr *api.Error
	if errors.As(err, &apiErr) && errors.Is(err, api.ErrNotFound) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// refused before sending; need any of [update:current_user_metadata create:current_user_metadata]
	// 404 inexistent_user
}
