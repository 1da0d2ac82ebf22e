package apitest_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api/apitest"
)

// webMessage is what the web_message page posts, read back from its
// script.
type webMessage struct {
	targetOrigin string
	response     map[string]string
}

var (
	targetOriginRE = regexp.MustCompile(`var targetOrigin = ("[^"]*");`)
	responseRE     = regexp.MustCompile(`response: (\{[^}]*\})\};`)
)

// readWebMessage parses the page; it fails the test when the page is not
// the web_message page.
func readWebMessage(t *testing.T, r response) webMessage {
	t.Helper()
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("web_message answer: %d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	o, res := targetOriginRE.FindSubmatch(r.body), responseRE.FindSubmatch(r.body)
	if o == nil || res == nil || !strings.Contains(string(r.body), `type: "authorization_response"`) {
		t.Fatalf("not a web_message page:\n%s", r.body)
	}
	var m webMessage
	if err := json.Unmarshal(o[1], &m.targetOrigin); err != nil {
		t.Fatalf("targetOrigin %s: %v", o[1], err)
	}
	if err := json.Unmarshal(res[1], &m.response); err != nil {
		t.Fatalf("response %s: %v", res[1], err)
	}
	return m
}

// spaAuthorize is the query auth0-spa-js sends for a silent login.
func spaAuthorize(tn *apitest.Tenant, challenge string) url.Values {
	return url.Values{
		"client_id":             {tn.ClientID()},
		"scope":                 {"openid profile email read:current_user"},
		"audience":              {tn.Audience()},
		"redirect_uri":          {spaOrigin + "/callback"},
		"response_type":         {"code"},
		"response_mode":         {"web_message"},
		"prompt":                {"none"},
		"state":                 {"st<ate>\"'"},
		"nonce":                 {"n0nce"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"auth0Client":           {"eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0="},
	}
}

func TestWebMessage(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin), apitest.WithLoginUser(alice))
	verifier := oauth2.GenerateVerifier()
	q := spaAuthorize(tn, oauth2.S256ChallengeFromVerifier(verifier))

	m := readWebMessage(t, fromOrigin(t, tn, "GET", "/authorize?"+q.Encode(), ""))
	if m.targetOrigin != spaOrigin {
		t.Errorf("targetOrigin %q, want %q", m.targetOrigin, spaOrigin)
	}
	if m.response["state"] != q.Get("state") || m.response["code"] == "" || m.response["error"] != "" {
		t.Fatalf("response %v", m.response)
	}

	// The code is exchanged with a JSON body, as auth0-spa-js does with
	// useFormData: false.
	body, _ := json.Marshal(map[string]string{
		"client_id": tn.ClientID(), "grant_type": "authorization_code", "code": m.response["code"],
		"code_verifier": verifier, "redirect_uri": q.Get("redirect_uri"),
	})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", tn.URL()+"/oauth/token", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Auth0-Client", q.Get("auth0Client"))
	req.Header.Set("Origin", spaOrigin)
	res, err := tn.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != 200 || tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("JSON token request: %d, %v, %+v", res.StatusCode, err, tok)
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != spaOrigin {
		t.Errorf("token answer Access-Control-Allow-Origin %q", got)
	}
	if got := claimsOf(t, tn, tok.IDToken)["nonce"]; got != "n0nce" {
		t.Errorf("ID token nonce %v", got)
	}
	r := call(t, tn, "GET", userPath(alice), tok.AccessToken, "")
	if r.status != 200 {
		t.Errorf("GET user with the web_message login's token: %d %s", r.status, r.body)
	}
}

func TestWebMessageErrors(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin))
	q := spaAuthorize(tn, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))

	// Nobody signed in: login_required, through the page.
	m := readWebMessage(t, fromOrigin(t, tn, "GET", "/authorize?"+q.Encode(), ""))
	want := map[string]string{"error": "login_required", "error_description": "Login required", "state": q.Get("state")}
	if diff := cmp.Diff(want, m.response); diff != "" || m.targetOrigin != spaOrigin {
		t.Errorf("prompt=none without a user (-want +got):\n%s (target %q)", diff, m.targetOrigin)
	}

	// Other authorization errors come the same way.
	tn.SetLoginUser(alice)
	bad := url.Values{}
	for k, v := range q {
		bad[k] = v
	}
	bad.Set("audience", "https://other.example/")
	m = readWebMessage(t, fromOrigin(t, tn, "GET", "/authorize?"+bad.Encode(), ""))
	if m.response["error"] != "access_denied" || m.response["code"] != "" {
		t.Errorf("wrong audience: %v", m.response)
	}

	// A redirect URI whose origin is not allowed gets no page: posting
	// there would hand the code to that origin.
	bad = url.Values{}
	for k, v := range q {
		bad[k] = v
	}
	bad.Set("redirect_uri", otherOrigin+"/callback")
	r := fromOrigin(t, tn, "GET", "/authorize?"+bad.Encode(), "")
	if r.status != 400 || strings.Contains(string(r.body), "authorization_response") {
		t.Errorf("web_message to another origin: %d %s", r.status, r.body)
	}
	bad.Set("response_mode", "jwt")
	if r := fromOrigin(t, tn, "GET", "/authorize?"+bad.Encode(), ""); r.status != 400 {
		t.Errorf("response_mode=jwt: %d %s", r.status, r.body)
	}
}

