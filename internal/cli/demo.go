package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
	"github.com/spf13/cobra"
)

type demoOptions struct{ f *factory }

func newCmdDemo(f *factory, runF func(context.Context, *demoOptions) error) *cobra.Command {
	return newNoArgsCmd(&demoOptions{f: f}, "demo",
		"Walk through sign-in, the seven operations and two refusals on an in-process tenant (no account, no network)",
		"auth0me demo\nauth0me demo --json", runF, runDemo)
}

// The demo's users.
const (
	demoUser   = "auth0|ada"
	demoSecond = "google-oauth2|1071234567890"
	demoOther  = "auth0|grace"
)

// demoStep is one step of the demo, as --json prints it.
type demoStep struct {
	Step      int    `json:"step"`
	Title     string `json:"title"`
	Command   string `json:"command,omitempty"`
	Request   string `json:"request"`
	Result    string `json:"result"`
	Refused   bool   `json:"refused,omitempty"`
	Error     string `json:"error,omitempty"`
	SentCount int    `json:"requests_sent"`
}

type demoReport struct {
	Tenant  string     `json:"tenant"`
	Subject string     `json:"subject"`
	Steps   []demoStep `json:"steps"`
}

// demo runs the walk-through, printing each step as it completes.
type demo struct {
	f   *factory
	tn  *apitest.Tenant
	rep demoReport
}

func (d *demo) step(title, command, request string, run func() (string, error)) error {
	before := len(d.tn.Requests())
	res, err := run()
	s := demoStep{Step: len(d.rep.Steps) + 1, Title: title, Command: command, Request: request, Result: res}
	s.SentCount = len(d.tn.Requests()) - before
	if err != nil {
		return fmt.Errorf("demo step %d (%s): %w", s.Step, title, err)
	}
	d.rep.Steps = append(d.rep.Steps, s)
	if !d.f.json {
		var b strings.Builder
		c := d.f.outColor
		fmt.Fprintf(&b, "%s\n", c.bold(fmt.Sprintf("%d. %s", s.Step, title)))
		if command != "" {
			fmt.Fprintf(&b, "   $ %s\n", command)
		}
		fmt.Fprintf(&b, "   %s\n", c.gray(request))
		for line := range strings.SplitSeq(res, "\n") {
			fmt.Fprintf(&b, "   %s %s\n", c.green("→"), line)
		}
		b.WriteString("\n")
		io.WriteString(d.f.out, b.String())
	}
	return nil
}

// refusal runs a call the guard must refuse, and checks that nothing was
// sent.
func (d *demo) refusal(title, request string, call func() error) error {
	before := len(d.tn.Requests())
	err := call()
	sent := len(d.tn.Requests()) - before
	if err == nil {
		return fmt.Errorf("demo: %s: the guard let the call through", title)
	}
	if code, _ := classify(err); code != ExitRefused {
		return fmt.Errorf("demo: %s: want a refusal by the guard, got: %w", title, err)
	}
	if sent != 0 {
		return fmt.Errorf("demo: %s: refused, but %d request(s) reached the tenant", title, sent)
	}
	s := demoStep{Step: len(d.rep.Steps) + 1, Title: title, Request: request, Refused: true, Error: describe(err),
		Result: "refused before sending; the tenant received no request"}
	d.rep.Steps = append(d.rep.Steps, s)
	if !d.f.json {
		c := d.f.outColor
		fmt.Fprintf(d.f.out, "%s\n   %s\n   %s %s\n   %s %s\n\n", c.bold(fmt.Sprintf("%d. %s", s.Step, title)),
			c.gray(request), c.red("✗"), s.Error, c.green("→"), s.Result)
	}
	return nil
}

