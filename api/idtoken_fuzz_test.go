package api

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzReadIDToken feeds LinkIdentity's ID-token pre-check arbitrary input:
// it never panics, refuses with a bounded *IDTokenError that quotes no long
// part of the input, and accepts only the JWS compact form with an exact,
// lower-case sub claim. Seeds in testdata/fuzz/FuzzReadIDToken hold the
// case-variant claim names of issue 12.
func FuzzReadIDToken(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	hdr := enc([]byte(`{"alg":"RS256","typ":"JWT"}`))
	for _, payload := range []string{
		`{"sub":"auth0|a","aud":"client"}`,
		`{"Sub":"auth0|a","aud":"client"}`,
		`{"sub":"auth0|a","aud":"other","Aud":"client"}`,
	} {
		f.Add(hdr + "." + enc([]byte(payload)) + ".c2ln")
	}
	f.Add(hdr + "." + enc([]byte(`{"sub":"x"}`)) + ".c2ln\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := readIDToken(tok)
		if err != nil {
			var ie *IDTokenError
			if c != nil || !errors.As(err, &ie) {
				t.Fatalf("readIDToken = %v, %v; want only an *IDTokenError", c, err)
			}
			msg := err.Error()
			if len(msg) > 2*maxErrorText {
				t.Fatalf("message of %d bytes", len(msg))
			}
			for part := range strings.SplitSeq(tok, ".") {
				if len(part) >= 24 && strings.Contains(msg, part) {
					t.Fatalf("message %q quotes part %q of the input", msg, part)
				}
			}
			return
		}
		if c.Subject == "" {
			t.Fatal("accepted an ID token without sub")
		}
		if strings.ContainsAny(tok, "\r\n \t=+/") {
			t.Fatalf("accepted %q, which is not in JWS compact form", tok)
		}
	})
}
