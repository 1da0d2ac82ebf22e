package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// TestCommandsGolden runs every API command against a fresh tenant, in text
// and --json form, and compares the normalised output with
// testdata/NAME.golden and testdata/NAME.json.golden.
func TestCommandsGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup prepares the tenant and returns the arguments to run.
		setup    func(h *harness) []string
		wantCode int
		// check inspects the tenant after the run, for the text form.
		check func(t *testing.T, tn *apitest.Tenant)
	}{
		{
			name:  "token",
			setup: func(h *harness) []string { return []string{"token", "--token", h.token(userAda, allScopes...)} },
		},
		{
			name: "token_read_only",
			setup: func(h *harness) []string {
				h.env["AUTH0_TOKEN"] = h.token(userAda, "read:current_user", "update:current_user_metadata")
				return []string{"token"}
			},
		},
		{
			name:  "me",
			setup: func(h *harness) []string { return []string{"me", "--token", h.token(userAda, "read:current_user")} },
		},
		{
			name: "enrollments",
			setup: func(h *harness) []string {
				return []string{"enrollments", "--token", h.token(userAda, "read:current_user")}
			},
		},
		{
			name: "enrollments_none",
			setup: func(h *harness) []string {
				return []string{"enrollments", "--token", h.token(userGrace, "read:current_user")}
			},
		},
		{
			name: "metadata_set",
			setup: func(h *harness) []string {
				return []string{"metadata", "set", "--token", h.token(userAda, "update:current_user_metadata"),
					"theme=dark", "age=42", "newsletter=true", `address={"city":"Lyon"}`, `quoted="42"`, "note=hello world", "langs=null"}
			},
			check: func(t *testing.T, tn *apitest.Tenant) {
				u, _ := tn.User(userAda)
				want := map[string]any{"theme": "dark", "age": 42.0, "newsletter": true, "address": map[string]any{"city": "Lyon"}, "quoted": "42", "note": "hello world"}
				if diff := cmp.Diff(want, u.UserMetadata); diff != "" {
					t.Errorf("user_metadata (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "metadata_unset",
			setup: func(h *harness) []string {
				return []string{"metadata", "unset", "theme", "--token", h.token(userAda, "create:current_user_metadata")}
			},
			check: func(t *testing.T, tn *apitest.Tenant) {
				u, _ := tn.User(userAda)
				if _, ok := u.UserMetadata["theme"]; ok {
					t.Errorf("theme still set: %v", u.UserMetadata)
				}
			},
		},
		{
			name: "link",
			setup: func(h *harness) []string {
				id := h.tn.IDToken(userGoog)
				h.secrets = append(h.secrets, id)
				return []string{"link", "--id-token", id, "--token", h.token(userAda, "update:current_user_identities")}
			},
			check: func(t *testing.T, tn *apitest.Tenant) {
				if u, _ := tn.User(userAda); len(u.Identities) != 2 {
					t.Errorf("identities = %v, want 2", u.Identities)
				}
			},
		},
		{
			name: "unlink",
			setup: func(h *harness) []string {
				id := h.tn.IDToken(userGoog)
				tok := h.token(userAda, "update:current_user_identities", "read:current_user")
				if res := h.run("link", "--id-token", id, "--token", tok); res.code != 0 {
					h.t.Fatalf("link: %+v", res)
				}
				return []string{"unlink", "google-oauth2", "1071234567890", "--token", tok}
			},
			check: func(t *testing.T, tn *apitest.Tenant) {
				if u, _ := tn.User(userAda); len(u.Identities) != 1 {
					t.Errorf("identities = %v, want 1", u.Identities)
				}
			},
		},
		{
			name: "device_credential_create",
			setup: func(h *harness) []string {
				return []string{"device-credential", "create", "--name", "Ada's laptop", "--device-id", "0a1b-2c3d", "--value", "AAAAC3NzaC1lZDI1NTE5", "--client-id", h.tn.ClientID(),
					"--token", h.token(userAda, "create:current_user_device_credentials")}
			},
			check: func(t *testing.T, tn *apitest.Tenant) {
				if got := tn.DeviceCredentials(userAda); len(got) != 1 || got[0].DeviceName != "Ada's laptop" {
					t.Errorf("device credentials = %+v", got)
				}
			},
		},
		{
			name: "device_credential_delete",
			setup: func(h *harness) []string {
				id, err := h.tn.AddDeviceCredential(apitest.DeviceCredential{ID: "dcr_seeded0000000001", UserID: userAda, ClientID: h.tn.ClientID(), DeviceName: "old phone", DeviceID: "abcd", Value: "AAAA"})
				if err != nil {
					h.t.Fatal(err)
				}
				return []string{"device-credential", "delete", id, "--token", h.token(userAda, "delete:current_user_device_credentials")}
			},
			check: func(t *testing.T, tn *apitest.Tenant) {
				if got := tn.DeviceCredentials(userAda); len(got) != 0 {
					t.Errorf("device credentials = %+v, want none", got)
				}
			},
		},
		// Refusals by the guard: exit 3, and nothing sent.
		{
			name: "refused_scope",
			setup: func(h *harness) []string {
				return []string{"metadata", "set", "theme=dark", "--token", h.token(userAda, "read:current_user")}
			},
			wantCode: cli.ExitRefused,
		},
		{
			name: "refused_no_read_scope",
			setup: func(h *harness) []string {
				return []string{"me", "--token", h.token(userAda, "update:current_user_metadata")}
			},
			wantCode: cli.ExitRefused,
		},
		// Errors from Auth0: exit 1 with its code and message.
		{
			name:     "api_not_found",
			setup:    func(h *harness) []string { return []string{"me", "--token", h.token(userGhost, "read:current_user")} },
			wantCode: cli.ExitAPI,
		},
		{
			name: "api_conflict",
			setup: func(h *harness) []string {
				if _, err := h.tn.AddDeviceCredential(apitest.DeviceCredential{UserID: userAda, ClientID: h.tn.ClientID(), DeviceName: "laptop", DeviceID: "0a1b", Value: "AAAA", Type: "public_key"}); err != nil {
					h.t.Fatal(err)
				}
				return []string{"device-credential", "create", "--name", "laptop", "--device-id", "0a1b", "--value", "AAAA", "--client-id", h.tn.ClientID(),
					"--token", h.token(userAda, "create:current_user_device_credentials")}
			},
			wantCode: cli.ExitAPI,
		},
		// Token problems: exit 4.
		{
			name: "token_expired",
			setup: func(h *harness) []string {
				c := h.tn.AccessTokenClaims(userAda, "read:current_user")
				c["exp"] = time.Now().Add(-time.Hour).Unix()
				tok, err := h.tn.SignToken(c)
				if err != nil {
					h.t.Fatal(err)
				}
				h.secrets = append(h.secrets, tok)
				return []string{"me", "--token", tok}
			},
			wantCode: cli.ExitLogin,
		},
		{
			name:     "not_signed_in",
			setup:    func(h *harness) []string { return []string{"me"} },
			wantCode: cli.ExitLogin,
		},
		{
			name:     "malformed_token",
			setup:    func(h *harness) []string { return []string{"me", "--token", "not-a-jwt"} },
			wantCode: cli.ExitLogin,
		},
		// Arguments Auth0 would refuse, checked before sending: exit 2.
		{
			name: "invalid_device_id",
			setup: func(h *harness) []string {
				return []string{"device-credential", "create", "--name", "x", "--device-id", "not hex!", "--value", "AAAA",
					"--token", h.token(userAda, "create:current_user_device_credentials")}
			},
			wantCode: cli.ExitUsage,
		},
	}
	for _, tc := range tests {
		for _, form := range []string{"text", "json"} {
			name := tc.name
			if form == "json" {
				name += ".json"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tn := apitest.New(t, testUsers)
				h := newHarness(t, tn)
				args := tc.setup(h)
				if form == "json" {
					args = append(args, "--json")
				}
				before := len(tn.Requests())
				res := h.run(args...)
				if res.code != tc.wantCode {
					t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.wantCode, res.stdout, res.stderr)
				}
				if tc.wantCode == cli.ExitRefused || tc.name == "malformed_token" || tc.name == "token_expired" || tc.name == "invalid_device_id" {
					if n := len(tn.Requests()) - before; n != 0 {
						t.Errorf("%d request(s) reached the tenant, want none", n)
					}
				}
				switch {
				case form == "json":
					checkJSON(t, res)
				case res.code != 0:
					if res.stdout != "" || strings.Count(res.stderr, "\n") != 1 {
						t.Errorf("a failure must print one line on stderr and nothing on stdout; got %q and %q", res.stdout, res.stderr)
					}
					if strings.Count(res.stderr, "auth0me:") != 1 || strings.Contains(res.stderr, "api:") || strings.Contains(res.stderr, "scopeguard:") {
						t.Errorf("a failure must carry one prefix, auth0me:; got %q", res.stderr)
					}
				case tc.check != nil:
					tc.check(t, tn)
				}
				golden(t, name, h.render(res))
			})
		}
	}
}

