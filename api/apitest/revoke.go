package apitest

import "net/http"

// serveRevoke answers POST /oauth/revoke (RFC 7009 as Auth0 serves it):
// the body names client_id and the refresh token. The token and every
// refresh token of its rotation family stop working. Like Auth0, the
// answer is 200 with an empty body also for a token the tenant does not
// know; a missing token is 400 invalid_request and a missing or unknown
// client_id 401 invalid_client.
func (t *Tenant) serveRevoke(w http.ResponseWriter, r *http.Request, body []byte) {
	v, ok := t.clientForm(w, r, body)
	if !ok {
		return
	}
	raw := v.Get("token")
	if raw == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: token")
		return
	}
	t.mu.Lock()
	if rg, ok := t.login.refresh[raw]; ok {
		for k, o := range t.login.refresh {
			if o.family == rg.family {
				delete(t.login.refresh, k)
			}
		}
	}
	t.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
