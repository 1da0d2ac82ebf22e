package apitest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api/apitest"
)

var sixScopes = []string{
	"read:current_user", "update:current_user_identities", "update:current_user_metadata",
	"create:current_user_metadata", "create:current_user_device_credentials", "delete:current_user_device_credentials",
}

const callback = "http://127.0.0.1:5555/callback"

func oauthConfig(tn *apitest.Tenant, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: tn.ClientID(),
		Endpoint: oauth2.Endpoint{
			AuthURL:       tn.URL() + "/authorize",
			TokenURL:      tn.URL() + "/oauth/token",
			DeviceAuthURL: tn.URL() + "/oauth/device/code",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: callback,
		Scopes:      scopes,
	}
}

// authorize follows the /authorize URL and returns the redirect's query.
func authorize(t *testing.T, tn *apitest.Tenant, authURL string) (int, url.Values) {
	t.Helper()
	c := *tn.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequestWithContext(t.Context(), "GET", authURL, nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		return res.StatusCode, nil
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callback {
		t.Errorf("redirected to %q", got)
	}
	return res.StatusCode, loc.Query()
}

// pkceLogin runs the PKCE flow and returns the token.
func pkceLogin(t *testing.T, tn *apitest.Tenant, conf *oauth2.Config) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	u := conf.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("audience", tn.Audience()))
	status, q := authorize(t, tn, u)
	if status != 302 || q.Get("code") == "" || q.Get("state") != "xyz" {
		t.Fatalf("authorize: %d %v", status, q)
	}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, tn.Client())
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// claimsOf verifies raw with the tenant's key.
func claimsOf(t *testing.T, tn *apitest.Tenant, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := tok.Claims(tn.PublicKey(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func retrieveCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestLoginPKCE(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(alice))
	conf := oauthConfig(tn, append([]string{"openid", "profile", "offline_access", "read:users", "update:users"}, sixScopes...)...)
	tok := pkceLogin(t, tn, conf)

	at := claimsOf(t, tn, tok.AccessToken)
	if got := strings.Fields(at["scope"].(string)); !cmp.Equal(got, sixScopes) {
		t.Errorf("access token scope = %v, want only the six current-user scopes", got)
	}
	if at["sub"] != alice || at["azp"] != tn.ClientID() || at["iss"] != tn.Issuer() {
		t.Errorf("access token claims = %v", at)
	}
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
		t.Errorf("token = %+v", tok)
	}
	idt, _ := tok.Extra("id_token").(string)
	if id := claimsOf(t, tn, idt); id["aud"] != tn.ClientID() || id["sub"] != alice {
		t.Errorf("id token = %v", id)
	}
	// The token works against the Management API.
	if r := call(t, tn, "GET", userPath(alice), tok.AccessToken, ""); r.status != 200 {
		t.Errorf("GET user with the issued token: %d %s", r.status, r.body)
	}

	t.Run("no openid, no offline_access", func(t *testing.T) {
		tok := pkceLogin(t, tn, oauthConfig(tn, "read:current_user"))
		if tok.Extra("id_token") != nil || tok.RefreshToken != "" {
			t.Errorf("id_token %v refresh %q", tok.Extra("id_token"), tok.RefreshToken)
		}
		if s := claimsOf(t, tn, tok.AccessToken)["scope"]; s != "read:current_user" {
			t.Errorf("scope = %v", s)
		}
	})

	t.Run("code errors", func(t *testing.T) {
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, tn.Client())
		verifier := oauth2.GenerateVerifier()
		code := func() string {
			_, q := authorize(t, tn, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("audience", tn.Audience())))
			return q.Get("code")
		}
		c := code()
		if _, err := conf.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier())); retrieveCode(err) != "invalid_grant" {
			t.Errorf("wrong verifier: %v", err)
		}
		if _, err := conf.Exchange(ctx, c, oauth2.VerifierOption(verifier)); retrieveCode(err) != "invalid_grant" {
			t.Errorf("code reused after a failed exchange: %v", err)
		}
		c = code()
		if _, err := conf.Exchange(ctx, c); retrieveCode(err) != "invalid_grant" {
			t.Errorf("no verifier: %v", err)
		}
		c = code()
		other := *conf
		other.RedirectURL = "http://127.0.0.1:5555/other"
		if _, err := other.Exchange(ctx, c, oauth2.VerifierOption(verifier)); retrieveCode(err) != "invalid_grant" {
			t.Errorf("redirect_uri mismatch: %v", err)
		}
		c = code()
		if _, err := conf.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("good exchange: %v", err)
		}
		if _, err := conf.Exchange(ctx, c, oauth2.VerifierOption(verifier)); retrieveCode(err) != "invalid_grant" {
			t.Errorf("second use of a code: %v", err)
		}
		if _, err := conf.Exchange(ctx, "nope", oauth2.VerifierOption(verifier)); retrieveCode(err) != "invalid_grant" {
			t.Errorf("unknown code: %v", err)
		}
	})
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(alice))
	good := url.Values{
		"response_type": {"code"}, "client_id": {tn.ClientID()}, "redirect_uri": {callback},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		"audience": {tn.Audience()}, "scope": {"openid read:current_user"}, "state": {"st"},
	}
	with := func(k, v string) string {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return tn.URL() + "/authorize?" + q.Encode()
	}
	tests := []struct {
		name, url     string
		status        int
		wantErr, desc string
	}{
		{"no client_id", with("client_id", ""), 400, "", ""},
		{"unknown client", with("client_id", "nope"), 400, "", ""},
		{"no redirect_uri", with("redirect_uri", ""), 400, "", ""},
		{"relative redirect_uri", with("redirect_uri", "/callback"), 400, "", ""},
		{"implicit to an origin not allowed", with("response_type", "token"), 400, "", ""},
		{"hybrid", with("response_type", "code token"), 302, "unsupported_response_type", "Unsupported response type: code token"},
		{"no challenge", with("code_challenge", ""), 302, "invalid_request", "Parameter 'code_challenge' is required"},
		{"plain", with("code_challenge_method", "plain"), 302, "invalid_request", "Unsupported code_challenge_method: 'plain', only S256 is supported"},
		{"no method", with("code_challenge_method", ""), 302, "invalid_request", "Unsupported code_challenge_method: '', only S256 is supported"},
		{"no audience", with("audience", ""), 302, "invalid_request", "Parameter 'audience' is required"},
		{"other audience", with("audience", "https://api.example.com/"), 302, "access_denied", "Service not found: https://api.example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, q := authorize(t, tn, tt.url)
			if status != tt.status {
				t.Fatalf("status = %d, want %d", status, tt.status)
			}
			if status == 302 {
				want := url.Values{"error": {tt.wantErr}, "error_description": {tt.desc}, "state": {"st"}}
				if d := cmp.Diff(want, q); d != "" {
					t.Errorf("redirect query (-want +got):\n%s", d)
				}
			}
		})
	}
	t.Run("400 body", func(t *testing.T) {
		r := call(t, tn, "GET", strings.TrimPrefix(with("client_id", "nope"), tn.URL()), "", "")
		if d := cmp.Diff(map[string]any{"error": "invalid_request", "error_description": "Unknown client: nope"}, r.json(t)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("nobody signed in", func(t *testing.T) {
		tn.SetLoginUser("")
		defer tn.SetLoginUser(alice)
		_, q := authorize(t, tn, with("state", "s2"))
		if q.Get("error") != "login_required" || q.Get("state") != "s2" {
			t.Errorf("query = %v", q)
		}
	})
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	post := func(form url.Values) response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "POST", tn.URL()+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := tn.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, header: res.Header, body: b}
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   map[string]any
	}{
		{"no client", url.Values{"grant_type": {"authorization_code"}}, 401, map[string]any{"error": "invalid_client", "error_description": "Missing required parameter: client_id"}},
		{"unknown client", url.Values{"grant_type": {"authorization_code"}, "client_id": {"x"}}, 401, map[string]any{"error": "invalid_client", "error_description": "Unknown client: x"}},
		{"no grant", url.Values{"client_id": {tn.ClientID()}}, 400, map[string]any{"error": "invalid_request", "error_description": "Missing required parameter: grant_type"}},
		{"password grant", url.Values{"client_id": {tn.ClientID()}, "grant_type": {"password"}}, 403, map[string]any{"error": "unsupported_grant_type", "error_description": "Unsupported grant type: password"}},
		{"bad refresh token", url.Values{"client_id": {tn.ClientID()}, "grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, 403, map[string]any{"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}},
		{"bad device code", url.Values{"client_id": {tn.ClientID()}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {"nope"}}, 403, map[string]any{"error": "invalid_grant", "error_description": "Invalid or expired device code."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(tt.form)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d", r.status, tt.status)
			}
			if d := cmp.Diff(tt.want, r.json(t)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// postForm posts form to the tenant path and decodes the JSON answer.
func postForm(t *testing.T, tn *apitest.Tenant, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", tn.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := tn.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, body: b}
	m, _ := r.json(t).(map[string]any)
	return r.status, m
}

func TestRefreshRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := apitest.New(t, apitest.WithMemoryNetwork(), testUsers, apitest.WithLoginUser(alice), apitest.WithTokenLifetimes(time.Hour, 48*time.Hour))
		conf := oauthConfig(tn, "openid", "offline_access", "read:current_user", "update:current_user_metadata")
		tok := pkceLogin(t, tn, conf)
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, tn.Client())
		ts := conf.TokenSource(ctx, tok)

		time.Sleep(2 * time.Hour) // the access token expires
		r := call(t, tn, "GET", userPath(alice), tok.AccessToken, "")
		if r.status != 401 {
			t.Fatalf("expired token: %d", r.status)
		}
		fresh, err := ts.Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh did not rotate: %+v", fresh)
		}
		if r := call(t, tn, "GET", userPath(alice), fresh.AccessToken, ""); r.status != 200 {
			t.Fatalf("refreshed token: %d", r.status)
		}

		refresh := func(rt, scope string) (int, map[string]any) {
			f := url.Values{"grant_type": {"refresh_token"}, "client_id": {tn.ClientID()}, "refresh_token": {rt}}
			if scope != "" {
				f.Set("scope", scope)
			}
			return postForm(t, tn, "/oauth/token", f)
		}
		// Narrowing.
		status, body := refresh(fresh.RefreshToken, "read:current_user")
		if status != 200 || claimsOf(t, tn, body["access_token"].(string))["scope"] != "read:current_user" {
			t.Fatalf("narrowed refresh: %d %v", status, body)
		}
		latest := body["refresh_token"].(string)
		// Widening is refused.
		if status, body := refresh(latest, "read:current_user read:users"); status != 403 || body["error"] != "invalid_scope" {
			t.Errorf("widened refresh: %d %v", status, body)
		}
		// The narrowed refresh token still carries the original grant.
		status, body = refresh(latest, "")
		if status != 200 || claimsOf(t, tn, body["access_token"].(string))["scope"] != "read:current_user update:current_user_metadata" {
			t.Fatalf("refresh after narrowing: %d %v", status, body)
		}
		latest = body["refresh_token"].(string)
		// Reusing a retired token fails and revokes the family.
		if status, body := refresh(tok.RefreshToken, ""); status != 403 || body["error"] != "invalid_grant" {
			t.Errorf("reused refresh token: %d %v", status, body)
		}
		if status, _ := refresh(latest, ""); status != 403 {
			t.Errorf("family not revoked after reuse: %d", status)
		}

		// A refresh token expires after its lifetime.
		tok2 := pkceLogin(t, tn, conf)
		time.Sleep(49 * time.Hour)
		if status, body := refresh(tok2.RefreshToken, ""); status != 403 || body["error"] != "invalid_grant" {
			t.Errorf("expired refresh token: %d %v", status, body)
		}
	})
}