// checkJSON checks that --json prints JSON on stdout on success and one
// JSON error object on stderr on failure.
func checkJSON(t *testing.T, res result) {
	t.Helper()
	if res.code == 0 {
		if !json.Valid([]byte(res.stdout)) {
			t.Errorf("stdout is not JSON: %s", res.stdout)
		}
		return
	}
	if res.stdout != "" {
		t.Errorf("stdout on failure: %q", res.stdout)
	}
	var e struct {
		Error struct {
			Kind    string    `json:"kind"`
			Exit    int       `json:"exit"`
			Message string    `json:"message"`
			Need    *[]string `json:"need"`
			Granted *[]string `json:"granted"`
			Hint    string    `json:"hint"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.stderr), &e); err != nil || e.Error.Exit != res.code || e.Error.Message == "" || e.Error.Kind == "" {
		t.Errorf("stderr is not one JSON error with exit %d: %q (%v)", res.code, res.stderr, err)
	}
	if strings.Contains(e.Error.Message, "auth0me:") || strings.Contains(e.Error.Message, "api:") || strings.Contains(e.Error.Message, "scopeguard:") {
		t.Errorf("JSON error message carries a package prefix: %q", e.Error.Message)
	}
	if res.code == cli.ExitRefused && (e.Error.Need == nil || len(*e.Error.Need) == 0 || e.Error.Granted == nil || e.Error.Hint == "") {
		t.Errorf("a refusal's JSON error lacks need, granted or hint: %s", res.stderr)
	}
	if strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("JSON error spans several lines: %q", res.stderr)
	}
}

// TestUsage checks usage errors (exit 2, one line naming the problem and
// where help is) and help (exit 0, on stdout).
func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{"no args", nil, cli.ExitUsage, "", "Commands:"},
		{"help flag", []string{"--help"}, cli.ExitOK, "'auth0me help exit-codes'", ""},
		{"help help", []string{"help", "help"}, cli.ExitOK, "Usage:\n  auth0me help", ""},
		{"help unknown", []string{"help", "enrolments"}, cli.ExitUsage, "", `unknown command "enrolments"; did you mean "enrollments"? (see 'auth0me --help')`},
		{"help unknown sub", []string{"help", "metadata", "unsett"}, cli.ExitUsage, "", `unknown metadata command "unsett"; did you mean "unset"?`},
		{"completion alone", []string{"completion"}, cli.ExitUsage, "", "Commands:"},
		{"completion unknown shell", []string{"completion", "tcsh"}, cli.ExitUsage, "", `unknown completion command "tcsh"`},
		{"token is status", []string{"token", "--help"}, cli.ExitOK, "Aliases:\n  token", ""},
		{"exit codes", []string{"help", "exit-codes"}, cli.ExitOK, "  3    refused by the scope guard", ""},
		{"version flag", []string{"--version"}, cli.ExitOK, "auth0me ", ""},
		{"version command", []string{"version"}, cli.ExitOK, "auth0me ", ""},
		{"suggestion", []string{"enrolments"}, cli.ExitUsage, "", `unknown command "enrolments"; did you mean "enrollments"?`},
		{"sub suggestion", []string{"device-credential", "delet"}, cli.ExitUsage, "", `did you mean "delete"?`},
		{"single-dash long flag", []string{"-json", "unlink"}, cli.ExitUsage, "", `"kind":"usage"`},
		{"completion", []string{"completion", "bash"}, cli.ExitOK, "__start_auth0me", ""},
		{"bad base url env", []string{"login", "--client-id", "c"}, cli.ExitUsage, "", "invalid $AUTH0ME_BASE_URL"},
		{"help command", []string{"help", "metadata", "set"}, cli.ExitOK, "Examples:", ""},
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage, "", `unknown command "frobnicate"`},
		{"unknown flag", []string{"me", "--frob"}, cli.ExitUsage, "", "unknown flag: --frob"},
		{"metadata alone", []string{"metadata"}, cli.ExitUsage, "", "Commands:"},
		{"metadata unknown", []string{"metadata", "frob"}, cli.ExitUsage, "", `unknown metadata command "frob"`},
		{"metadata set no args", []string{"metadata", "set"}, cli.ExitUsage, "", "at least 1 argument"},
		{"metadata set no equals", []string{"metadata", "set", "theme", "--token", "x.y.z"}, cli.ExitUsage, "", `"theme" is not KEY=VALUE`},
		{"metadata set empty key", []string{"metadata", "set", "=1", "--token", "x.y.z"}, cli.ExitUsage, "", "empty key"},
		{"metadata set twice", []string{"metadata", "set", "a=1", "a=2", "--token", "x.y.z"}, cli.ExitUsage, "", "given twice"},
		{"unlink one arg", []string{"unlink", "google-oauth2"}, cli.ExitUsage, "", "exactly 2 arguments"},
		{"link no token", []string{"link"}, cli.ExitUsage, "", "--id-token"},
		{"dc create missing", []string{"device-credential", "create", "--name", "x"}, cli.ExitUsage, "", "needs --device-id, --value"},
		{"dc delete no id", []string{"device-credential", "delete"}, cli.ExitUsage, "", "exactly 1 argument"},
		{"login no domain", []string{"login", "--client-id", "abc"}, cli.ExitUsage, "", "login needs --domain"},
		{"login no client", []string{"login", "--domain", "t.auth0.com"}, cli.ExitUsage, "", "login needs --client-id"},
		{"login bad base url", []string{"login", "--client-id", "c", "--base-url", "http://example.com"}, cli.ExitUsage, "", "only to a loopback address"},
		{"logout not signed in", []string{"logout"}, cli.ExitOK, "Not signed in", ""},
		{"json usage error", []string{"--json", "unlink"}, cli.ExitUsage, "", `"kind":"usage"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			if tc.name == "bad base url env" {
				h.env["AUTH0ME_BASE_URL"] = "http://example.com"
			}
			res := h.run(tc.args...)
			if res.code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if res.code != 0 && tc.wantErr != "Commands:" && strings.Count(res.stderr, "\n") != 1 {
				t.Errorf("error is not one line: %q", res.stderr)
			}
			if !strings.Contains(res.stdout, tc.wantOut) || !strings.Contains(res.stderr, tc.wantErr) {
				t.Errorf("stdout %q, want it to contain %q\nstderr %q, want it to contain %q", res.stdout, tc.wantOut, res.stderr, tc.wantErr)
			}
		})
	}
}

