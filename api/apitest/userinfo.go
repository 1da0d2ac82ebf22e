package apitest

import (
	"maps"
	"net/http"

	"github.com/auth0me/auth0me/internal/bearer"
)

// profileClaims returns the OIDC profile claims of user sub (none when sub
// is not a user): what ID tokens and /userinfo carry. t.mu must be held.
func (t *Tenant) profileClaims(sub string) map[string]any {
	c := map[string]any{}
	if u, ok := t.users[sub]; ok {
		maps.Copy(c, u.profileData())
		if u.Name != "" {
			c["name"] = u.Name
		}
	}
	return c
}

// serveUserinfo answers GET or POST /userinfo: the profile claims of the
// bearer token's sub, for a valid access token whose aud includes
// https://{domain}/userinfo; else a 401 invalid_token OAuth error with an
// RFC 6750 WWW-Authenticate.
func (t *Tenant) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed")
		return
	}
	claims, err := t.authenticate(bearer.FromHeader(r.Header))
	if err != nil || !claims.Audience.Contains(t.userinfoURL()) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "Unauthorized")
		return
	}
	t.mu.Lock()
	res := t.profileClaims(claims.Subject)
	t.mu.Unlock()
	res["sub"] = claims.Subject
	writeJSON(w, http.StatusOK, res)
}

// userinfoURL is the second audience of every access token.
func (t *Tenant) userinfoURL() string { return "https://" + t.domain + "/userinfo" }