func TestDeviceFlow(t *testing.T) {
	t.Run("approved", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := apitest.New(t, apitest.WithMemoryNetwork(), testUsers)
			conf := oauthConfig(tn, "openid", "offline_access", "read:current_user", "read:users")
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, tn.Client())
			da, err := conf.DeviceAuth(ctx, oauth2.SetAuthURLParam("audience", tn.Audience()))
			if err != nil {
				t.Fatal(err)
			}
			if da.Interval != 5 || da.VerificationURI == "" || !strings.Contains(da.VerificationURIComplete, da.UserCode) ||
				len(da.UserCode) != 9 || time.Until(da.Expiry) != 15*time.Minute {
				t.Fatalf("device auth = %+v", da)
			}
			if got := tn.PendingUserCodes(); !slices.Equal(got, []string{da.UserCode}) {
				t.Errorf("PendingUserCodes = %v", got)
			}
			go func() {
				time.Sleep(12 * time.Second)
				if err := tn.ApproveDevice(da.UserCode, alice); err != nil {
					t.Error(err)
				}
			}()
			start := time.Now()
			tok, err := conf.DeviceAccessToken(ctx, da)
			if err != nil {
				t.Fatalf("DeviceAccessToken: %v", err)
			}
			if d := time.Since(start); d != 15*time.Second {
				t.Errorf("token after %v, want 15s (polls at 5, 10, 15)", d)
			}
			if c := claimsOf(t, tn, tok.AccessToken); c["sub"] != alice || c["scope"] != "read:current_user" {
				t.Errorf("claims = %v", c)
			}
			if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
				t.Errorf("token = %+v", tok)
			}
			if err := tn.ApproveDevice(da.UserCode, alice); !errors.Is(err, apitest.ErrUnknownUserCode) {
				t.Errorf("second approval: %v", err)
			}
		})
	})
	t.Run("denied", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := apitest.New(t, apitest.WithMemoryNetwork(), testUsers)
			conf := oauthConfig(tn, "read:current_user")
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, tn.Client())
			da, err := conf.DeviceAuth(ctx, oauth2.SetAuthURLParam("audience", tn.Audience()))
			if err != nil {
				t.Fatal(err)
			}
			if err := tn.DenyDevice(da.UserCode); err != nil {
				t.Fatal(err)
			}
			_, err = conf.DeviceAccessToken(ctx, da)
			if retrieveCode(err) != "access_denied" {
				t.Errorf("err = %v, want access_denied", err)
			}
		})
	})
	t.Run("slow_down, expired_token once, then invalid_grant", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := apitest.New(t, apitest.WithMemoryNetwork(), testUsers, apitest.WithDeviceCodeTiming(time.Minute, 5*time.Second))
			status, da := postForm(t, tn, "/oauth/device/code", url.Values{"client_id": {tn.ClientID()}, "audience": {tn.Audience()}, "scope": {"read:current_user"}})
			if status != 200 || da["expires_in"] != 60.0 || da["interval"] != 5.0 {
				t.Fatalf("device code: %d %v", status, da)
			}
			poll := func() (int, string) {
				status, body := postForm(t, tn, "/oauth/token", url.Values{"client_id": {tn.ClientID()},
					"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da["device_code"].(string)}})
				e, _ := body["error"].(string)
				return status, e
			}
			steps := []struct {
				wait   time.Duration
				status int
				err    string
			}{
				{0, 403, "authorization_pending"},
				{time.Second, 429, "slow_down"},     // interval now 10s
				{6 * time.Second, 429, "slow_down"}, // 6s < 10s; interval now 15s
				{15 * time.Second, 403, "authorization_pending"},
				{time.Minute, 403, "expired_token"},
				{15 * time.Second, 403, "invalid_grant"},
			}
			for i, s := range steps {
				time.Sleep(s.wait)
				if status, e := poll(); status != s.status || e != s.err {
					t.Errorf("step %d: %d %s, want %d %s", i, status, e, s.status, s.err)
				}
			}
			if err := tn.ApproveDevice(da["user_code"].(string), alice); !errors.Is(err, apitest.ErrUnknownUserCode) {
				t.Errorf("approving an expired code: %v", err)
			}
		})
	})
	t.Run("device code errors", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		if status, body := postForm(t, tn, "/oauth/device/code", url.Values{"client_id": {"x"}}); status != 401 || body["error"] != "invalid_client" {
			t.Errorf("unknown client: %d %v", status, body)
		}
		if status, body := postForm(t, tn, "/oauth/device/code", url.Values{"client_id": {tn.ClientID()}, "audience": {"https://other/"}}); status != 403 || body["error"] != "access_denied" {
			t.Errorf("other audience: %d %v", status, body)
		}
	})
}
