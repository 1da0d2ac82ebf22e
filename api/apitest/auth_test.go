package apitest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
)

// Rule 1: JWKS and real verification; each failure has Auth0's body.
func TestRule1Authentication(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now))
	good := tn.AccessTokenClaims(alice, "read:current_user")
	with := func(k string, v any) map[string]any {
		c := tn.AccessTokenClaims(alice, "read:current_user")
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	unauth := func(msg string) map[string]any {
		m := errBody(401, "Unauthorized", msg, "")
		m["attributes"] = map[string]any{"error": msg}
		return m
	}
	tests := []struct {
		name     string
		header   string // full Authorization header; "" sends none
		status   int
		want     any
		wantAuth string // WWW-Authenticate
	}{
		{"missing", "", 401, errBody(401, "Unauthorized", "Missing authentication", ""), "Bearer"},
		{"basic scheme", "Basic YWxpY2U6cHc=", 400, errBody(400, "Bad Request", "Bad HTTP authentication header format", "Bearer"), ""},
		{"opaque token", "Bearer abcdef0123456789", 400, errBody(400, "Bad Request", "Bad HTTP authentication header format", "Bearer"), ""},
		{"bearer only", "Bearer", 400, errBody(400, "Bad Request", "Bad HTTP authentication header format", "Bearer"), ""},
		{"foreign key", "Bearer " + mustSign(t, tn, good, apitest.SignedWithKey(otherKey())), 401,
			unauth("Invalid signature received for JSON Web Token validation."), `Bearer error="Invalid signature received for JSON Web Token validation."`},
		{"unknown kid", "Bearer " + mustSign(t, tn, good, apitest.SignedWithKey(otherKey()), apitest.SignedWithKeyID("other")), 401,
			unauth("Invalid signature received for JSON Web Token validation."), ""},
		{"HS256", "Bearer " + mustSign(t, tn, good, apitest.SignedWithHS256([]byte("0123456789abcdef0123456789abcdef"))), 401,
			unauth("Invalid token"), `Bearer error="Invalid token"`},
		{"expired", "Bearer " + mustSign(t, tn, with("exp", clock.Now().Unix())), 401,
			unauth("Expired token received for JSON Web Token validation"), `Bearer error="Expired token received for JSON Web Token validation"`},
		{"no exp", "Bearer " + mustSign(t, tn, with("exp", nil)), 401, unauth("Invalid token"), ""},
		{"wrong audience", "Bearer " + mustSign(t, tn, with("aud", "https://example.com/api")), 401,
			unauth("Bad audience: https://example.com/api"), ""},
		{"audience array without api", "Bearer " + mustSign(t, tn, with("aud", []string{"https://a/", "https://b/"})), 401,
			unauth("Bad audience: https://a/ https://b/"), ""},
		{"wrong issuer", "Bearer " + mustSign(t, tn, with("iss", "https://evil.example.com/")), 401, unauth("Invalid token"), ""},
		{"no sub", "Bearer " + mustSign(t, tn, with("sub", nil)), 401, unauth("Invalid token"), ""},
		{"not yet valid", "Bearer " + mustSign(t, tn, with("nbf", clock.Now().Add(time.Hour).Unix())), 401, unauth("Invalid token"), ""},
		{"audience string accepted", "Bearer " + mustSign(t, tn, with("aud", tn.Audience())), 200, nil, ""},
		{"good", "Bearer " + tn.AccessToken(alice, "read:current_user"), 200, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), "GET", tn.BaseURL()+"users/"+escape(alice), nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			res, err := tn.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var got any
			if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body %v", res.StatusCode, tt.status, got)
			}
			if tt.want != nil {
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("body (-want +got):\n%s", d)
				}
			}
			if tt.wantAuth != "" {
				if g := res.Header.Get("WWW-Authenticate"); g != tt.wantAuth {
					t.Errorf("WWW-Authenticate = %q, want %q", g, tt.wantAuth)
				}
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}

	t.Run("expiry follows the tenant clock", func(t *testing.T) {
		tok := tn.AccessToken(alice, "read:current_user")
		if r := call(t, tn, "GET", userPath(alice), tok, ""); r.status != 200 {
			t.Fatalf("fresh token: status %d", r.status)
		}
		clock.Advance(24*time.Hour + time.Second)
		defer clock.Advance(-(24*time.Hour + time.Second))
		r := call(t, tn, "GET", userPath(alice), tok, "")
		if d := cmp.Diff(unauth("Expired token received for JSON Web Token validation"), r.json(t)); d != "" {
			t.Errorf("after 24h (-want +got):\n%s", d)
		}
	})
}

// Rule 1: the JWKS verifies the tokens, and AccessToken/IDToken carry the
// documented claims.
func TestRule1JWKSAndClaims(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now), apitest.WithClientID("myClient"))
	r := call(t, tn, "GET", "/.well-known/jwks.json", "", "")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KeyID != tn.KeyID() || set.Keys[0].Use != "sig" || set.Keys[0].Algorithm != "RS256" {
		t.Fatalf("jwks = %+v", set.Keys)
	}
	now := clock.Now().Unix()
	verify := func(raw string) map[string]any {
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		if kid := tok.Headers[0].KeyID; kid != tn.KeyID() {
			t.Errorf("kid = %q", kid)
		}
		var c map[string]any
		if err := tok.Claims(set.Keys[0].Key, &c); err != nil {
			t.Fatalf("verify with JWKS key: %v", err)
		}
		return c
	}
	d := tn.Domain()
	wantAT := map[string]any{
		"iss": "https://" + d + "/", "sub": alice,
		"aud":   []any{"https://" + d + "/api/v2/", "https://" + d + "/userinfo"},
		"azp":   "myClient",
		"scope": "read:current_user update:current_user_metadata",
		"iat":   float64(now), "exp": float64(now + 86400),
	}
	if diff := cmp.Diff(wantAT, verify(tn.AccessToken(alice, "read:current_user", "update:current_user_metadata"))); diff != "" {
		t.Errorf("access token claims (-want +got):\n%s", diff)
	}
	id := verify(tn.IDToken(alice))
	for k, want := range map[string]any{"iss": "https://" + d + "/", "sub": alice, "aud": "myClient", "iat": float64(now), "email": "alice@example.com"} {
		if id[k] != want {
			t.Errorf("id token %s = %v, want %v", k, id[k], want)
		}
	}
	if tn.Issuer() != "https://"+d+"/" || tn.BaseURL() != "http://"+d+"/api/v2/" || tn.ClientID() != "myClient" {
		t.Errorf("Issuer %q BaseURL %q ClientID %q", tn.Issuer(), tn.BaseURL(), tn.ClientID())
	}
	oc := call(t, tn, "GET", "/.well-known/openid-configuration", "", "").json(t).(map[string]any)
	if oc["issuer"] != tn.Issuer() || oc["jwks_uri"] != tn.URL()+"/.well-known/jwks.json" {
		t.Errorf("openid-configuration = %v", oc)
	}
}

// WithTLS serves HTTPS that Client trusts.
func TestTLS(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithTLS())
	if want := "https://" + tn.Domain() + "/api/v2/"; tn.BaseURL() != want {
		t.Fatalf("BaseURL = %q, want %q", tn.BaseURL(), want)
	}
	r := call(t, tn, "GET", userPath(alice), tn.AccessToken(alice, "read:current_user"), "")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if _, err := http.Get(tn.BaseURL()); err == nil {
		t.Error("default client trusted the self-signed certificate")
	}
}
