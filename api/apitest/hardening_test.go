package apitest_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
)

// Regression tests for issue 12 items 6 and 12.

// Item 12: a structurally valid token whose alg is none or unknown is an
// invalid token (401), not a malformed header (400), as FACTS.md §3 says.
func TestUnknownAlgIsInvalidToken(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	payload := enc(tn.AccessTokenClaims(alice, "read:current_user"))
	want := errBody(401, "Unauthorized", "Invalid token", "")
	want["attributes"] = map[string]any{"error": "Invalid token"}
	for name, tok := range map[string]string{
		"alg none":         enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + payload + ".",
		"alg none, signed": enc(map[string]string{"alg": "none"}) + "." + payload + ".c2ln",
		"unknown alg":      enc(map[string]string{"alg": "XS512", "typ": "JWT"}) + "." + payload + ".c2ln",
		"lower-case rs256": enc(map[string]string{"alg": "rs256", "typ": "JWT"}) + "." + payload + ".c2ln",
	} {
		r := call(t, tn, "GET", userPath(alice), tok, "")
		if r.status != 401 {
			t.Errorf("%s: status %d, want 401", name, r.status)
			continue
		}
		if d := cmp.Diff(want, r.json(t)); d != "" {
			t.Errorf("%s: body (-want +got):\n%s", name, d)
		}
	}
}

// Item 6: scopes are split on U+0020 alone.
func TestScopesSplitOnSpaceOnly(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	for _, scope := range []string{"foo\tread:current_user", "foo\u00a0read:current_user", "foo\u2003read:current_user", "foo\nread:current_user"} {
		tok := mustSign(t, tn, tn.AccessTokenClaims(alice, scope))
		r := call(t, tn, "GET", userPath(alice), tok, "")
		if r.status != 403 || !strings.Contains(string(r.body), "insufficient_scope") {
			t.Errorf("scope %q: status %d %s, want 403 insufficient_scope", scope, r.status, r.body)
		}
	}
	tok := mustSign(t, tn, tn.AccessTokenClaims(alice, "foo", "read:current_user"))
	if r := call(t, tn, "GET", userPath(alice), tok, ""); r.status != 200 {
		t.Errorf("space-separated scopes: status %d, want 200", r.status)
	}
}
