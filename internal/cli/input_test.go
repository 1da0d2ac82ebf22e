package cli_test

import (
	"strings"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// TestTokenInput: --token - reads standard input; tokens from standard
// input and $AUTH0_TOKEN are trimmed (a file's trailing newline); a given
// but empty --token is a usage error, not a fallback to $AUTH0_TOKEN.
func TestTokenInput(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	tok := h.token(userAda, "read:current_user")

	h.stdin = tok + "\n"
	if res := h.run("me", "--token", "-"); res.code != 0 || !strings.Contains(res.stdout, userAda) {
		t.Errorf("me --token - with the token on stdin: %+v", res)
	}
	h.stdin = " \n"
	if res := h.run("me", "--token", "-"); res.code != cli.ExitUsage || !strings.Contains(res.stderr, "no access token on standard input") {
		t.Errorf("me --token - with nothing on stdin: %+v", res)
	}
	h.stdin = ""

	h.env["AUTH0_TOKEN"] = "  " + tok + "\r\n"
	if res := h.run("me"); res.code != 0 || !strings.Contains(res.stdout, userAda) {
		t.Errorf("me with $AUTH0_TOKEN padded with whitespace: %+v", res)
	}
	before := len(tn.Requests())
	if res := h.run("me", "--token", ""); res.code != cli.ExitUsage || !strings.Contains(res.stderr, "--token is empty") {
		t.Errorf("me --token '': %+v", res)
	}
	if res := h.run("me", "--token="); res.code != cli.ExitUsage {
		t.Errorf("me --token=: %+v", res)
	}
	if n := len(tn.Requests()) - before; n != 0 {
		t.Errorf("an empty --token sent %d request(s)", n)
	}
}

// TestMetadataGetAndStrictSet: metadata get prints user_metadata or some of
// its keys; metadata set refuses a value that starts like JSON and is not,
// before sending, and --string stores it as it is.
func TestMetadataGetAndStrictSet(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	read := h.token(userAda, "read:current_user")
	write := h.token(userAda, "update:current_user_metadata")

	res := h.run("metadata", "get", "--token", read)
	if res.code != 0 || res.stdout != "langs  [\"en\",\"fr\"]\ntheme  \"light\"\n" {
		t.Errorf("metadata get: %+v", res)
	}
	res = h.run("metadata", "get", "theme", "nope", "--token", read, "--json")
	if res.code != 0 || strings.Join(strings.Fields(res.stdout), "") != `{"theme":"light"}` {
		t.Errorf("metadata get theme nope --json: %+v", res)
	}
	res = h.run("metadata", "get", "theme", "nope", "--token", read)
	if res.code != 0 || res.stdout != "theme  \"light\"\nnope   (not set)\n" {
		t.Errorf("metadata get theme nope: %+v", res)
	}

	before := len(tn.Requests())
	res = h.run("metadata", "set", `addr={"city":"Lyon",}`, "--token", write)
	if res.code != cli.ExitUsage || !strings.Contains(res.stderr, "the value of addr is not valid JSON") || !strings.Contains(res.stderr, "--string") {
		t.Errorf("metadata set with broken JSON: %+v", res)
	}
	if n := len(tn.Requests()) - before; n != 0 {
		t.Errorf("broken JSON sent %d request(s)", n)
	}
	if res := h.run("metadata", "set", "--string", `addr={"city":"Lyon",}`, "--token", write); res.code != 0 {
		t.Errorf("metadata set --string: %+v", res)
	}
	if u, _ := tn.User(userAda); u.UserMetadata["addr"] != `{"city":"Lyon",}` {
		t.Errorf("addr = %#v, want the raw string", u.UserMetadata["addr"])
	}
}
