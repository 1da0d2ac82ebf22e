package bearer

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsCompact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"aGVhZGVy.cGF5bG9hZA.c2ln", true},
		{"a-_Z09.b.c", true},
		{"..", true}, // the form only; what the parts decode to is the parser's concern
		{"aGVhZGVy.cGF5bG9hZA.c2ln\n", false},
		{"aGVhZGVy.cGF5bG9hZA.c2ln\r\n", false},
		{" aGVhZGVy.cGF5bG9hZA.c2ln", false},
		{"aGVh\nZGVy.cGF5bG9hZA.c2ln", false},
		{"aGVhZGVy.cGF5bG9hZA==.c2ln", false}, // padding is not base64url of JWS
		{"aGVhZGVy+cGF5/bG9hZA.c2ln.x", false},
		{"a.b", false},
		{"a.b.c.d", false},
		{"", false},
		{"a.b.c\u00a0", false},
	} {
		if got := IsCompact(tc.in); got != tc.want {
			t.Errorf("IsCompact(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFromHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header []string // the Authorization values; none for no header
		want   string
	}{
		{[]string{"Bearer a.b.c"}, "a.b.c"},
		{[]string{"bearer a.b.c"}, "a.b.c"},
		{[]string{"BEARER  a.b.c "}, "a.b.c"},
		{[]string{"Basic dXNlcjpwYXNz"}, ""},
		{[]string{"Bearer"}, ""},
		{[]string{"Bearera.b.c"}, ""},
		{[]string{""}, ""},
		{nil, ""},
		{[]string{"Bearer first", "Bearer second"}, "first"}, // Header.Get's first value
	} {
		h := http.Header{}
		for _, v := range tc.header {
			h.Add("Authorization", v)
		}
		if got := FromHeader(h); got != tc.want {
			t.Errorf("FromHeader(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

// FromHeader reads back any token set as "<scheme> <token>" when the
// scheme is Bearer in any case, trimmed of spaces, and nothing for any
// other scheme.
func FuzzFromHeader(f *testing.F) {
	for _, s := range []string{"a.b.c", "", " x ", "Bearer y"} {
		f.Add(s, "Bearer")
	}
	f.Add("tok", "bEaReR")
	f.Add("a.b.c", "Basic")
	f.Fuzz(func(t *testing.T, tok, scheme string) {
		if strings.Contains(scheme, " ") {
			return // the scheme ends at the first space
		}
		h := http.Header{}
		h.Set("Authorization", scheme+" "+tok)
		want := ""
		if strings.EqualFold(scheme, "Bearer") {
			want = strings.TrimSpace(tok)
		}
		if got := FromHeader(h); got != want {
			t.Fatalf("FromHeader(%q) = %q, want %q", h.Get("Authorization"), got, want)
		}
	})
}

func TestSplitScopes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"read:current_user update:current_user_metadata", []string{"read:current_user", "update:current_user_metadata"}},
		{"  a   b ", []string{"a", "b"}},
		{"foo\tread:current_user", []string{"foo\tread:current_user"}},
		{"foo\u00a0read:current_user", []string{"foo\u00a0read:current_user"}},
		{"foo\u2003read:current_user", []string{"foo\u2003read:current_user"}},
		{"a\nb", []string{"a\nb"}},
		{"", nil},
		{"   ", nil},
	} {
		if diff := cmp.Diff(tc.want, SplitScopes(tc.in)); diff != "" {
			t.Errorf("SplitScopes(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	const tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHxhYmMifQ.c2lnbmF0dXJlLWJ5dGVz"
	parts := strings.Split(tok, ".")
	header, payload, sig := parts[0], parts[1], parts[2]
	for _, tc := range []struct{ in, want string }{
		{"upstream rejected " + tok, "upstream rejected [REDACTED]"},
		{"Bearer " + tok + " and again " + tok, "Bearer [REDACTED] and again [REDACTED]"},
		{"payload " + payload + " alone", "payload [REDACTED] alone"},
		{"header " + header + ", signature " + sig, "header [REDACTED], signature [REDACTED]"},
		{"nothing here", "nothing here"},
		{"", ""},
	} {
		if got := Redact(tc.in, tok); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Short tokens and short parts are left alone, so redaction cannot
	// mangle ordinary words.
	if got := Redact("a.b.c is fine", "a.b"); got != "a.b.c is fine" {
		t.Errorf("Redact with a 3-byte token = %q, want the text unchanged", got)
	}
	if got := Redact("abc def", "abc.def.ghi"); got != "abc def" {
		t.Errorf("Redact with short parts = %q, want the text unchanged", got)
	}
}

// FuzzRedact checks that no text keeps a compact-form token after Redact,
// and that text without the token or its long parts is left as it was.
func FuzzRedact(f *testing.F) {
	f.Add("upstream rejected eyJh.eyJz.c2ln", "eyJh.eyJz.c2ln")
	f.Add("xx eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl yy", "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
	f.Add("aaaa.aaaa.aaaaaaaa.aaaa.aaaa", "aaaa.aaaa.aaaa")
	f.Add("REDACTED.x.y", "REDACTED.x.y")
	f.Fuzz(func(t *testing.T, s, token string) {
		got := Redact(s, token)
		if IsCompact(token) && len(token) >= 4 && strings.Contains(got, token) {
			t.Fatalf("Redact(%q, %q) = %q still holds the token", s, token, got)
		}
		if len(token) < 4 && got != s {
			t.Fatalf("Redact(%q, %q) = %q changed text for a short token", s, token, got)
		}
		if !strings.Contains(s, token) && !containsLongPart(s, token) && got != s {
			t.Fatalf("Redact(%q, %q) = %q changed text holding none of the token", s, token, got)
		}
	})
}

// containsLongPart reports whether s holds a dot-separated part of token
// long enough for Redact to replace on its own.
func containsLongPart(s, token string) bool {
	for part := range strings.SplitSeq(token, ".") {
		if len(part) >= minPart && strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// FuzzSplitScopes checks that scopes split on U+0020 alone: no part is
// empty or holds a space, and the parts are the claim's words in order.
func FuzzSplitScopes(f *testing.F) {
	f.Add("read:current_user update:current_user_metadata")
	f.Add("foo\tread:current_user")
	f.Add("a\u00a0b  c")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		parts := SplitScopes(s)
		for _, p := range parts {
			if p == "" || strings.Contains(p, " ") {
				t.Fatalf("SplitScopes(%q) has part %q", s, p)
			}
		}
		// Nothing but the spaces is dropped: other white space stays inside
		// a scope.
		if got, want := strings.Join(parts, ""), strings.ReplaceAll(s, " ", ""); got != want {
			t.Fatalf("SplitScopes(%q) lost text: joined %q, want %q", s, got, want)
		}
	})
}
