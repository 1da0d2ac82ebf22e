package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auth0me/auth0me/api/apitest"
)

// serveOptions are the flags of 'auth0me serve'.
type serveOptions struct {
	f       *factory
	Addr    string
	TLS     bool
	Origins []string
	Users   []string
	Plan    string
}

// defaultServeOrigins are the allowed web origins without --allowed-origin:
// any page served from this machine.
var defaultServeOrigins = []string{
	"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*",
	"https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*",
}

// servePlans maps --plan to apitest's rate-limit presets.
var servePlans = map[string]apitest.Plan{
	"free":                      apitest.PlanFree,
	"essentials":                apitest.PlanEssentials,
	"professional":              apitest.PlanEssentials,
	"enterprise":                apitest.PlanEnterpriseProduction,
	"enterprise-non-production": apitest.PlanEnterpriseNonProduction,
	"private-cloud-development": apitest.PlanPrivateCloudDevelopment,
}

func planNames() string {
	names := make([]string, 0, len(servePlans))
	for n := range servePlans {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

const serveLong = `Serve a fake Auth0 tenant (package apitest) on this machine until interrupted,
for any client in any language: Auth0's SDKs in a browser or in Node, curl,
and this command itself.

The tenant has one public application (its client id is printed) whose
allowed web origins are given by --allowed-origin (default: every loopback
origin, http and https, any port). The users given by --user are created (a
demo user, auth0|ada, when none is), and the first one is signed in: it
approves every /authorize request, prompt=none included, so an SDK's
loginWithRedirect and silent authentication succeed without a login page.
A request whose login_hint names another of the users signs that user in.

It prints the tenant's coordinates (with --json, as one JSON object on one
line), among them an access token for the first user with all six
current-user scopes and the lines that point this command at the tenant.

Tokens' issuer is https://DOMAIN/ even over plain http: a browser SDK given
http://DOMAIN as its domain must also be given that issuer (auth0-spa-js:
the issuer option; auth0-js: overrides.__token_issuer, and
overrides.__jwks_uri as http://DOMAIN/.well-known/jwks.json). With --tls the tenant serves a self-signed certificate,
written to the printed CA file: NODE_EXTRA_CA_CERTS, curl --cacert and
SSL_CERT_FILE (for this command) accept it.

It exits 0 on SIGINT or SIGTERM, after closing the tenant and removing the
CA file.`

func newCmdServe(f *factory, runF func(context.Context, *serveOptions) error) *cobra.Command {
	o := &serveOptions{f: f}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a fake Auth0 tenant on loopback for any client, until interrupted",
		Long:  serveLong,
		Example: "auth0me serve\n" +
			"auth0me serve --addr 127.0.0.1:4000 --allowed-origin http://localhost:5173\n" +
			"auth0me serve --tls --user 'auth0|alice' --user 'google-oauth2|123' --json",
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(runF, runServe)(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Addr, "addr", "127.0.0.1:0", "loopback `HOST:PORT` to listen on (port 0: a free port)")
	fl.BoolVar(&o.TLS, "tls", false, "serve HTTPS with a self-signed certificate, written to the printed CA file")
	fl.StringArrayVar(&o.Origins, "allowed-origin", nil, "allowed web `ORIGIN` for CORS, web_message and logout, e.g. http://localhost:5173 or http://localhost:* (repeatable; * allows any; default: loopback origins)")
	fl.StringArrayVar(&o.Users, "user", nil, "create the user with id `SUB`, e.g. auth0|alice (repeatable; the first signs in; default: the demo user auth0|ada)")
	fl.StringVar(&o.Plan, "plan", "", "apply Auth0's rate limits of `PLAN`: "+planNames()+" (default: no rate limit)")
	return cmd
}

// serveInfo is what serve prints: the tenant's coordinates.
type serveInfo struct {
	Domain         string   `json:"domain"`
	URL            string   `json:"url"`
	BaseURL        string   `json:"base_url"`
	ClientID       string   `json:"client_id"`
	Audience       string   `json:"audience"`
	Issuer         string   `json:"issuer"`
	CAFile         string   `json:"ca_file,omitempty"`
	LoginUser      string   `json:"login_user"`
	Users          []string `json:"users"`
	AllowedOrigins []string `json:"allowed_origins"`
	Plan           string   `json:"plan,omitempty"`
	Token          string   `json:"token"`
	Exports        []string `json:"exports"`
}

// runServe starts the tenant, prints its coordinates and serves until ctx
// is done; then it closes the tenant and removes the CA file.
func runServe(ctx context.Context, o *serveOptions) error {
	f := o.f
	opts := []apitest.Option{apitest.WithAddress(o.Addr)}
	origins := o.Origins
	if len(origins) == 0 {
		origins = defaultServeOrigins
	}
	opts = append(opts, apitest.WithAllowedOrigins(origins...))
	if o.TLS {
		opts = append(opts, apitest.WithTLS())
	}
	if o.Plan != "" {
		p, ok := servePlans[o.Plan]
		if !ok {
			return usagef("unknown --plan %q: want one of %s", o.Plan, planNames())
		}
		opts = append(opts, apitest.WithPlan(p))
	}
	users := o.Users
	if len(users) == 0 {
		users = []string{demoUser}
	}
	opts = append(opts, apitest.WithLoginUser(users[0]))
	tn, err := apitest.Start(opts...)
	var netErr *net.OpError
	switch {
	case errors.As(err, &netErr):
		return fmt.Errorf("serve: %w", err)
	case err != nil: // a flag apitest refused
		return usagef("%s", strings.TrimPrefix(err.Error(), "apitest: "))
	}
	defer tn.Close()
	if len(o.Users) == 0 {
		err = seedDemo(tn)
	} else {
		err = seedUsers(tn, o.Users)
	}
	if err != nil {
		return err
	}

	info := serveInfo{
		Domain: tn.Domain(), URL: tn.URL(), BaseURL: tn.BaseURL(), ClientID: tn.ClientID(),
		Audience: tn.Audience(), Issuer: tn.Issuer(), LoginUser: users[0], Users: users,
		AllowedOrigins: origins, Plan: o.Plan,
		Token: tn.AccessToken(users[0], currentUserScopes()...),
	}
	info.Exports = []string{"export AUTH0ME_BASE_URL=" + tn.URL(), "export AUTH0_TOKEN=" + info.Token}
	if o.TLS {
		dir, err := os.MkdirTemp("", "auth0me-serve-")
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer os.RemoveAll(dir)
		info.CAFile = filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(info.CAFile, tn.CertificatePEM(), 0o644); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		info.Exports = append(info.Exports, "export SSL_CERT_FILE="+info.CAFile, "export NODE_EXTRA_CA_CERTS="+info.CAFile)
	}

	if f.json {
		// One line, so that a harness reading the output line by line
		// has the whole object as soon as the tenant serves.
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		if _, err := f.out.Write(append(b, '\n')); err != nil {
			return err
		}
	} else {
		printServeInfo(f, info)
	}
	<-ctx.Done()
	if !f.json {
		fmt.Fprintln(f.errw, "auth0me serve: stopped")
	}
	return nil
}

// seedUsers creates one user per sub, with an email made from the part
// after "|".
func seedUsers(tn *apitest.Tenant, subs []string) error {
	for _, sub := range subs {
		_, id, _ := strings.Cut(sub, "|")
		local := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
				return r
			}
			if r >= 'A' && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return -1
		}, id)
		if local == "" {
			local = "user"
		}
		u := apitest.User{ID: sub, Email: local + "@example.com", EmailVerified: true}
		if err := tn.AddUser(u); err != nil {
			return usagef("--user %q: %s", sub, strings.TrimPrefix(err.Error(), "apitest: "))
		}
	}
	return nil
}

