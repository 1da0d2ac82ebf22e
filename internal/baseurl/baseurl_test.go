package baseurl

import (
	"errors"
	"strings"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "LocalHost": true,
		"127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"localhost.example.com": false, "example.com": false, "10.0.0.1": false,
		"": false, "[::1]": false, "127.0.0.1:80": false, "0.0.0.0": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://example.eu.auth0.com":          "https://example.eu.auth0.com/",
		"https://example.eu.auth0.com/api/v2":   "https://example.eu.auth0.com/api/v2/",
		"https://example.eu.auth0.com/api/v2/":  "https://example.eu.auth0.com/api/v2/",
		"http://127.0.0.1:8080/api/v2/":         "http://127.0.0.1:8080/api/v2/",
		"http://localhost:3000":                 "http://localhost:3000/",
		"http://LOCALHOST:3000/x/":              "http://LOCALHOST:3000/x/",
		"http://[::1]:9999/api/v2/":             "http://[::1]:9999/api/v2/",
		"https://example.eu.auth0.com:443/api/": "https://example.eu.auth0.com:443/api/",
	} {
		u, err := Parse(raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", raw, err)
			continue
		}
		if u.String() != want {
			t.Errorf("Parse(%q) = %q, want %q", raw, u, want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for raw, insecure := range map[string]bool{
		"http://example.com/api/v2/":       true,
		"http://localhost.example.com/":    true,
		"ftp://example.com/":               true,
		"example.com":                      false, // no scheme, so no host
		"https://":                         false,
		"https://user:secret@example.com/": false,
		"https://example.com/?x=1":         false,
		"https://example.com/?":            false,
		"https://example.com/#frag":        false,
		"https://example.com/#":            false,
		"https://example.com/a%2Fb/":       false,
		"https://example.com/api/../v2/":   false,
		"https://example.com/./api/":       false,
		"https://exa mple.com/":            false,
		"https://example.com/\n":           false,
		"mailto:someone@example.com":       false,
		"https://:443/":                    false,
	} {
		_, err := Parse(raw)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", raw)
			continue
		}
		if got := errors.Is(err, ErrInsecure); got != insecure {
			t.Errorf("Parse(%q) = %v; errors.Is(ErrInsecure) = %v, want %v", raw, err, got, insecure)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q) error quotes the user info: %v", raw, err)
		}
	}
}

// FuzzParse checks Parse's contract on any input: it never panics, and a URL
// it accepts is https or plain http to a loopback host, has no user info,
// query or fragment, ends in "/", and parses again to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://example.eu.auth0.com/api/v2/", "http://127.0.0.1:8080", "http://[::1]:1/",
		"http://example.com/", "https://u:p@example.com/", "https://example.com/a/../b",
		"https://example.com/?q", "https://example.com/%2e%2e/", "HTTPS://EXAMPLE.COM",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Parse(raw)
		if err != nil {
			if u != nil {
				t.Fatalf("Parse(%q) returned a URL with its error", raw)
			}
			return
		}
		if !(u.Scheme == "https" || u.Scheme == "http" && IsLoopback(u.Hostname())) {
			t.Fatalf("Parse(%q) accepted scheme %q for host %q", raw, u.Scheme, u.Hostname())
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || !strings.HasSuffix(u.Path, "/") {
			t.Fatalf("Parse(%q) accepted %#v", raw, u)
		}
		again, err := Parse(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("Parse(%q) = %q, which parses again to %v, %v", raw, u, again, err)
		}
	})
}
