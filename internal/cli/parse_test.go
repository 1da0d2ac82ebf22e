package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"
)

// parse runs one command's constructor on args with a runF that only
// captures the options, as gh tests its NewCmdX: parsing apart from
// running.
func parse[O any](t *testing.T, newCmd func(*factory, func(context.Context, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	f := &factory{env: Env{Getenv: func(string) string { return "" }}}
	var got *O
	cmd := newCmd(f, func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageErr{msg: err.Error()} })
	_, err := cmd.ExecuteC()
	return got, err
}

func TestNewCmdLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want loginOptions
	}{
		{nil, loginOptions{Timeout: 5 * time.Minute}},
		{[]string{"--client-id", "abc", "--device", "--scope", "read:current_user", "--scope", "a,b", "--port", "8484", "--timeout", "1m"},
			loginOptions{ClientID: "abc", Device: true, Scopes: []string{"read:current_user", "a,b"}, Port: 8484, Timeout: time.Minute}},
	}
	for _, tc := range tests {
		got, err := parse(t, newCmdLogin, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(loginOptions{}), cmpopts.IgnoreFields(loginOptions{}, "f")); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.args, diff)
		}
	}
	if _, err := parse(t, newCmdLogin, "--port", "x"); err == nil || !strings.Contains(err.Error(), "--port") {
		t.Errorf("--port x: %v", err)
	}
	if _, err := parse(t, newCmdLogin, "extra"); err == nil {
		t.Errorf("login extra: no error")
	}
}

func TestNewCmdPositional(t *testing.T) {
	t.Parallel()
	set, err := parse(t, newCmdMetadataSet, "a=1", "b={}")
	if err != nil || !cmp.Equal(set.Assignments, []string{"a=1", "b={}"}) {
		t.Errorf("metadata set: %+v, %v", set, err)
	}
	unset, err := parse(t, newCmdMetadataUnset, "a", "b")
	if err != nil || !cmp.Equal(unset.Keys, []string{"a", "b"}) {
		t.Errorf("metadata unset: %+v, %v", unset, err)
	}
	un, err := parse(t, newCmdUnlink, "google-oauth2", "108")
	if err != nil || un.Provider != "google-oauth2" || un.UserID != "108" {
		t.Errorf("unlink: %+v, %v", un, err)
	}
	if _, err := parse(t, newCmdUnlink, "google-oauth2"); err == nil || !strings.Contains(err.Error(), "exactly 2 arguments") {
		t.Errorf("unlink with one argument: %v", err)
	}
	del, err := parse(t, newCmdDeviceCredentialDelete, "dcr_1")
	if err != nil || del.ID != "dcr_1" {
		t.Errorf("device-credential delete: %+v, %v", del, err)
	}
	cr, err := parse(t, newCmdDeviceCredentialCreate, "--name", "n", "--device-id", "0a", "--value", "AA", "--client-id", "c")
	if err != nil || cr.Name != "n" || cr.DeviceID != "0a" || cr.Value != "AA" || cr.ClientID != "c" {
		t.Errorf("device-credential create: %+v, %v", cr, err)
	}
	ln, err := parse(t, newCmdLink, "--id-token", "-")
	if err != nil || ln.IDToken != "-" {
		t.Errorf("link: %+v, %v", ln, err)
	}
}

// TestHelpWidth: every help page, of every command and topic, fits in 80
// columns.
func TestHelpWidth(t *testing.T) {
	t.Parallel()
	f := &factory{env: Env{Getenv: func(string) string { return "" }}}
	root := newCmdRoot(f)
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		var b bytes.Buffer
		renderHelp(&b, c)
		for i, line := range strings.Split(b.String(), "\n") {
			if n := len([]rune(line)); n > helpWidth {
				t.Errorf("%s help line %d has %d columns: %q", c.CommandPath(), i+1, n, line)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		-time.Second:                          "0s",
		40 * time.Second:                      "40s",
		40*time.Second + 900*time.Millisecond: "40s",
		time.Minute:                           "1m",
		5*time.Minute + 3*time.Second:         "5m3s",
		24*time.Hour - time.Second:            "23h59m",
		2 * time.Hour:                         "2h",
		30 * 24 * time.Hour:                   "30d",
		76 * time.Hour:                        "3d4h",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestNewCmdStatus(t *testing.T) {
	t.Parallel()
	got, err := parse(t, newCmdStatus, "--refresh")
	if err != nil || !got.Refresh {
		t.Errorf("status --refresh: %+v, %v", got, err)
	}
}

func TestNewCmdMetadata(t *testing.T) {
	t.Parallel()
	get, err := parse(t, newCmdMetadataGet, "a", "b")
	if err != nil || !cmp.Equal(get.Keys, []string{"a", "b"}) {
		t.Errorf("metadata get a b: %+v, %v", get, err)
	}
	set, err := parse(t, newCmdMetadataSet, "--string", "a={")
	if err != nil || !set.String || !cmp.Equal(set.Assignments, []string{"a={"}) {
		t.Errorf("metadata set --string: %+v, %v", set, err)
	}
}

// TestTraceRedaction: --debug's body rendering redacts secret fields at any
// depth of JSON, secret form fields, and JWT-looking strings anywhere.
func TestTraceRedaction(t *testing.T) {
	t.Parallel()
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHxhZGEifQ.c2lnbmF0dXJl"
	for _, tc := range []struct{ contentType, body, want string }{
		{"application/json", `{"link_with":"` + jwt + `","nested":{"refresh_token":"v1.abc"},"message":"bad token ` + jwt + `"}`,
			`{"link_with":"[redacted]","message":"bad token [redacted]","nested":{"refresh_token":"[redacted]"}}`},
		{"application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=v1.abc&client_id=c",
			"client_id=c&grant_type=refresh_token&refresh_token=[redacted]"},
		{"text/plain", "upstream rejected " + jwt, "upstream rejected [redacted]"},
	} {
		var b strings.Builder
		writeBody(&b, "< ", tc.contentType, []byte(tc.body))
		if got := b.String(); got != "< \n< "+tc.want+"\n" {
			t.Errorf("%s body %q traced as %q, want %q", tc.contentType, tc.body, got, tc.want)
		}
	}
}

// TestExitTableInREADME: the README's exit-status table says what
// 'auth0me help exit-codes' says, row for row.
func TestExitTableInREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	clean := strings.NewReplacer("`", "").Replace
	var fromREADME []string
	for line := range strings.SplitSeq(string(readme), "\n") {
		if cells := strings.Split(line, "|"); len(cells) == 4 && strings.TrimSpace(cells[1]) != "" && strings.Trim(strings.TrimSpace(cells[1]), "0123456789") == "" {
			fromREADME = append(fromREADME, strings.TrimSpace(cells[1])+" "+clean(strings.TrimSpace(cells[2])))
		}
	}
	var fromHelp []string
	for line := range strings.SplitSeq(exitCodesHelp, "\n") {
		switch f := strings.Fields(line); {
		case len(f) > 1 && strings.Trim(f[0], "0123456789") == "":
			fromHelp = append(fromHelp, strings.Join(f, " "))
		case len(f) > 0 && len(fromHelp) > 0 && strings.HasPrefix(line, "       "):
			fromHelp[len(fromHelp)-1] += " " + strings.Join(f, " ")
		}
	}
	if diff := cmp.Diff(fromHelp, fromREADME); diff != "" || len(fromHelp) < 6 {
		t.Errorf("README's exit table differs from exitCodesHelp (-help +README):\n%s", diff)
	}
}
