package apitest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api/apitest"
)

func ExampleStart() {
	tn, err := apitest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tn.Close()
	tn.AddUser(apitest.User{ID: "auth0|abc", Email: "abc@example.com", UserMetadata: map[string]any{"theme": "dark"}})

	req, _ := http.NewRequest("GET", tn.BaseURL()+"users/auth0%7Cabc", nil)
	req.Header.Set("Authorization", "Bearer "+tn.AccessToken("auth0|abc", "read:current_user"))
	res, err := tn.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.Status)
	fmt.Println(strings.Contains(string(body), `"user_metadata":{"theme":"dark"}`))
	// Output:
	// 200 OK
	// true
}

func ExampleTenant_InjectFault() {
	tn, err := apitest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tn.Close()
	tn.AddUser(apitest.User{ID: "auth0|abc"})
	tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Status: http.StatusServiceUnavailable, Times: 1})

	patch := func() {
		req, _ := http.NewRequest("PATCH", tn.BaseURL()+"users/auth0%7Cabc", strings.NewReader(`{"user_metadata":{"a":1}}`))
		req.Header.Set("Authorization", "Bearer "+tn.AccessToken("auth0|abc", "update:current_user_metadata"))
		res, err := tn.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(res.StatusCode)
	}
	patch()
	patch()
	u, _ := tn.User("auth0|abc")
	fmt.Println(u.UserMetadata)
	// Output:
	// 503
	// 200
	// map[a:1]
}

func ExampleWithRateLimit() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tn, err := apitest.Start(apitest.WithRateLimit(2, 2), apitest.WithClock(func() time.Time { return now }))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tn.Close()
	tn.AddUser(apitest.User{ID: "auth0|abc"})
	token := tn.AccessToken("auth0|abc", "read:current_user")
	for range 3 {
		req, _ := http.NewRequest("GET", tn.BaseURL()+"users/auth0%7Cabc", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := tn.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("X-RateLimit-Limit"), res.Header.Get("X-RateLimit-Remaining"),
			res.Header.Get("X-RateLimit-Reset") == fmt.Sprint(now.Unix()+1))
	}
	// Output:
	// 200 2 1 true
	// 200 2 0 true
	// 429 2 0 true
}

func ExampleTenant_SignToken() {
	tn, err := apitest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tn.Close()
	claims := tn.AccessTokenClaims("auth0|abc", "read:current_user")
	claims["exp"] = time.Now().Add(-time.Minute).Unix()
	expired, _ := tn.SignToken(claims)

	req, _ := http.NewRequest("GET", tn.BaseURL()+"users/auth0%7Cabc", nil)
	req.Header.Set("Authorization", "Bearer "+expired)
	res, err := tn.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	// Output:
	// 401 {"statusCode":401,"error":"Unauthorized","message":"Expired token received for JSON Web Token validation","attributes":{"error":"Expired token received for JSON Web Token validation"}}
}

// A PKCE login with golang.org/x/oauth2 against the tenant: the login user
// approves at once, and the token carries only the current-user scopes asked
// for.
func ExampleWithLoginUser() {
	tn, err := apitest.Start(apitest.WithLoginUser("auth0|abc"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tn.Close()
	tn.AddUser(apitest.User{ID: "auth0|abc", Email: "abc@example.com"})

	conf := &oauth2.Config{
		ClientID:    tn.ClientID(),
		Endpoint:    oauth2.Endpoint{AuthURL: tn.URL() + "/authorize", TokenURL: tn.URL() + "/oauth/token"},
		RedirectURL: "http://127.0.0.1:8910/callback",
		Scopes:      []string{"openid", "offline_access", "read:current_user", "read:users"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("some-state", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("audience", tn.Audience()))

	// A browser would follow the redirect to the callback; read it instead.
	noFollow := *tn.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := noFollow.Get(authURL)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	cb, _ := url.Parse(res.Header.Get("Location"))

	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tn.Client())
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cb.Query().Get("state"), tok.Extra("scope"), tok.RefreshToken != "", tok.Extra("id_token") != nil)
	// Output:
	// some-state read:current_user true true
}

// A page served from http://localhost:5173 may call the tenant from a
// browser: the preflight is answered without a token.
func ExampleWithAllowedOrigins() {
	tn, err := apitest.Start(apitest.WithAllowedOrigins("http://localhost:5173"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tn.Close()

	req, _ := http.NewRequest("OPTIONS", tn.BaseURL()+"users/auth0%7Cabc", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "PATCH")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res, err := tn.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.Status)
	fmt.Println(res.Header.Get("Access-Control-Allow-Origin"))
	fmt.Println(res.Header.Get("Access-Control-Allow-Headers"))
	// Output:
	// 204 No Content
	// http://localhost:5173
	// Authorization, Content-Type, Auth0-Client
}

// A client outside Go trusts a WithTLS tenant through CertificatePEM, e.g.
// Node with NODE_EXTRA_CA_CERTS pointing at the file; here a Go client that
// trusts nothing else.
func ExampleTenant_CertificatePEM() {
	tn, err := apitest.Start(apitest.WithTLS())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tn.Close()
	pem := tn.CertificatePEM() // write it to a file for NODE_EXTRA_CA_CERTS or curl --cacert

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	res, err := c.Get(tn.URL() + "/.well-known/jwks.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(strings.HasPrefix(string(pem), "-----BEGIN CERTIFICATE-----"), res.Status)
	// Output: true 200 OK
}