// TestEveryCommandHasHelp checks --help on every command: exit 0, a usage
// line, examples and the exit codes.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, c := range [][]string{
		{"login"}, {"logout"}, {"status"}, {"me"}, {"enrollments"}, {"metadata"}, {"metadata", "get"}, {"metadata", "set"}, {"metadata", "unset"},
		{"link"}, {"unlink"}, {"device-credential"}, {"device-credential", "create"}, {"device-credential", "delete"}, {"demo"},
	} {
		t.Run(strings.Join(c, "_"), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			res := h.run(append(c, "--help")...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			for _, want := range []string{"Usage:\n  auth0me " + strings.Join(c, " "), "Exit status:"} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("help lacks %q:\n%s", want, res.stdout)
				}
			}
			if len(c) == 1 && (c[0] == "metadata" || c[0] == "device-credential") {
				if !strings.Contains(res.stdout, "Commands:") {
					t.Errorf("help lacks subcommands:\n%s", res.stdout)
				}
			} else if !strings.Contains(res.stdout, "Examples:\n  auth0me ") {
				t.Errorf("help lacks examples:\n%s", res.stdout)
			}
		})
	}
}

// TestDomainFromAudience checks that with --token and neither --domain nor
// --base-url, the tenant is https://{domain} from the token's aud, and that
// --domain wins over it.
func TestDomainFromAudience(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithTLS())
	h := newHarness(t, tn)
	h.noBaseURL = true
	tok := h.token(userAda, "read:current_user")
	if res := h.run("me", "--token", tok); res.code != 0 || !strings.Contains(res.stdout, userAda) {
		t.Errorf("me: %+v", res)
	}
	// A domain the token is not for: the guard refuses on audience before
	// sending (exit 4).
	before := len(tn.Requests())
	res := h.run("me", "--token", tok, "--domain", "127.0.0.1:1")
	if res.code != cli.ExitLogin || !strings.Contains(res.stderr, "audience") {
		t.Errorf("me with another domain: %+v", res)
	}
	h.env["AUTH0_DOMAIN"] = "127.0.0.1:1"
	if res := h.run("me", "--token", tok, "--domain", tn.Domain()); res.code != 0 {
		t.Errorf("--domain does not win over $AUTH0_DOMAIN: %+v", res)
	}
	if res := h.run("me", "--token", tok); res.code != cli.ExitLogin {
		t.Errorf("$AUTH0_DOMAIN does not win over the audience: %+v", res)
	}
	if n := len(tn.Requests()) - before; n != 1 {
		t.Errorf("%d requests reached the tenant, want 1", n)
	}
}
