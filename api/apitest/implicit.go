package apitest

import (
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// mintTokens signs the tokens of a successful login for g: an access token
// (when access) and an ID token (when id), in the fields of a token
// response. With atHash the ID token carries at_hash, as OIDC requires of
// an ID token issued beside an access token from /authorize. It runs with
// t.mu held.
func (t *Tenant) mintTokens(g grant, access, id, atHash bool) (map[string]any, error) {
	now := t.now()
	res := map[string]any{}
	var atRaw string
	if access {
		api := strings.Join(apiScopes(g.scopes), " ")
		raw, err := t.SignToken(map[string]any{
			"iss":   t.Issuer(),
			"sub":   g.sub,
			"aud":   []string{g.audience, t.userinfoURL()},
			"azp":   t.clientID,
			"scope": api,
			"iat":   now.Unix(),
			"exp":   now.Add(t.cfg.atTTL).Unix(),
		})
		if err != nil {
			return nil, err
		}
		atRaw = raw
		res["access_token"] = raw
		res["token_type"] = "Bearer"
		res["expires_in"] = int64(t.cfg.atTTL / time.Second)
		res["scope"] = api
	}
	if id {
		c := map[string]any{"iss": t.Issuer(), "sub": g.sub, "aud": t.clientID, "iat": now.Unix(), "exp": now.Add(10 * time.Hour).Unix()}
		if g.nonce != "" {
			c["nonce"] = g.nonce
		}
		if atHash && atRaw != "" {
			sum := sha256.Sum256([]byte(atRaw))
			c["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
		}
		maps.Copy(c, t.profileClaims(g.sub))
		raw, err := t.SignToken(c)
		if err != nil {
			return nil, err
		}
		res["id_token"] = raw
	}
	return res, nil
}

// implicitTypes reads an implicit-grant response_type ("token",
// "id_token", or both in either order); ok is false for anything else.
func implicitTypes(rt string) (access, id, ok bool) {
	f := strings.Fields(rt)
	slices.Sort(f)
	switch strings.Join(f, " ") {
	case "token":
		return true, false, true
	case "id_token":
		return false, true, true
	case "id_token token":
		return true, true, true
	}
	return false, false, false
}

// checkImplicit checks an /authorize request of the implicit grant,
// answering it itself (and returning false) when it fails: the tokens
// themselves go to the redirect URI, in its fragment (the default), by
// form_post or by web_message, so its origin must be an allowed web origin (else 400, not
// a redirect). A code-flow response mode (query) is refused; an ID token
// needs a nonce, an access token the Management API audience.
func (t *Tenant) checkImplicit(w http.ResponseWriter, q url.Values, cb *url.URL, access, id, webMessage bool,
	fragment *bool, fail func(code, desc string)) bool {
	if !t.originAllowed(urlOrigin(cb)) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request",
			"Callback URL mismatch. "+cb.String()+" is not in the list of allowed callback URLs")
		return false
	}
	switch q.Get("response_mode") {
	case "":
		*fragment = !webMessage
	case "query":
		*fragment = true
		fail("invalid_request", "response_mode=query is not allowed with response_type="+q.Get("response_type"))
		return false
	}
	aud := q.Get("audience")
	switch {
	case id && q.Get("nonce") == "":
		fail("invalid_request", "Parameter 'nonce' is required when response_type includes id_token")
	case access && aud == "":
		fail("invalid_request", "Parameter 'audience' is required")
	case access && aud != t.Audience():
		fail("access_denied", "Service not found: "+aud)
	default:
		return true
	}
	return false
}
