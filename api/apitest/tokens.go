package apitest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/auth0me/auth0me/internal/bearer"
)

// keySet is the tenant's signing key and its public JWK.
type keySet struct {
	priv *rsa.PrivateKey
	kid  string
	pub  jose.JSONWebKey
}

func newKeySet(priv *rsa.PrivateKey) (*keySet, error) {
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("apitest: key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return &keySet{priv: priv, kid: pub.KeyID, pub: pub}, nil
}

func (k *keySet) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.pub}}
}

// KeyID is the kid of the tenant's signing key.
func (t *Tenant) KeyID() string { return t.keys.kid }

// PublicKey is the tenant's RSA verification key (also served at
// /.well-known/jwks.json).
func (t *Tenant) PublicKey() *rsa.PublicKey { return &t.keys.priv.PublicKey }

// SignOption changes how SignToken signs.
type SignOption func(*signConfig)

type signConfig struct {
	alg   jose.SignatureAlgorithm
	key   any
	kid   string
	noKid bool
}

// SignedWithHS256 signs with HMAC-SHA256 and secret instead of the tenant's
// RSA key (the tenant refuses such tokens).
func SignedWithHS256(secret []byte) SignOption {
	return func(c *signConfig) { c.alg, c.key = jose.HS256, secret }
}

// SignedWithKey signs with key, a key the tenant does not know, keeping the
// tenant's kid in the header unless SignedWithKeyID says otherwise.
func SignedWithKey(key *rsa.PrivateKey) SignOption {
	return func(c *signConfig) { c.alg, c.key = jose.RS256, key }
}

// SignedWithKeyID puts kid in the header; "" omits the header.
func SignedWithKeyID(kid string) SignOption {
	return func(c *signConfig) { c.kid, c.noKid = kid, kid == "" }
}

// SignToken signs claims as a compact JWS (RS256 with the tenant key and
// kid unless options say otherwise). Claims are used as given: nothing is
// added, so a test can mint expired, sub-less or wrong-audience tokens.
// Claims must marshal to a JSON object.
func (t *Tenant) SignToken(claims map[string]any, opts ...SignOption) (string, error) {
	c := signConfig{alg: jose.RS256, key: t.keys.priv, kid: t.keys.kid}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	key := jose.SigningKey{Algorithm: c.alg, Key: c.key}
	if !c.noKid {
		key.Key = jose.JSONWebKey{Key: c.key, KeyID: c.kid, Algorithm: string(c.alg)}
	}
	sig, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("apitest: signer: %w", err)
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("apitest: sign: %w", err)
	}
	return s, nil
}

// AccessTokenClaims returns the claims AccessToken signs, for tests that
// change one before calling SignToken.
func (t *Tenant) AccessTokenClaims(sub string, scopes ...string) map[string]any {
	now := t.now()
	t.mu.Lock()
	ttl := t.cfg.atTTL
	t.mu.Unlock()
	return map[string]any{
		"iss":   t.Issuer(),
		"sub":   sub,
		"aud":   []string{t.Audience(), t.userinfoURL()},
		"azp":   t.clientID,
		"scope": strings.Join(scopes, " "),
		"iat":   now.Unix(),
		"exp":   now.Add(ttl).Unix(),
	}
}

// AccessToken returns a Management API access token for sub with scopes:
// RS256, the tenant's kid, iss Issuer, aud [Audience, https://{domain}/userinfo],
// azp ClientID, scope space-joined, iat now and exp now plus the access
// token lifetime (24h unless WithTokenLifetimes) by the tenant clock. It returns "" only if signing fails, which the tenant's own key
// does not.
func (t *Tenant) AccessToken(sub string, scopes ...string) string {
	s, _ := t.SignToken(t.AccessTokenClaims(sub, scopes...))
	return s
}