func TestFragmentResponseMode(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(alice))
	q := spaAuthorize(tn, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	q.Set("response_mode", "fragment")
	r := noRedirect(t, tn, "/authorize?"+q.Encode())
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != 302 || err != nil {
		t.Fatalf("%d %q %v", r.status, r.header.Get("Location"), err)
	}
	frag, _ := url.ParseQuery(loc.Fragment)
	if loc.RawQuery != "" || frag.Get("code") == "" || frag.Get("state") != q.Get("state") {
		t.Errorf("Location %q", loc)
	}
}

// noRedirect sends GET path without following a redirect.
func noRedirect(t *testing.T, tn *apitest.Tenant, path string) response {
	t.Helper()
	c := *tn.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequestWithContext(t.Context(), "GET", tn.URL()+path, nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return response{status: res.StatusCode, header: res.Header}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin), apitest.WithLoginUser(alice))
	for _, tc := range []struct {
		path     string
		status   int
		location string
	}{
		{"/v2/logout?client_id=" + tn.ClientID() + "&returnTo=" + url.QueryEscape(spaOrigin+"/app?x=1"), 302, spaOrigin + "/app?x=1"},
		{"/v2/logout?returnTo=" + url.QueryEscape(spaOrigin), 302, spaOrigin},
		{"/oidc/logout?post_logout_redirect_uri=" + url.QueryEscape(spaOrigin+"/") + "&state=s1", 302, spaOrigin + "/?state=s1"},
		{"/v2/logout?returnTo=" + url.QueryEscape(otherOrigin+"/"), 400, ""},
		{"/v2/logout?returnTo=" + url.QueryEscape("javascript:alert(1)"), 400, ""},
		{"/v2/logout?client_id=someone-else&returnTo=" + url.QueryEscape(spaOrigin), 400, ""},
		{"/v2/logout", 200, ""},
	} {
		r := noRedirect(t, tn, tc.path)
		if r.status != tc.status || r.header.Get("Location") != tc.location {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, r.status, r.header.Get("Location"), tc.status, tc.location)
		}
	}
	// The tenant keeps no browser session: the login user still approves.
	q := spaAuthorize(tn, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	if m := readWebMessage(t, fromOrigin(t, tn, "GET", "/authorize?"+q.Encode(), "")); m.response["code"] == "" {
		t.Errorf("after logout: %v", m.response)
	}
}

func TestTokenBodyEncodings(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(alice))
	for _, ct := range []string{"application/x-www-form-urlencoded", "application/json", "application/json; charset=utf-8"} {
		verifier := oauth2.GenerateVerifier()
		q := spaAuthorize(tn, oauth2.S256ChallengeFromVerifier(verifier))
		q.Del("response_mode")
		loc, _ := url.Parse(noRedirect(t, tn, "/authorize?"+q.Encode()).header.Get("Location"))
		form := map[string]string{
			"client_id": tn.ClientID(), "grant_type": "authorization_code", "code": loc.Query().Get("code"),
			"code_verifier": verifier, "redirect_uri": q.Get("redirect_uri"),
		}
		var body string
		if strings.HasPrefix(ct, "application/json") {
			b, _ := json.Marshal(form)
			body = string(b)
		} else {
			v := url.Values{}
			for k, x := range form {
				v.Set(k, x)
			}
			body = v.Encode()
		}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", tn.URL()+"/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		res, err := tn.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok map[string]any
		json.NewDecoder(res.Body).Decode(&tok)
		res.Body.Close()
		if res.StatusCode != 200 || tok["access_token"] == nil {
			t.Errorf("%s: %d %v", ct, res.StatusCode, tok)
		}
	}
}

