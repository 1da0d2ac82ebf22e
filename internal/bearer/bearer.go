// Package bearer holds the facts about bearer tokens that scopeguard, api,
// apitest and the command share: the JWS algorithms whose tokens are read,
// the characters of the JWS compact form, how a scope claim splits, and how
// a token is kept out of text shown to people.
package bearer

import (
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Algorithms are all the JWS signature algorithms go-jose knows. Tokens are
// parsed with this list so that the algorithm can be judged after parsing;
// a parser that verifies a signature must pass its own, shorter list.
var Algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.HS256, jose.HS384, jose.HS512,
	jose.EdDSA,
}

// FromHeader returns the token of h's "Authorization: Bearer <token>"
// header, or "" when there is none. The scheme is matched without regard
// to case (RFC 7235 §2.1) and the token is trimmed of spaces; the token
// itself is not checked (see IsCompact).
func FromHeader(h http.Header) string {
	scheme, tok, _ := strings.Cut(h.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// IsCompact reports whether s is made of the characters of the JWS compact
// form alone: base64url characters (RFC 7515 §2, no padding) and exactly
// two dots. It says nothing of what the parts decode to. Base64 decoders
// skip CR and LF, so a token read with its trailing newline must be refused
// here, before it is decoded.
func IsCompact(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dots++
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2
}

// SplitScopes splits a scope claim or parameter on the space character
// U+0020 alone, as RFC 6749 §3.3 defines it; empty parts are dropped. A tab
// or any other white space is part of a scope, so "foo\tread:x" is one
// scope that grants nothing.
func SplitScopes(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, " ") {
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// Redacted replaces a token in text shown to people.
const Redacted = "[REDACTED]"

// minPart is the length from which a dot-separated part of a token is
// redacted on its own: the header, payload and signature segments.
const minPart = 8

// Redact returns s with every occurrence of token, and of each of its
// dot-separated parts of at least 8 bytes, replaced by Redacted. Tokens
// shorter than 4 bytes are left alone, so that redaction cannot mangle
// ordinary words.
func Redact(s, token string) string {
	if len(token) < 4 || s == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, Redacted)
	for part := range strings.SplitSeq(token, ".") {
		if len(part) >= minPart && part != token {
			s = strings.ReplaceAll(s, part, Redacted)
		}
	}
	return s
}
