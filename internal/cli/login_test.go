package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// browser plays the user's browser: it opens the URL and follows the
// tenant's redirect to the loopback callback.
func browser(client *http.Client) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return nil
	}
}

type tokenFile struct {
	Domain       string    `json:"domain"`
	ClientID     string    `json:"client_id"`
	BaseURL      string    `json:"base_url"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
}

// readTokenFile returns the token file's entry for the harness's tenant.
func (h *harness) readTokenFile() tokenFile {
	h.t.Helper()
	return h.readEntry(h.tn.Domain())
}

func (h *harness) readEntry(domain string) tokenFile {
	h.t.Helper()
	b, err := os.ReadFile(h.tokenFile())
	if err != nil {
		h.t.Fatal(err)
	}
	var tf struct {
		Default string               `json:"default"`
		Tenants map[string]tokenFile `json:"tenants"`
	}
	if err := json.Unmarshal(b, &tf); err != nil {
		h.t.Fatal(err)
	}
	e, ok := tf.Tenants[domain]
	if !ok {
		h.t.Fatalf("the token file has no entry for %s", domain)
	}
	return e
}

func (h *harness) checkModes() {
	h.t.Helper()
	for path, want := range map[string]os.FileMode{h.tokenFile(): 0o600, h.configDir + "/auth0me": 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			h.t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			h.t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}

// tokenRequests returns the forms of the POST /oauth/token requests.
func tokenRequests(t *testing.T, tn *apitest.Tenant) []url.Values {
	t.Helper()
	var out []url.Values
	for _, r := range tn.Requests() {
		if r.Method == http.MethodPost && r.EscapedPath == "/oauth/token" {
			v, err := url.ParseQuery(string(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestLoginPKCE signs in through the browser flow, checks what was asked
// for, uses the token file, and refreshes it after expiry with rotation.
func TestLoginPKCE(t *testing.T) {
	t.Parallel()
	// Access tokens live 5s: x/oauth2 treats a token expiring within 10s as
	// expired, so every later command refreshes first, with no waiting.
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda), apitest.WithTokenLifetimes(5*time.Second, time.Hour))
	h := newHarness(t, tn)
	h.browse = browser(tn.Client())

	res := h.run("login", "--client-id", tn.ClientID())
	if res.code != 0 {
		t.Fatalf("login: %+v", res)
	}
	golden(t, "login", h.render(res))
	h.checkModes()
	first := h.readTokenFile()
	if first.Domain != tn.Domain() || first.ClientID != tn.ClientID() || first.BaseURL != tn.URL() || first.RefreshToken == "" {
		t.Errorf("token file = domain %q client %q base %q refresh token set %v", first.Domain, first.ClientID, first.BaseURL, first.RefreshToken != "")
	}

	// What /authorize was asked.
	var auth url.Values
	for _, r := range tn.Requests() {
		if r.EscapedPath == "/authorize" {
			auth, _ = url.ParseQuery(r.RawQuery)
		}
	}
	wantScope := "read:current_user update:current_user_identities update:current_user_metadata create:current_user_metadata create:current_user_device_credentials delete:current_user_device_credentials openid offline_access"
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             tn.ClientID(),
		"code_challenge_method": "S256",
		"audience":              tn.Audience(),
		"scope":                 wantScope,
	} {
		if got := auth.Get(k); got != want {
			t.Errorf("/authorize %s = %q, want %q", k, got, want)
		}
	}
	if ru := auth.Get("redirect_uri"); !strings.HasPrefix(ru, "http://127.0.0.1:") || !strings.HasSuffix(ru, "/callback") {
		t.Errorf("redirect_uri = %q", ru)
	}
	if len(auth.Get("state")) < 32 {
		t.Errorf("state %q is too short", auth.Get("state"))
	}
	// The verifier sent to /oauth/token matches the challenge.
	forms := tokenRequests(t, tn)
	if len(forms) != 1 || forms[0].Get("grant_type") != "authorization_code" {
		t.Fatalf("token requests = %v", forms)
	}
	if got := oauth2.S256ChallengeFromVerifier(forms[0].Get("code_verifier")); got != auth.Get("code_challenge") {
		t.Errorf("S256(code_verifier) = %q, want the code_challenge %q", got, auth.Get("code_challenge"))
	}

	// Each command refreshes the expired token, and the rotated tokens are
	// written back.
	prev := first
	for i := range 2 {
		res := h.run("me")
		if res.code != 0 || !strings.Contains(res.stdout, userAda) {
			t.Fatalf("me #%d: %+v", i, res)
		}
		now := h.readTokenFile()
		// (The access token may come out identical: same claims to the
		// second, and RS256 signatures are deterministic.)
		if now.RefreshToken == prev.RefreshToken || !now.Expiry.After(prev.Expiry) {
			t.Errorf("me #%d: token file not updated with the refreshed and rotated tokens", i)
		}
		h.checkModes()
		prev = now
	}
	forms = tokenRequests(t, tn)
	if len(forms) != 3 || forms[1].Get("grant_type") != "refresh_token" || forms[1].Get("refresh_token") != first.RefreshToken || forms[1].Get("client_id") != tn.ClientID() {
		t.Errorf("want two refresh_token grants after the code grant, the first with the login's refresh token; got %d requests", len(forms))
	}

	// status reads the file too; --refresh refreshes the (5-second) token first.
	if res := h.run("status", "--refresh", "--json"); res.code != 0 || !strings.Contains(res.stdout, `"subject": "auth0|ada"`) {
		t.Errorf("token: %+v", res)
	}

	// logout deletes the file; then nothing is signed in.
	res = h.run("logout")
	if res.code != 0 {
		t.Errorf("logout: %+v", res)
	}
	golden(t, "logout", h.render(res))
	golden(t, "logout_again.json", h.render(h.run("logout", "--json")))
	if _, err := os.Stat(h.tokenFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file still there after logout: %v", err)
	}
	if res := h.run("me"); res.code != cli.ExitLogin || !strings.Contains(res.stderr, "not signed in") {
		t.Errorf("me after logout: %+v", res)
	}
}

// TestLoginScopes: --scope narrows what is asked for; what the tenant did
// not grant is reported.
func TestLoginScopes(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda))
	h := newHarness(t, tn)
	h.browse = browser(tn.Client())
	res := h.run("login", "--client-id", tn.ClientID(), "--scope", "read:current_user,update:current_user_metadata", "--scope", "read:users", "--json")
	if res.code != 0 {
		t.Fatalf("login: %+v", res)
	}
	var got struct {
		Scopes     []string `json:"scopes"`
		NotGranted []string `json:"not_granted"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatal(err)
	}
	golden(t, "login_scopes.json", h.render(res))
	if strings.Join(got.Scopes, " ") != "read:current_user update:current_user_metadata" || strings.Join(got.NotGranted, " ") != "read:users" {
		t.Errorf("scopes %v, not granted %v", got.Scopes, got.NotGranted)
	}
	// The token allows reading, not linking: refused by the guard.
	if res := h.run("unlink", "google-oauth2", "1"); res.code != cli.ExitRefused {
		t.Errorf("unlink with a narrowed token: %+v", res)
	}
}

