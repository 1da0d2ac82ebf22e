package cli_test

import (
	"strings"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
)

// TestDebug: --debug traces each request and answer on stderr, with the
// token, the codes and the refresh token redacted (the harness fails the
// test when any output holds a token, a part of one, or the token file's
// secrets).
func TestDebug(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda))
	h := newHarness(t, tn)
	h.browse = browser(tn.Client())

	res := h.run("login", "--client-id", tn.ClientID(), "--debug")
	if res.code != 0 {
		t.Fatalf("login --debug: %+v", res)
	}
	for _, want := range []string{
		"> POST " + tn.URL() + "/oauth/token\n",
		"&code=[redacted]&code_verifier=[redacted]&grant_type=authorization_code",
		`< {"access_token":"[redacted]"`,
		`"refresh_token":"[redacted]"`,
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("login --debug trace lacks %q:\n%s", want, res.stderr)
		}
	}
	rt := h.readTokenFile().RefreshToken
	res = h.run("me", "--debug")
	for _, want := range []string{
		"> GET " + tn.URL() + "/api/v2/users/auth0%7Cada\n",
		"> Authorization: Bearer [redacted]\n",
		"< 200 OK (",
		`"user_id":"auth0|ada"`,
	} {
		if res.code != 0 || !strings.Contains(res.stderr, want) {
			t.Errorf("me --debug trace lacks %q (exit %d):\n%s", want, res.code, res.stderr)
		}
	}
	if strings.Contains(res.stdout, ">") || !strings.Contains(res.stdout, "auth0|ada") {
		t.Errorf("me --debug stdout: %q", res.stdout)
	}
	h.secrets = append(h.secrets, rt)
	if res := h.run("logout", "--debug"); res.code != 0 || !strings.Contains(res.stderr, "> client_id="+tn.ClientID()+"&token=[redacted]") {
		t.Errorf("logout --debug: %+v", res)
	}
}
