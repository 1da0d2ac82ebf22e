package cli_test

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// Users every test tenant holds.
const (
	userAda   = "auth0|ada"
	userGoog  = "google-oauth2|1071234567890"
	userGrace = "auth0|grace"
	userGhost = "auth0|ghost" // in no tenant
)

var allScopes = []string{
	"read:current_user", "update:current_user_identities", "update:current_user_metadata",
	"create:current_user_metadata", "create:current_user_device_credentials", "delete:current_user_device_credentials",
}

var seedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testUsers are the users of every test tenant: Ada, her Google account and
// Grace.
var testUsers = apitest.WithUsers(
	apitest.User{
		ID: userAda, Email: "ada@example.com", EmailVerified: true, Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace",
		CreatedAt: seedTime, UpdatedAt: seedTime,
		UserMetadata: map[string]any{"theme": "light", "langs": []any{"en", "fr"}},
		AppMetadata:  map[string]any{"plan": "free"},
		Enrollments: []apitest.Enrollment{{
			ID: "totp|dev_ada0001", Status: "confirmed", Type: "authenticator", Name: "Ada's phone", AuthMethod: "authenticator",
			EnrolledAt: seedTime, LastAuth: seedTime.Add(time.Hour),
		}},
	},
	apitest.User{ID: userGoog, Email: "ada.l@gmail.example", EmailVerified: true, Name: "Ada L.", CreatedAt: seedTime},
	apitest.User{ID: userGrace, Email: "grace@example.com", Name: "Grace Hopper", CreatedAt: seedTime},
)

// result is one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// harness runs the command in-process with its own config directory and
// environment.
type harness struct {
	t         *testing.T
	tn        *apitest.Tenant
	configDir string
	env       map[string]string
	client    *http.Client
	browse    func(ctx context.Context, url string) error
	interact  bool
	stdinTTY  bool // Env.StdinTTY: unlink and device-credential delete may ask
	noBaseURL bool // do not add --base-url TENANT
	stdin     string
	secrets   []string // must never appear in any output
}

func newHarness(t *testing.T, tn *apitest.Tenant) *harness {
	t.Helper()
	h := &harness{t: t, tn: tn, configDir: t.TempDir(), env: map[string]string{}}
	if tn != nil {
		h.client = tn.Client()
	}
	return h
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{
		Stdout:      &out,
		Stderr:      &errb,
		Stdin:       strings.NewReader(h.stdin),
		Getenv:      func(k string) string { return h.env[k] },
		ConfigDir:   func() (string, error) { return h.configDir, nil },
		HTTPClient:  h.client,
		Browse:      h.browse,
		Interactive: h.interact,
		StdinTTY:    h.stdinTTY,
	}
	if h.tn != nil && !h.noBaseURL {
		args = append(append([]string(nil), args...), "--base-url", h.tn.URL())
	}
	code := cli.Run(h.t.Context(), env, args)
	res := result{code: code, stdout: out.String(), stderr: errb.String()}
	h.checkSecrets(res)
	return res
}

// checkSecrets fails when any output holds a token, or the signature of
// one, or the token file's secrets.
func (h *harness) checkSecrets(res result) {
	h.t.Helper()
	secrets := append([]string(nil), h.secrets...)
	if b, err := os.ReadFile(h.tokenFile()); err == nil {
		for _, f := range regexp.MustCompile(`"(access_token|refresh_token)": "([^"]+)"`).FindAllStringSubmatch(string(b), -1) {
			secrets = append(secrets, f[2])
		}
	}
	// Nothing that looks like a JWT or an apitest refresh token, whoever
	// issued it.
	if m := jwtLike.FindString(res.stdout + res.stderr); m != "" {
		h.t.Errorf("output contains a token-like string %.20s...:\nstdout: %s\nstderr: %s", m, res.stdout, res.stderr)
	}
	for _, s := range secrets {
		for _, part := range append([]string{s}, strings.Split(s, ".")...) {
			if len(part) < 16 {
				continue
			}
			if strings.Contains(res.stdout, part) || strings.Contains(res.stderr, part) {
				h.t.Errorf("output contains a secret (or part of one):\nstdout: %s\nstderr: %s", res.stdout, res.stderr)
				return
			}
		}
	}
}

// secretToken returns an access token and remembers it as a secret.
func (h *harness) token(sub string, scopes ...string) string {
	tok := h.tn.AccessToken(sub, scopes...)
	h.secrets = append(h.secrets, tok)
	return tok
}

func (h *harness) tokenFile() string {
	return filepath.Join(h.configDir, "auth0me", "token.json")
}

var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|v1\.[A-Za-z0-9]{40,}`)

var normalizers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<TIME>"},
	{regexp.MustCompile(`\(in -?[0-9hms.]+\)`), "(in <DURATION>)"},
	{regexp.MustCompile(`dcr_[A-Za-z0-9]+`), "dcr_<ID>"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<PORT>"},
	{regexp.MustCompile(`/authorize\?\S+`), "/authorize?<QUERY>"},
	{regexp.MustCompile(`\b[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}\b`), "<USER-CODE>"},
}

// normalize replaces what changes from run to run: ports, times, generated
// ids and the temporary config directory.
func (h *harness) normalize(s string) string {
	s = strings.ReplaceAll(s, h.configDir, "<CONFIG>")
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}

func (h *harness) render(res result) string {
	return h.normalize("exit: " + strconv.Itoa(res.code) + "\n--- stdout\n" + res.stdout + "--- stderr\n" + res.stderr)
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// refreshWith spends the refresh token rt at the tenant, behind the
// command's back.
func refreshWith(t *testing.T, tn *apitest.Tenant, rt string) error {
	t.Helper()
	cfg := &oauth2.Config{ClientID: tn.ClientID(), Endpoint: oauth2.Endpoint{TokenURL: tn.URL() + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, tn.Client())
	_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	return err
}

// login signs in to the harness's tenant through the browser flow, its
// browser following the tenant's redirect, and fails the test when it
// does not succeed.
func (h *harness) login(extra ...string) {
	h.t.Helper()
	h.browse = browser(h.tn.Client())
	if res := h.run(append([]string{"login", "--client-id", h.tn.ClientID()}, extra...)...); res.code != 0 {
		h.t.Fatalf("login: %+v", res)
	}
}
