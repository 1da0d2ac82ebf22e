package cli_test

import (
	"strings"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// TestSecondTenant: signing in to a second tenant keeps the first one's
// entry; the last login is the default; --domain and $AUTH0ME_DOMAIN select
// an entry; logout of one keeps the other.
func TestSecondTenant(t *testing.T) {
	t.Parallel()
	one := apitest.New(t, testUsers, apitest.WithLoginUser(userAda))
	two := apitest.New(t, testUsers, apitest.WithLoginUser(userGrace))
	h := newHarness(t, nil)
	h.noBaseURL = true
	for _, tn := range []*apitest.Tenant{one, two} {
		h.client = tn.Client()
		h.browse = browser(tn.Client())
		if res := h.run("login", "--client-id", tn.ClientID(), "--base-url", tn.URL()); res.code != 0 {
			t.Fatalf("login to %s: %+v", tn.Domain(), res)
		}
	}
	h.tn = one
	h.readEntry(one.Domain())
	h.readEntry(two.Domain())
	// Shell completion offers both tenants for --domain.
	if res := h.run("__complete", "me", "--domain", ""); res.code != 0 || !strings.Contains(res.stdout, one.Domain()+"\n") || !strings.Contains(res.stdout, two.Domain()+"\n") {
		t.Errorf("completion of --domain: %+v", res)
	}

	// Both tenants listen on loopback; either client reaches both.
	me := func(args ...string) result {
		t.Helper()
		return h.run(append([]string{"me", "--json"}, args...)...)
	}
	if res := me(); res.code != 0 || !strings.Contains(res.stdout, userGrace) {
		t.Errorf("me with the default (last) tenant: %+v", res)
	}
	if res := me("--domain", one.Domain()); res.code != 0 || !strings.Contains(res.stdout, userAda) {
		t.Errorf("me --domain first tenant: %+v", res)
	}
	h.env["AUTH0ME_DOMAIN"] = one.Domain()
	if res := me(); res.code != 0 || !strings.Contains(res.stdout, userAda) {
		t.Errorf("me with $AUTH0ME_DOMAIN: %+v", res)
	}
	if res := me("--domain", "127.0.0.1:1"); res.code != cli.ExitLogin || !strings.Contains(res.stderr, "not signed in to 127.0.0.1:1") {
		t.Errorf("me --domain unknown tenant: %+v", res)
	}
	delete(h.env, "AUTH0ME_DOMAIN")

	if res := h.run("logout", "--domain", two.Domain()); res.code != 0 || !strings.Contains(res.stdout, "Signed out of "+two.Domain()) {
		t.Fatalf("logout of the second tenant: %+v", res)
	}
	// The first tenant's entry is now the default.
	if res := me(); res.code != 0 || !strings.Contains(res.stdout, userAda) {
		t.Errorf("me after logging out of the second tenant: %+v", res)
	}
}

// TestLogoutRevokes: logout revokes the refresh token at the tenant before
// deleting the entry; the revoked token no longer refreshes. When the tenant
// cannot be reached the entry is deleted all the same, and logout says so
// and exits 1.
func TestLogoutRevokes(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda))
	h := newHarness(t, tn)
	h.login()
	rt := h.readTokenFile().RefreshToken
	h.secrets = append(h.secrets, rt)
	res := h.run("logout", "--json")
	if res.code != 0 || !strings.Contains(res.stdout, `"revoked": true`) {
		t.Fatalf("logout: %+v", res)
	}
	var revokes int
	for _, r := range tn.Requests() {
		if r.EscapedPath == "/oauth/revoke" {
			revokes++
		}
	}
	if revokes != 1 {
		t.Errorf("%d revocation requests, want 1", revokes)
	}
	if err := refreshWith(t, tn, rt); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh with the revoked token: %v, want invalid_grant", err)
	}

	// A tenant that is gone: the entry goes, the failure is reported.
	h.login()
	h.secrets = append(h.secrets, h.readTokenFile().RefreshToken)
	tn.Close()
	res = h.run("logout", "--json")
	if res.code != cli.ExitAPI || !strings.Contains(res.stdout, `"removed": true`) || !strings.Contains(res.stdout, `"revoked": false`) ||
		!strings.HasPrefix(res.stderr, `{"error":{`) || !strings.Contains(res.stderr, "could not revoke the refresh token") {
		t.Errorf("logout with the tenant gone: %+v", res)
	}
	if res := h.run("logout"); res.code != 0 || !strings.Contains(res.stdout, "Not signed in") {
		t.Errorf("logout again: %+v", res)
	}
}
