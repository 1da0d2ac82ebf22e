package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// TestStatusExpired: with the access token expired, status shows the claims
// and operations and exits 4 with the reason, without refreshing;
// --refresh refreshes (exit 0); when the refresh fails, status still shows
// the claims and says why, exit 4.
func TestStatusExpired(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda), apitest.WithTokenLifetimes(time.Second, time.Hour))
	h := newHarness(t, tn)
	h.login("--scope", "read:current_user")
	time.Sleep(1100 * time.Millisecond) // the 1-second token expires
	tn.SetTokenLifetimes(time.Hour, time.Hour)

	res := h.run("status")
	if res.code != cli.ExitLogin {
		t.Errorf("status with an expired token: exit %d, want 4", res.code)
	}
	for _, want := range []string{"Subject       auth0|ada", "(expired)", "allowed  GET", "Usable now    no: it expired"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "not usable now: it expired") || !strings.Contains(res.stderr, "status --refresh") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("status stderr: %q", res.stderr)
	}
	if n := refreshCount(t, tn); n != 0 {
		t.Errorf("status without --refresh sent %d refresh request(s)", n)
	}

	res = h.run("status", "--refresh", "--json")
	var rep struct {
		Refreshed, Usable bool
		Problem           string
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || res.code != 0 || !rep.Refreshed || !rep.Usable {
		t.Errorf("status --refresh: %+v (%v)", res, err)
	}
	if n := refreshCount(t, tn); n != 1 {
		t.Errorf("status --refresh sent %d refresh request(s), want 1", n)
	}

	// Sign in again with a 1-second token, spend its refresh token behind
	// the command's back and let the access token expire: the refresh
	// fails.
	tn.SetTokenLifetimes(time.Second, time.Hour)
	h.login("--scope", "read:current_user")
	tf := h.readTokenFile()
	h.secrets = append(h.secrets, tf.RefreshToken)
	if err := refreshWith(t, tn, tf.RefreshToken); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	res = h.run("status", "--refresh", "--json")
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || res.code != cli.ExitLogin || rep.Usable || !strings.Contains(rep.Problem, "refreshing it failed") {
		t.Errorf("status --refresh with a spent refresh token: %+v (%v)", res, err)
	}
	if !strings.Contains(res.stdout, `"subject": "auth0|ada"`) || !strings.Contains(res.stderr, `"kind":"login"`) {
		t.Errorf("status --refresh --json, failed refresh: want the claims on stdout and a JSON error on stderr: %+v", res)
	}
}

// TestStatusGivenToken: an expired --token cannot be refreshed: exit 4.
func TestStatusGivenToken(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	c := tn.AccessTokenClaims(userAda, "read:current_user")
	c["exp"] = time.Now().Add(-40 * time.Second).Unix()
	tok, err := tn.SignToken(c)
	if err != nil {
		t.Fatal(err)
	}
	h.secrets = append(h.secrets, tok)
	res := h.run("status", "--token", tok, "--refresh")
	if res.code != cli.ExitLogin || !strings.Contains(res.stderr, "cannot be refreshed") || !strings.Contains(res.stdout, "refused  PATCH") {
		t.Errorf("status with an expired --token: %+v", res)
	}
}