func runDemo(ctx context.Context, o *demoOptions) error {
	f := o.f
	tn, err := apitest.Start(apitest.WithLoginUser(demoUser))
	if err != nil {
		return err
	}
	defer tn.Close()
	if err := seedDemo(tn); err != nil {
		return err
	}
	d := &demo{f: f, tn: tn}
	d.rep.Tenant = tn.URL()
	ta := tenantAddr{domain: tn.Domain(), root: tn.URL()}
	if !f.json {
		fmt.Fprintf(f.out, "auth0me demo: a fake Auth0 tenant (package apitest) runs in this process at %s;\nnothing leaves this machine.\n\n", tn.URL())
		fmt.Fprintf(f.out, "Users: %s (Ada, who signs in), %s (Ada's Google account, to link), %s (someone else).\n\n", demoUser, demoSecond, demoOther)
	}

	// 1. Sign in through the same PKCE code as 'auth0me login'; the
	// browser is an HTTP GET that follows apitest's redirect.
	cfg := oauthConfig(ta, tn.ClientID(), loginScopes(nil))
	var tok *oauth2.Token
	var claims *scopeguard.Claims
	err = d.step("Sign in as Ada (Authorization Code + PKCE S256, loopback redirect)", "auth0me login (same code; the browser is an HTTP GET the tenant approves)",
		"GET /authorize → 302 to http://127.0.0.1:…/callback with code and state → POST /oauth/token with code_verifier",
		func() (string, error) {
			t, err := f.pkceLogin(ctx, ta, cfg, 0, 30*time.Second, f.demoBrowser, nil)
			if err != nil {
				return "", err
			}
			tok = t
			c, err := scopeguard.ParseClaims(t.AccessToken)
			if err != nil {
				return "", err
			}
			claims = c
			refresh := "no refresh token"
			if t.RefreshToken != "" {
				refresh = "and a refresh token"
			}
			return fmt.Sprintf("access token for %s, %s\nscopes: %s", c.Subject, refresh, strings.Join(c.Scopes, " ")), nil
		})
	if err != nil {
		return err
	}
	d.rep.Subject = claims.Subject
	ts := cfg.TokenSource(f.oauthContext(ctx), tok)
	c, err := newAPIClient(ta, ts, f.env)
	if err != nil {
		return err
	}

	steps := []struct {
		title, command, request string
		run                     func() (string, error)
	}{
		{"Read the profile", "auth0me me", "GET /api/v2/users/" + url.PathEscape(demoUser), func() (string, error) {
			u, err := c.Me(ctx)
			if err != nil {
				return "", err
			}
			n := len(u.Identities)
			return fmt.Sprintf("%s <%s>, %d identit%s, user_metadata %s", u.Name, u.Email, n, map[bool]string{true: "y", false: "ies"}[n == 1], jsonValue(u.UserMetadata)), nil
		}},
		{"List MFA enrollments", "auth0me enrollments", "GET /api/v2/users/" + url.PathEscape(demoUser) + "/enrollments", func() (string, error) {
			es, err := c.Enrollments(ctx)
			if err != nil {
				return "", err
			}
			var parts []string
			for _, e := range es {
				parts = append(parts, fmt.Sprintf("%s %s (%s)", e.AuthMethod, e.Name, e.Status))
			}
			return fmt.Sprintf("%d enrollment(s): %s", len(es), strings.Join(parts, ", ")), nil
		}},
		{"Set metadata", "auth0me metadata set theme=dark newsletter=true", `PATCH /api/v2/users/` + url.PathEscape(demoUser) + ` {"user_metadata":{"newsletter":true,"theme":"dark"}}`, func() (string, error) {
			u, err := c.UpdateMetadata(ctx, map[string]any{"theme": "dark", "newsletter": true})
			if err != nil {
				return "", err
			}
			return "user_metadata now " + jsonValue(u.UserMetadata), nil
		}},
		{"Link Ada's Google account with its ID token", "auth0me link --id-token <Google account's ID token>", "POST /api/v2/users/" + url.PathEscape(demoUser) + `/identities {"link_with":"<ID token>"}`, func() (string, error) {
			ids, err := c.LinkIdentity(ctx, tn.IDToken(demoSecond))
			if err != nil {
				return "", err
			}
			return "identities now: " + identityList(ids), nil
		}},
		{"Unlink it again", "auth0me unlink google-oauth2 1071234567890", "DELETE /api/v2/users/" + url.PathEscape(demoUser) + "/identities/google-oauth2/1071234567890", func() (string, error) {
			ids, err := c.UnlinkIdentity(ctx, "google-oauth2", "1071234567890")
			if err != nil {
				return "", err
			}
			return "identities now: " + identityList(ids), nil
		}},
	}
	var credID string
	steps = append(steps, []struct {
		title, command, request string
		run                     func() (string, error)
	}{
		{"Register a device public key", "auth0me device-credential create --name \"Ada's laptop\" --device-id 0a1b2c3d-4e5f --value <base64 key>", `POST /api/v2/device-credentials {"device_name":"Ada's laptop","type":"public_key",...}`, func() (string, error) {
			id, err := c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "Ada's laptop", DeviceID: "0a1b2c3d-4e5f", Value: "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=", ClientID: tn.ClientID()})
			if err != nil {
				return "", err
			}
			credID = id
			return "created device credential " + id, nil
		}},
		{"Delete the device key", "auth0me device-credential delete <id>", "DELETE /api/v2/device-credentials/<id>", func() (string, error) {
			if err := c.DeleteDeviceCredential(ctx, credID); err != nil {
				return "", err
			}
			return fmt.Sprintf("deleted %s; Ada has %d device credential(s)", credID, len(tn.DeviceCredentials(demoUser))), nil
		}},
	}...)
	for _, s := range steps {
		if err := d.step(s.title, s.command, s.request, s.run); err != nil {
			return err
		}
	}

	if !f.json {
		fmt.Fprintln(f.out, "Two calls the token does not allow; the guard refuses them before anything is sent:")
		fmt.Fprintln(f.out)
	}
	readOnly := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tn.AccessToken(demoUser, "read:current_user")})
	ro, err := newAPIClient(ta, readOnly, f.env)
	if err != nil {
		return err
	}
	if err := d.refusal("Set metadata with a token that holds only read:current_user",
		`PATCH /api/v2/users/me {"user_metadata":{"theme":"light"}}`, func() error {
			_, err := ro.UpdateMetadata(ctx, map[string]any{"theme": "light"})
			return err
		}); err != nil {
		return err
	}
	if err := d.refusal("Read another user's profile with Ada's token (generated client behind the guard)",
		"GET /api/v2/users/"+url.PathEscape(demoOther), func() error {
			return getOtherUser(ctx, ta, ts, f.env.HTTPClient, demoOther)
		}); err != nil {
		return err
	}

	if f.json {
		return f.printJSON(d.rep)
	}
	_, err = fmt.Fprint(f.out, "Done: signed in, all seven operations, two refusals.\n\n"+
		"With your own tenant: auth0me login --domain YOUR_TENANT.auth0.com --client-id NATIVE_APP_CLIENT_ID,\n"+
		"then auth0me status, auth0me me, ... ('auth0me --help' lists them).\n")
	return err
}