// IDTokenClaims returns the claims IDToken signs.
func (t *Tenant) IDTokenClaims(sub string) map[string]any {
	now := t.now()
	c := map[string]any{
		"iss": t.Issuer(),
		"sub": sub,
		"aud": t.clientID,
		"iat": now.Unix(),
		"exp": now.Add(10 * time.Hour).Unix(),
	}
	t.mu.Lock()
	maps.Copy(c, t.profileClaims(sub))
	t.mu.Unlock()
	return c
}

// IDToken returns an RS256 ID token for sub with aud ClientID, iss, iat and
// exp (10 hours, Auth0's default), plus the user's profile claims when sub
// is a user of the tenant. It is what POST /users/{id}/identities expects in
// link_with. It returns "" only if signing fails.
func (t *Tenant) IDToken(sub string) string {
	s, _ := t.SignToken(t.IDTokenClaims(sub))
	return s
}

// authFailure is why a token was refused, in Auth0's words: the message of
// the answer, not a Go error string.
type authFailure string

func (f authFailure) Error() string { return string(f) }

const (
	errTokenFormat    authFailure = "Bad HTTP authentication header format"
	errTokenInvalid   authFailure = "Invalid token"
	errTokenSignature authFailure = "Invalid signature received for JSON Web Token validation."
	errTokenExpired   authFailure = "Expired token received for JSON Web Token validation"
)

// claimSet is what the tenant reads from a token.
type claimSet struct {
	jwt.Claims
	Scope string `json:"scope"`
	Azp   string `json:"azp"`
}

// parsedToken is a structurally valid JWS with its unverified header.
type parsedToken struct {
	tok *jwt.JSONWebToken
	alg string
	kid string
}

// parseJWS reads a token's header. A token that is not in JWS compact form
// fails with errTokenFormat (Auth0's 400); one whose algorithm is none or
// unknown with errTokenInvalid (Auth0's 401).
func parseJWS(raw string) (*parsedToken, error) {
	if !bearer.IsCompact(raw) {
		return nil, errTokenFormat
	}
	tok, err := jwt.ParseSigned(raw, bearer.Algorithms)
	var algErr *jose.ErrUnexpectedSignatureAlgorithm
	switch {
	case errors.As(err, &algErr):
		return nil, errTokenInvalid
	case err != nil || len(tok.Headers) != 1:
		return nil, errTokenFormat
	}
	h := tok.Headers[0]
	return &parsedToken{tok: tok, alg: h.Algorithm, kid: h.KeyID}, nil
}

// verify checks alg, kid and signature; it does not look at claims.
func (t *Tenant) verify(p *parsedToken) (claimSet, error) {
	var c claimSet
	if p.alg != string(jose.RS256) {
		return c, errTokenInvalid
	}
	if p.kid != "" && p.kid != t.keys.kid {
		return c, errTokenSignature
	}
	if err := p.tok.Claims(&t.keys.priv.PublicKey, &c); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return c, errTokenSignature
		}
		return c, errTokenInvalid
	}
	return c, nil
}

// authenticate validates a Management API bearer token. The returned error
// message is Auth0's, or starts "Bad audience: ".
func (t *Tenant) authenticate(raw string) (claimSet, error) {
	p, err := parseJWS(raw)
	if err != nil {
		return claimSet{}, err
	}
	c, err := t.verify(p)
	if err != nil {
		return c, err
	}
	if c.Expiry == nil {
		return c, errTokenInvalid
	}
	now := t.now()
	if !now.Before(c.Expiry.Time()) {
		return c, errTokenExpired
	}
	if c.NotBefore != nil && now.Before(c.NotBefore.Time()) {
		return c, errTokenInvalid
	}
	if !c.Audience.Contains(t.Audience()) {
		return c, authFailure("Bad audience: " + strings.Join(c.Audience, " "))
	}
	if c.Issuer != t.Issuer() || c.Subject == "" {
		return c, errTokenInvalid
	}
	return c, nil
}

// newID returns prefix followed by n random alphanumeric characters.
func newID(prefix string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}
