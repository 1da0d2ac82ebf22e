package scopeguard_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

func TestParseClaims(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	full := &scopeguard.Claims{
		Subject:         testSub,
		Issuer:          "https://tenant.eu.auth0.com/",
		AuthorizedParty: "client123",
		Audience:        []string{testAud, "https://tenant.eu.auth0.com/userinfo"},
		Scopes:          []string{"read:current_user", "update:current_user_metadata"},
		Expiry:          time.Unix(now.Add(time.Hour).Unix(), 0),
		IssuedAt:        time.Unix(now.Add(-time.Hour).Unix(), 0),
	}
	base := userClaims("read:current_user  update:current_user_metadata ")
	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  *scopeguard.Claims
	}{
		{"RS256 aud array", func(t *testing.T) string { return mint(t, base) }, full},
		{"PS256", func(t *testing.T) string { return mintAlg(t, jose.PS256, rsaKey(), base) }, full},
		{"ES256", func(t *testing.T) string { return mintAlg(t, jose.ES256, ecKey, base) }, full},
		{"HS256", func(t *testing.T) string {
			return mintAlg(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), base)
		}, full},
		{"aud string, gty, jti, nbf", func(t *testing.T) string {
			return mint(t, base.with("aud", testAud, "gty", "refresh_token", "jti", "j1", "nbf", now.Unix()))
		}, func() *scopeguard.Claims {
			c := *full
			c.Audience, c.GrantType, c.ID, c.NotBefore = []string{testAud}, "refresh_token", "j1", time.Unix(now.Unix(), 0)
			return &c
		}()},
		{"client_id when no azp", func(t *testing.T) string { return mint(t, base.with("azp", nil, "client_id", "cid")) }, func() *scopeguard.Claims {
			c := *full
			c.AuthorizedParty = "cid"
			return &c
		}()},
		{"scope array tolerated", func(t *testing.T) string {
			return mint(t, base.with("scope", []string{"read:current_user", "update:current_user_metadata"}))
		}, full},
		{"minimal", func(t *testing.T) string { return mint(t, claims{"sub": "x"}) }, &scopeguard.Claims{Subject: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := scopeguard.ParseClaims(tt.token(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseClaimsMalformed(t *testing.T) {
	t.Parallel()
	good := mint(t, userClaims("read:current_user"))
	parts := strings.Split(good, ".")
	enc := func(json string) string {
		return parts[0] + "." + b64(json) + "." + parts[2]
	}
	tests := map[string]string{
		"empty":           "",
		"one part":        "abcdefghijkl",
		"two parts":       parts[0] + "." + parts[1],
		"four parts":      good + ".x",
		"bad base64":      parts[0] + ".!!!." + parts[2],
		"alg none":        b64(`{"alg":"none"}`) + "." + parts[1] + ".",
		"payload array":   enc(`[1,2]`),
		"payload garbage": enc(`{"sub":`),
		"aud number":      enc(`{"sub":"x","aud":5}`),
		"exp string":      enc(`{"sub":"x","exp":"tomorrow"}`),
		"exp huge":        enc(`{"sub":"x","exp":1e300}`),
		"scope number":    enc(`{"sub":"x","scope":7}`),
		"sub number":      enc(`{"sub":7}`),
		"too long":        parts[0] + "." + strings.Repeat("A", scopeguard.MaxTokenLen) + "." + parts[2],
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := scopeguard.ParseClaims(tok)
			if c != nil || !errors.Is(err, scopeguard.ErrMalformedToken) {
				t.Fatalf("ParseClaims = %v, %v; want ErrMalformedToken", c, err)
			}
			checkRefusal(t, err, scopeguard.ErrMalformedToken, tok)
		})
	}
}

func TestClaimsAllows(t *testing.T) {
	t.Parallel()
	c := &scopeguard.Claims{Scopes: []string{"openid", "create:current_user_metadata"}}
	var got []string
	for _, op := range gen.Operations {
		if c.Allows(op) {
			got = append(got, op.ID)
		}
	}
	if diff := cmp.Diff([]string{"patch_users_by_id"}, got); diff != "" {
		t.Errorf("allowed operations (-want +got):\n%s", diff)
	}
	if !c.HasScope("openid") || c.HasScope("read:current_user") || c.HasScope("") {
		t.Error("HasScope disagrees with Scopes")
	}
	for _, tc := range []struct {
		c    scopeguard.Claims
		want bool
	}{
		{scopeguard.Claims{Subject: "abc@clients"}, true},
		{scopeguard.Claims{Subject: "auth0|abc", GrantType: "client-credentials"}, true},
		{scopeguard.Claims{Subject: "auth0|abc", GrantType: "refresh_token"}, false},
		{scopeguard.Claims{Subject: "auth0|clients"}, false},
	} {
		if got := tc.c.IsClientCredentials(); got != tc.want {
			t.Errorf("%+v.IsClientCredentials() = %v, want %v", tc.c, got, tc.want)
		}
	}
}
