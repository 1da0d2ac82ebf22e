package apitest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
)

// implicitQuery is what auth0-js sends for checkSession or an implicit
// loginWithRedirect.
func implicitQuery(tn *apitest.Tenant, responseType, mode string) url.Values {
	q := url.Values{
		"client_id":     {tn.ClientID()},
		"response_type": {responseType},
		"redirect_uri":  {spaOrigin + "/callback"},
		"scope":         {"openid profile email read:current_user"},
		"audience":      {tn.Audience()},
		"state":         {"s1"},
		"nonce":         {"n1"},
	}
	if mode != "" {
		q.Set("response_mode", mode)
	}
	return q
}

func TestImplicit(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin), apitest.WithLoginUser(alice))

	// Fragment, the default: both tokens, the ID token bound to the access
	// token by at_hash.
	r := noRedirect(t, tn, "/authorize?"+implicitQuery(tn, "token id_token", "").Encode())
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != 302 || err != nil || loc.RawQuery != "" {
		t.Fatalf("%d %q", r.status, r.header.Get("Location"))
	}
	f, _ := url.ParseQuery(loc.Fragment)
	at, idt := f.Get("access_token"), f.Get("id_token")
	if at == "" || idt == "" || f.Get("state") != "s1" || f.Get("token_type") != "Bearer" || f.Get("expires_in") == "" || f.Get("code") != "" {
		t.Fatalf("fragment %v", f)
	}
	id := claimsOf(t, tn, idt)
	sum := sha256.Sum256([]byte(at))
	if id["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:16]) || id["nonce"] != "n1" || id["sub"] != alice || id["email"] != "alice@example.com" {
		t.Errorf("ID token claims %v", id)
	}
	if r := call(t, tn, "GET", userPath(alice), at, ""); r.status != 200 {
		t.Errorf("GET with the implicit access token: %d %s", r.status, r.body)
	}

	// web_message (auth0-js checkSession).
	m := readWebMessage(t, fromOrigin(t, tn, "GET", "/authorize?"+implicitQuery(tn, "id_token token", "web_message").Encode()+"&prompt=none", ""))
	if m.response["access_token"] == "" || m.response["id_token"] == "" || m.response["state"] != "s1" {
		t.Errorf("web_message response %v", m.response)
	}

	// id_token alone: no access token, no audience needed.
	q := implicitQuery(tn, "id_token", "")
	q.Del("audience")
	loc, _ = url.Parse(noRedirect(t, tn, "/authorize?"+q.Encode()).header.Get("Location"))
	f, _ = url.ParseQuery(loc.Fragment)
	if f.Get("id_token") == "" || f.Get("access_token") != "" {
		t.Errorf("id_token alone: %v", f)
	}
}

func TestImplicitErrors(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin))
	fragmentError := func(q url.Values) url.Values {
		t.Helper()
		r := noRedirect(t, tn, "/authorize?"+q.Encode())
		loc, err := url.Parse(r.header.Get("Location"))
		if r.status != 302 || err != nil {
			t.Fatalf("%d %q", r.status, r.header.Get("Location"))
		}
		f, _ := url.ParseQuery(loc.Fragment)
		if f.Get("access_token") != "" || f.Get("id_token") != "" {
			t.Errorf("tokens in an error answer: %v", f)
		}
		return f
	}
	if f := fragmentError(implicitQuery(tn, "token", "")); f.Get("error") != "login_required" || f.Get("state") != "s1" {
		t.Errorf("nobody signed in: %v", f)
	}
	tn.SetLoginUser(alice)
	q := implicitQuery(tn, "id_token", "")
	q.Del("nonce")
	if f := fragmentError(q); f.Get("error") != "invalid_request" {
		t.Errorf("no nonce: %v", f)
	}
	if f := fragmentError(implicitQuery(tn, "token", "query")); f.Get("error") != "invalid_request" {
		t.Errorf("response_mode=query: %v", f)
	}
	q = implicitQuery(tn, "token", "")
	q.Set("audience", "https://other.example/")
	if f := fragmentError(q); f.Get("error") != "access_denied" {
		t.Errorf("other audience: %v", f)
	}
	// Tokens never go to an origin that is not allowed.
	q = implicitQuery(tn, "token id_token", "")
	q.Set("redirect_uri", otherOrigin+"/cb")
	if r := noRedirect(t, tn, "/authorize?"+q.Encode()); r.status != 400 || r.header.Get("Location") != "" {
		t.Errorf("implicit to another origin: %d %q", r.status, r.header.Get("Location"))
	}
	if r := noRedirect(t, tn, "/authorize?"+implicitQuery(tn, "code id_token", "").Encode()); r.status != 302 {
		t.Errorf("hybrid response type: %d", r.status)
	}
}