func TestCertificatePEM(t *testing.T) {
	t.Parallel()
	if pem := apitest.New(t, testUsers).CertificatePEM(); pem != nil {
		t.Errorf("plain tenant: CertificatePEM = %q", pem)
	}
	tn := apitest.New(t, testUsers, apitest.WithTLS())
	pool, err := x509SystemlessPool(tn.CertificatePEM())
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(c.CloseIdleConnections)
	res, err := c.Get(tn.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("a client trusting only CertificatePEM: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("status %d", res.StatusCode)
	}
}

func x509SystemlessPool(pemBytes []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, errors.New("no certificate in CertificatePEM")
	}
	return pool, nil
}

func TestUserinfo(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin))
	tok := tn.AccessToken(alice, "read:current_user")
	for _, method := range []string{"GET", "POST"} {
		r := fromOrigin(t, tn, method, "/userinfo", spaOrigin, "Authorization", "Bearer "+tok)
		got, _ := r.json(t).(map[string]any)
		if r.status != 200 || got["sub"] != alice || got["email"] != "alice@example.com" || got["email_verified"] != true {
			t.Errorf("%s /userinfo: %d %s", method, r.status, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("%s /userinfo: no CORS header", method)
		}
	}
	noUserinfo := tn.AccessTokenClaims(alice)
	noUserinfo["aud"] = tn.Audience()
	expired := tn.AccessTokenClaims(alice)
	expired["exp"] = 1
	for name, authz := range map[string]string{
		"none":            "",
		"basic":           "Basic " + tok,
		"garbage":         "Bearer x",
		"no userinfo aud": "Bearer " + mustSign(t, tn, noUserinfo),
		"expired":         "Bearer " + mustSign(t, tn, expired),
		"foreign key":     "Bearer " + mustSign(t, tn, tn.AccessTokenClaims(alice), apitest.SignedWithKey(otherKey())),
	} {
		r := fromOrigin(t, tn, "GET", "/userinfo", "", "Authorization", authz)
		if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) || strings.Contains(string(r.body), alice) {
			t.Errorf("%s: %d %q %s", name, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
	}
}

func TestLoginHint(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin))
	subOf := func(hint string) map[string]string {
		t.Helper()
		q := spaAuthorize(tn, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
		q.Set("response_type", "id_token")
		if hint != "" {
			q.Set("login_hint", hint)
		}
		m := readWebMessage(t, fromOrigin(t, tn, "GET", "/authorize?"+q.Encode(), ""))
		if m.response["id_token"] == "" {
			return m.response
		}
		return map[string]string{"sub": claimsOf(t, tn, m.response["id_token"])["sub"].(string)}
	}
	// Nobody signed in: a hint signs nobody in.
	if got := subOf(bob); got["error"] != "login_required" {
		t.Errorf("hint with nobody signed in: %v", got)
	}
	tn.SetLoginUser(alice)
	for hint, want := range map[string]string{"": alice, bob: bob, "auth0|nobody": alice} {
		if got := subOf(hint); got["sub"] != want {
			t.Errorf("login_hint %q: %v, want sub %s", hint, got, want)
		}
	}
}

func TestFormPost(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithAllowedOrigins(spaOrigin), apitest.WithLoginUser(alice))
	input := regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	page := func(q url.Values) (string, url.Values) {
		t.Helper()
		r := fromOrigin(t, tn, "GET", "/authorize?"+q.Encode(), "")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		action := regexp.MustCompile(`<form method="post" action="([^"]+)">`).FindSubmatch(r.body)
		if action == nil || !strings.Contains(string(r.body), `onload="document.forms[0].submit()"`) {
			t.Fatalf("not a form_post page:\n%s", r.body)
		}
		v := url.Values{}
		for _, m := range input.FindAllSubmatch(r.body, -1) {
			v.Set(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
		}
		return html.UnescapeString(string(action[1])), v
	}

	// express-openid-connect's default: an ID token, posted.
	q := implicitQuery(tn, "id_token", "form_post")
	q.Set("state", `"><script>alert(1)</script>`)
	action, v := page(q)
	if action != spaOrigin+"/callback" || v.Get("id_token") == "" || v.Get("state") != q.Get("state") || v.Get("access_token") != "" {
		t.Errorf("form_post id_token: action %q, fields %v", action, v)
	}
	// The code flow may post too.
	q = spaAuthorize(tn, oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()))
	q.Set("response_mode", "form_post")
	if _, v := page(q); v.Get("code") == "" || v.Get("state") != q.Get("state") {
		t.Errorf("form_post code: %v", v)
	}
	// Errors are posted the same way.
	tn.SetLoginUser("")
	if _, v := page(q); v.Get("error") != "login_required" {
		t.Errorf("form_post error: %v", v)
	}
}
