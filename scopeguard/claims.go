package scopeguard

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/internal/bearer"
)

// MaxTokenLen is the longest access token ParseClaims reads, in bytes.
// Auth0 access tokens are one to a few kilobytes.
const MaxTokenLen = 32 << 10

// Claims are the claims of an Auth0 access token that the guard and its
// callers read. The signature is not verified: the Management API does that.
type Claims struct {
	Subject         string    // sub: the user id, e.g. "auth0|abc"
	Issuer          string    // iss, e.g. "https://tenant.eu.auth0.com/"
	AuthorizedParty string    // azp, or client_id (RFC 9068 profile) when azp is absent
	GrantType       string    // gty; empty for most authorization-code tokens
	Audience        []string  // aud, whether the token carries a string or an array
	Scopes          []string  // scope, split on U+0020 only
	Expiry          time.Time // exp; zero when absent
	IssuedAt        time.Time // iat; zero when absent
	NotBefore       time.Time // nbf; zero when absent
	ID              string    // jti
}

// rawClaims is the JSON shape of the payload.
type rawClaims struct {
	jwt.Claims
	Scope    scopeClaim `json:"scope"`
	AZP      string     `json:"azp"`
	ClientID string     `json:"client_id"`
	GTY      string     `json:"gty"`
}

// scopeClaim is a scope string split on U+0020 alone (RFC 6749 §3.3); a
// JSON array of strings is tolerated too.
type scopeClaim []string

var errScopeClaim = errors.New("scope is neither a string nor an array of strings")

func (s *scopeClaim) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = bearer.SplitScopes(str)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errScopeClaim
	}
	var out []string
	for _, v := range list {
		out = append(out, bearer.SplitScopes(v)...)
	}
	*s = out
	return nil
}

// ParseClaims reads the claims of a JWS-compact access token without
// verifying its signature. A token with any byte outside the compact form
// (base64url characters and two dots), such as a trailing newline, is
// malformed. Errors match ErrMalformedToken and never contain the token or
// any part of it.
func ParseClaims(token string) (*Claims, error) {
	if token == "" {
		return nil, malformed("empty token")
	}
	if len(token) > MaxTokenLen {
		return nil, malformed("token longer than 32 KiB")
	}
	if !bearer.IsCompact(token) {
		return nil, malformed("not a JWS compact serialization (base64url parts joined by two dots, nothing else)")
	}
	// Any algorithm is read: the claims are never trusted for a signature.
	parsed, err := jwt.ParseSigned(token, bearer.Algorithms)
	if err != nil {
		// go-jose's messages may quote header values; keep none of them.
		return nil, malformed("not a readable JWS (bad encoding, header or algorithm)")
	}
	var raw rawClaims
	if err := parsed.UnsafeClaimsWithoutVerification(&raw); err != nil {
		switch {
		case errors.Is(err, jwt.ErrUnmarshalAudience):
			return nil, malformed("aud is neither a string nor an array of strings")
		case errors.Is(err, jwt.ErrUnmarshalNumericDate):
			return nil, malformed("exp, iat or nbf is not a valid number")
		case errors.Is(err, errScopeClaim):
			return nil, malformed("scope is neither a string nor an array of strings")
		}
		return nil, malformed("payload is not a JSON object of the expected claim types")
	}
	c := &Claims{
		Subject:         raw.Subject,
		Issuer:          raw.Issuer,
		AuthorizedParty: raw.AZP,
		GrantType:       raw.GTY,
		Audience:        []string(raw.Audience),
		Scopes:          []string(raw.Scope),
		ID:              raw.ID,
	}
	if c.AuthorizedParty == "" {
		c.AuthorizedParty = raw.ClientID
	}
	if raw.Expiry != nil {
		c.Expiry = raw.Expiry.Time()
	}
	if raw.IssuedAt != nil {
		c.IssuedAt = raw.IssuedAt.Time()
	}
	if raw.NotBefore != nil {
		c.NotBefore = raw.NotBefore.Time()
	}
	return c, nil
}

func malformed(detail string) error {
	return &guardError{msg: ErrMalformedToken.Error() + ": " + detail, err: ErrMalformedToken}
}

// HasScope reports whether the token grants scope.
func (c *Claims) HasScope(scope string) bool {
	return slices.Contains(c.Scopes, scope)
}

// Allows reports whether the token grants at least one of op's scopes. It
// does not look at the subject: see the Transport for that.
func (c *Claims) Allows(op gen.Operation) bool {
	return slices.ContainsFunc(op.Scopes, c.HasScope)
}

// IsClientCredentials reports whether the token was issued to a client
// rather than a user: gty is "client-credentials" or sub ends in "@clients".
func (c *Claims) IsClientCredentials() bool {
	return c.GrantType == "client-credentials" || strings.HasSuffix(c.Subject, "@clients")
}

// HasAudience reports whether aud includes aud.
func (c *Claims) HasAudience(aud string) bool {
	return slices.Contains(c.Audience, aud)
}

// clone returns a deep copy, so that cached claims cannot be changed
// through a returned pointer.
func (c *Claims) clone() *Claims {
	out := *c
	out.Audience = slices.Clone(c.Audience)
	out.Scopes = slices.Clone(c.Scopes)
	return &out
}
