// Command bff is an example web app that serves a signed-in user's account
// page through package bff, so that the user's Management API token never
// reaches the browser: the safe way to do what Auth0's page "Get
// Management API Access Tokens for Single-Page Applications" describes.
//
// It signs the user in with x/oauth2 (Authorization Code with PKCE, as a
// confidential client, asking for the Management API audience and the
// current-user scopes), keeps the tokens on the server behind a session
// cookie (github.com/alexedwards/scs/v2), and mounts a bff.Handler at
// /api/account/ that allows reading the profile and writing one
// preference, theme.
//
// Against a real tenant, create a Regular Web Application with
// http://127.0.0.1:8080/callback as an allowed callback URL, enable the
// Management API for user-facing sign-in, and run:
//
//	AUTH0_DOMAIN=example.eu.auth0.com AUTH0_CLIENT_ID=... AUTH0_CLIENT_SECRET=... go run ./examples/bff
//
// With no AUTH0_DOMAIN it starts an in-process apitest tenant where
// alice@example.com is signed in, so the example runs with no account:
//
//	go run ./examples/bff
//
// Against `auth0me serve`, set AUTH0_DOMAIN and AUTH0_CLIENT_ID to what it
// prints, any AUTH0_CLIENT_SECRET, and AUTH0_TENANT_URL to its url (plain
// http to loopback, or https with SSL_CERT_FILE set to its --tls CA file).
//
// Flags: -addr (default 127.0.0.1:8080) and -public-url (default
// http://{addr}).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	publicURL := flag.String("public-url", "", "URL browsers reach the app at (default http://{addr})")
	flag.Parse()
	if *publicURL == "" {
		*publicURL = "http://" + *addr
	}
	cfg := config{
		Domain:       os.Getenv("AUTH0_DOMAIN"),
		ClientID:     os.Getenv("AUTH0_CLIENT_ID"),
		ClientSecret: os.Getenv("AUTH0_CLIENT_SECRET"),
		PublicURL:    *publicURL,
		TenantURL:    os.Getenv("AUTH0_TENANT_URL"),
	}
	if cfg.Domain == "" {
		tn, err := demoTenant()
		if err != nil {
			log.Fatal(err)
		}
		defer tn.Close()
		cfg.Domain, cfg.TenantURL, cfg.ClientID, cfg.ClientSecret = tn.Domain(), tn.URL(), tn.ClientID(), "apitest-does-not-check-secrets"
		fmt.Fprintln(os.Stderr, "no AUTH0_DOMAIN: using an in-process apitest tenant at", tn.URL(), "where alice@example.com is signed in")
	}
	h, err := newApp(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "open %s\n", *publicURL)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// demoTenant is an apitest tenant where alice is signed in.
func demoTenant() (*apitest.Tenant, error) {
	tn, err := apitest.Start(apitest.WithLoginUser("auth0|alice"))
	if err != nil {
		return nil, err
	}
	err = tn.AddUser(apitest.User{ID: "auth0|alice", Email: "alice@example.com", Name: "Alice",
		UserMetadata: map[string]any{"theme": "light", "support_tier": "gold"}})
	if err != nil {
		tn.Close()
		return nil, err
	}
	return tn, nil
}