// TestLoginFailures: every way the browser flow can fail leaves no token
// file and exits 4.
func TestLoginFailures(t *testing.T) {
	t.Parallel()
	noFollow := func(tn *apitest.Tenant, edit func(q url.Values)) func(ctx context.Context, u string) error {
		return func(ctx context.Context, u string) error {
			c := *tn.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || loc.Host == "" {
				return fmt.Errorf("no redirect: %d", resp.StatusCode)
			}
			q := loc.Query()
			edit(q)
			loc.RawQuery = q.Encode()
			return browser(tn.Client())(ctx, loc.String())
		}
	}
	tests := []struct {
		name      string
		loginUser string
		browse    func(tn *apitest.Tenant) func(ctx context.Context, u string) error
		args      []string
		wantErr   string
	}{
		{"state mismatch", userAda, func(tn *apitest.Tenant) func(context.Context, string) error {
			return noFollow(tn, func(q url.Values) { q.Set("state", "forged") })
		}, nil, "state does not match"},
		{"state missing", userAda, func(tn *apitest.Tenant) func(context.Context, string) error {
			return noFollow(tn, func(q url.Values) { q.Del("state") })
		}, nil, "state does not match"},
		{"code replaced", userAda, func(tn *apitest.Tenant) func(context.Context, string) error {
			return noFollow(tn, func(q url.Values) { q.Set("code", "not-the-code") })
		}, nil, "cannot exchange the authorization code"},
		{"login required", "", func(tn *apitest.Tenant) func(context.Context, string) error { return browser(tn.Client()) }, nil, "login_required"},
		{"browser fails", userAda, func(tn *apitest.Tenant) func(context.Context, string) error {
			return func(context.Context, string) error { return errors.New("no browser") }
		}, []string{"--timeout", "50ms"}, "no sign-in came back within 50ms"},
		{"nobody comes back", userAda, func(tn *apitest.Tenant) func(context.Context, string) error {
			return func(context.Context, string) error { return nil }
		}, []string{"--timeout", "50ms"}, "no sign-in came back within 50ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []apitest.Option
			if tc.loginUser != "" {
				opts = append(opts, apitest.WithLoginUser(tc.loginUser))
			}
			tn := apitest.New(t, append([]apitest.Option{testUsers}, opts...)...)
			h := newHarness(t, tn)
			h.browse = tc.browse(tn)
			res := h.run(append([]string{"login", "--client-id", tn.ClientID()}, tc.args...)...)
			if res.code != cli.ExitLogin || !strings.Contains(res.stderr, tc.wantErr) {
				t.Errorf("login: exit %d, stderr %q; want exit 4 and %q", res.code, res.stderr, tc.wantErr)
			}
			lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "auth0me: ") || !strings.Contains(last, tc.wantErr) {
				t.Errorf("the error is not the last line of stderr: %q", res.stderr)
			}
			if tc.name == "browser fails" && !strings.Contains(res.stderr, "could not open a browser (no browser); open the URL above") {
				t.Errorf("a browser that cannot be opened is not reported: %q", res.stderr)
			}
			if _, err := os.Stat(h.tokenFile()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed login left a token file: %v", err)
			}
		})
	}
}

