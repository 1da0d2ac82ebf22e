package apitest_test

import (
	"net/url"
	"testing"
	"testing/synctest"

	"github.com/auth0me/auth0me/api/apitest"
)

// TestRevoke: after POST /oauth/revoke the refresh token, and the tokens it
// was rotated into or from, no longer refresh; another login's token keeps
// working; unknown tokens are 200 too; a missing token or client is refused.
func TestRevoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := apitest.New(t, apitest.WithMemoryNetwork(), testUsers, apitest.WithLoginUser(alice))
		conf := oauthConfig(tn, "openid", "offline_access", "read:current_user")
		first := pkceLogin(t, tn, conf)
		other := pkceLogin(t, tn, conf)
		refresh := func(rt string) (int, map[string]any) {
			return postForm(t, tn, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {tn.ClientID()}, "refresh_token": {rt}})
		}
		revoke := func(form url.Values) (int, map[string]any) {
			return postForm(t, tn, "/oauth/revoke", form)
		}
		// Rotate once: the family now holds a retired and a live token.
		status, body := refresh(first.RefreshToken)
		if status != 200 {
			t.Fatalf("refresh: %d %v", status, body)
		}
		live := body["refresh_token"].(string)

		if status, body := revoke(url.Values{"client_id": {tn.ClientID()}, "token": {first.RefreshToken}}); status != 200 || body != nil {
			t.Fatalf("revoke: %d %v, want 200 and an empty body", status, body)
		}
		if status, body := refresh(live); status != 403 || body["error"] != "invalid_grant" {
			t.Errorf("refresh with the revoked family's live token: %d %v, want 403 invalid_grant", status, body)
		}
		if status, _ := refresh(other.RefreshToken); status != 200 {
			t.Errorf("another login's refresh token stopped working: %d", status)
		}

		for _, tc := range []struct {
			name       string
			form       url.Values
			wantStatus int
			wantError  string
		}{
			{"unknown token", url.Values{"client_id": {tn.ClientID()}, "token": {"v1.unknown"}}, 200, ""},
			{"already revoked", url.Values{"client_id": {tn.ClientID()}, "token": {live}}, 200, ""},
			{"no token", url.Values{"client_id": {tn.ClientID()}}, 400, "invalid_request"},
			{"no client", url.Values{"token": {live}}, 401, "invalid_client"},
			{"other client", url.Values{"client_id": {"someone-else"}, "token": {live}}, 401, "invalid_client"},
		} {
			status, body := revoke(tc.form)
			if status != tc.wantStatus || (tc.wantError != "" && body["error"] != tc.wantError) {
				t.Errorf("%s: %d %v, want %d %s", tc.name, status, body, tc.wantStatus, tc.wantError)
			}
		}
	})
}
