package cli

import (
	"io"
	"strings"

	"github.com/auth0me/auth0me/scopeguard"
)

// givenToken returns the access token given with --token ("-" reads
// standard input) or in $AUTH0_TOKEN, and where it came from; "" when
// neither gives one. A token read from standard input or the environment
// is trimmed of surrounding whitespace (a file's trailing newline); an
// empty --token is a usage error rather than a silent fallback.
func (f *factory) givenToken() (string, string, error) {
	if f.tokenGiven {
		switch f.token {
		case "":
			return "", "", usagef("--token is empty; leave it out to use $AUTH0_TOKEN or the token file")
		case "-":
			tok, err := f.readStdin("--token -", "access token")
			return tok, "standard input", err
		}
		return f.token, "--token", nil
	}
	if tok := strings.TrimSpace(f.env.Getenv("AUTH0_TOKEN")); tok != "" {
		return tok, "$AUTH0_TOKEN", nil
	}
	return "", "", nil
}

// readStdin reads one token from standard input for flag, trimmed; what
// names it in errors.
func (f *factory) readStdin(flag, what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(f.env.Stdin, scopeguard.MaxTokenLen+1))
	if err != nil {
		return "", usagef("%s: cannot read the %s from standard input: %v", flag, what, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", usagef("%s: no %s on standard input", flag, what)
	}
	return tok, nil
}