// TestLoginPrintsURL: without a browser hook, login prints the URL to open
// and waits for the callback, here reached by hand.
func TestLoginPrintsURL(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda))
	h := newHarness(t, tn)
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		defer pw.Close()
		var out strings.Builder
		env := cli.Env{
			Stdout: &out, Stderr: pw, Getenv: func(string) string { return "" },
			ConfigDir: func() (string, error) { return h.configDir, nil }, HTTPClient: tn.Client(),
		}
		code := cli.Run(t.Context(), env, []string{"login", "--client-id", tn.ClientID(), "--base-url", tn.URL()})
		done <- result{code: code, stdout: out.String()}
	}()
	// Read stderr until the URL shows up, then "open" it.
	buf := make([]byte, 0, 4096)
	var authURL string
	for authURL == "" {
		chunk := make([]byte, 1024)
		n, err := pr.Read(chunk)
		if err != nil {
			t.Fatalf("stderr ended before the URL: %q", buf)
		}
		buf = append(buf, chunk[:n]...)
		for _, f := range strings.Fields(string(buf)) {
			if strings.HasPrefix(f, tn.URL()+"/authorize?") && strings.Contains(string(buf), "Waiting") {
				authURL = f
			}
		}
	}
	go io.Copy(io.Discard, pr)
	if err := browser(tn.Client())(t.Context(), authURL); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.code != 0 || !strings.Contains(res.stdout, "Signed in to "+tn.Domain()+" as auth0|ada.") {
		t.Errorf("login: %+v", res)
	}
}

// TestRefreshFailure: an expired token whose refresh token the tenant does
// not know fails with exit 4 and a hint, before any API request.
func TestRefreshFailure(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda), apitest.WithTokenLifetimes(5*time.Second, time.Hour))
	h := newHarness(t, tn)
	h.login()
	// Use the refresh token once, behind the command's back: with rotation
	// the one in the file is then spent.
	tf := h.readTokenFile()
	if err := refreshWith(t, tn, tf.RefreshToken); err != nil {
		t.Fatal(err)
	}
	h.secrets = append(h.secrets, tf.RefreshToken, tf.AccessToken)
	before := len(tn.Requests())
	res := h.run("me")
	if res.code != cli.ExitLogin || !strings.Contains(res.stderr, "cannot refresh the access token") || !strings.Contains(res.stderr, "auth0me login") {
		t.Errorf("me with a spent refresh token: %+v", res)
	}
	for _, r := range tn.Requests()[before:] {
		if strings.HasPrefix(r.EscapedPath, "/api/v2/") {
			t.Errorf("an API request was sent: %s %s", r.Method, r.EscapedPath)
		}
	}
}

// TestLinkFromStdin: --id-token - reads the ID token from standard input.
func TestLinkFromStdin(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	id := tn.IDToken(userGoog)
	h.secrets = append(h.secrets, id)
	h.stdin = id + "\n"
	res := h.run("link", "--id-token", "-", "--token", h.token(userAda, "update:current_user_identities"))
	if res.code != 0 || !strings.Contains(res.stdout, "The user now has 2 identities") {
		t.Errorf("link from stdin: %+v", res)
	}
	h.stdin = ""
	if res := h.run("link", "--id-token", "-", "--token", h.token(userAda, "update:current_user_identities")); res.code != cli.ExitUsage {
		t.Errorf("link with empty stdin: %+v", res)
	}
}