func printServeInfo(f *factory, in serveInfo) {
	var b strings.Builder
	fmt.Fprintf(&b, "auth0me serve: a fake Auth0 tenant (package apitest) serves at %s\n\n", in.URL)
	rows := [][]string{
		{"Domain", in.Domain},
		{"URL", in.URL},
		{"Client ID", in.ClientID},
		{"Audience", in.Audience},
		{"Issuer", in.Issuer},
	}
	if in.CAFile != "" {
		rows = append(rows, []string{"CA file", in.CAFile})
	}
	rows = append(rows,
		[]string{"Users", strings.Join(in.Users, ", ")},
		[]string{"Signed in", in.LoginUser + " (approves every login, prompt=none included; login_hint=SUB picks another user)"},
		[]string{"Allowed origins", strings.Join(in.AllowedOrigins, " ")},
	)
	if in.Plan != "" {
		rows = append(rows, []string{"Rate limits", "plan " + in.Plan})
	}
	table(&b, rows)
	b.WriteString("\nThis command, from another shell:\n")
	for _, e := range in.Exports {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	b.WriteString("  auth0me me\n")
	domain := in.Domain
	if in.CAFile == "" {
		domain = in.URL
	}
	fmt.Fprintf(&b, "\nauth0-spa-js: createAuth0Client({domain: %q, issuer: %q, clientId: %q,\n"+
		"  authorizationParams: {audience: %q, redirect_uri: window.location.origin}})\n",
		domain, in.Issuer, in.ClientID, in.Audience)
	b.WriteString("\nPress Ctrl-C to stop.\n")
	fmt.Fprint(f.out, b.String())
}