// getOtherUser calls GET /users/{id} through the generated client behind a
// scopeguard Transport, as a program using gen directly would.
func getOtherUser(ctx context.Context, ta tenantAddr, ts oauth2.TokenSource, hc *http.Client, id string) error {
	guard, err := scopeguard.New(ta.apiBase(), ts, scopeguard.WithBase(hc.Transport))
	if err != nil {
		return err
	}
	gc, err := gen.NewClientWithResponses(ta.apiBase(), gen.WithHTTPClient(&http.Client{Transport: guard}))
	if err != nil {
		return err
	}
	res, err := gc.GetUsersByIDWithResponse(ctx, id, nil)
	if err != nil {
		return err
	}
	return fmt.Errorf("demo: the request for another user was sent and answered %d", res.StatusCode())
}

// demoBrowser plays the browser: it opens the authorization URL and follows
// apitest's redirect to the loopback callback.
func (f *factory) demoBrowser(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := f.env.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the sign-in page answered %d: %s", resp.StatusCode, oneLine(string(body)))
	}
	return nil
}

func identityList(ids []api.Identity) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, id.Provider+"|"+string(id.UserID))
	}
	return strings.Join(parts, ", ")
}

func seedDemo(tn *apitest.Tenant) error {
	enrolled := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	users := []apitest.User{
		{
			ID: demoUser, Email: "ada@example.com", EmailVerified: true, Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace",
			UserMetadata: map[string]any{"theme": "light"},
			AppMetadata:  map[string]any{"plan": "free"},
			Enrollments: []apitest.Enrollment{{
				ID: "totp|dev_ada0001", Status: "confirmed", Type: "authenticator", Name: "Ada's phone", AuthMethod: "authenticator",
				EnrolledAt: enrolled, LastAuth: enrolled.Add(48 * time.Hour),
			}},
		},
		{ID: demoSecond, Email: "ada.lovelace@gmail.example", EmailVerified: true, Name: "Ada L."},
		{ID: demoOther, Email: "grace@example.com", EmailVerified: true, Name: "Grace Hopper"},
	}
	for _, u := range users {
		if err := tn.AddUser(u); err != nil {
			return err
		}
	}
	return nil
}
