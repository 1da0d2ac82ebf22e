package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTokenStoreModes(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "auth0me")
	// A directory left with a broad mode is narrowed to 0700.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &tokenStore{dir: dir, path: filepath.Join(dir, tokenFileName)}
	if _, err := s.load(""); !errors.Is(err, errNoTokenFile) {
		t.Fatalf("load before save: %v, want errNoTokenFile", err)
	}
	want := &storedToken{Domain: "t.example.com", ClientID: "c", Scopes: []string{"openid"}, AccessToken: "a.b.c", RefreshToken: "r", TokenType: "Bearer", Expiry: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	for range 2 { // create, then replace
		if err := s.save(t.Context(), want); err != nil {
			t.Fatal(err)
		}
	}
	for path, mode := range map[string]os.FileMode{dir: 0o700, s.path: 0o600, s.path + ".lock": 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %o, want %o", path, got, mode)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want only the token file and its lock file (no temporary files left)", len(entries))
	}
	for _, domain := range []string{"", "t.example.com"} {
		got, err := s.load(domain)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("load(%q) (-want +got):\n%s", domain, diff)
		}
	}
	if _, err := s.load("other.example.com"); !errors.Is(err, errNoTokenFile) {
		t.Errorf("load of a tenant never signed in to: %v, want errNoTokenFile", err)
	}
}

// TestTokenFileTenants: entries of several tenants live side by side; the
// last saved is the default; removing the default moves it to another.
func TestTokenFileTenants(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "auth0me")
	s := &tokenStore{dir: dir, path: filepath.Join(dir, tokenFileName)}
	a := &storedToken{Domain: "a.example.com", AccessToken: "a"}
	b := &storedToken{Domain: "b.example.com", AccessToken: "b"}
	for _, st := range []*storedToken{a, b} {
		if err := s.save(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	for domain, want := range map[string]*storedToken{"": b, "a.example.com": a, "b.example.com": b} {
		if got, err := s.load(domain); err != nil || got.AccessToken != want.AccessToken {
			t.Errorf("load(%q) = %+v, %v; want %s's entry", domain, got, err, want.Domain)
		}
	}
	err := s.update(t.Context(), func(tf *tokenFile) (bool, error) {
		tf.remove("b.example.com")
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.load(""); err != nil || got.Domain != "a.example.com" {
		t.Errorf("default after removing it: %+v, %v; want a.example.com", got, err)
	}
	// Removing the last entry removes the file.
	err = s.update(t.Context(), func(tf *tokenFile) (bool, error) {
		tf.remove("a.example.com")
		return true, nil
	})
	if _, statErr := os.Stat(s.path); err != nil || !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("token file after removing every entry: %v, %v", err, statErr)
	}
}

// TestTokenStoreLockWait: a change waits for the lock another holder has,
// and gives up when its context ends.
func TestTokenStoreLockWait(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "auth0me")
	s := &tokenStore{dir: dir, path: filepath.Join(dir, tokenFileName)}
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.update(t.Context(), func(*tokenFile) (bool, error) {
			close(held)
			<-release
			return false, nil
		})
	}()
	<-held
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.update(ctx, func(*tokenFile) (bool, error) { return false, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("update while locked, context cancelled: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDecodeTokenFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, wantErr string
	}{
		{"ok", `{"tenants":{"d":{"domain":"d","access_token":"a"}}}`, ""},
		{"ok with default", `{"default":"d","tenants":{"d":{"domain":"d","access_token":"a"}}}`, ""},
		{"single entry of old files", `{"domain":"d","access_token":"a"}`, ""},
		{"not json", `{`, "not valid JSON"},
		{"two values", `{"domain":"d","access_token":"a"} {}`, "more than one"},
		{"no access token", `{"domain":"d"}`, "no access_token"},
		{"no domain", `{"access_token":"a"}`, "no domain"},
		{"refresh without client", `{"domain":"d","access_token":"a","refresh_token":"r"}`, "no client_id"},
		{"wrong type", `{"domain":1,"access_token":"a"}`, "not valid JSON"},
		{"null entry", `{"tenants":{"d":null}}`, "no access_token"},
		{"entry under another name", `{"tenants":{"e":{"domain":"d","access_token":"a"}}}`, "another domain's name"},
		{"default names nothing", `{"default":"x","tenants":{"d":{"domain":"d","access_token":"a"}}}`, "default names no entry"},
		{"mixed", `{"domain":"d","access_token":"a","tenants":{"d":{"domain":"d","access_token":"a"}}}`, "mixes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeTokenFile([]byte(tc.in))
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzDecodeTokenFile: any input is accepted or refused without a panic,
// and an error never quotes the file (which holds secrets).
func FuzzDecodeTokenFile(f *testing.F) {
	f.Add([]byte(`{"domain":"d","client_id":"c","access_token":"a.b.c","refresh_token":"r","expiry":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"domain":"d","access_token":"secretsecretsecret"} trailing`))
	f.Add([]byte(`{"default":"d","tenants":{"d":{"domain":"d","access_token":"a"},"e":{"domain":"e","access_token":"b"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, err := decodeTokenFile(b)
		if err != nil {
			// Only fixed messages: nothing of the file can leak.
			switch err.Error() {
			case "token file is not valid JSON", "token file holds more than one JSON value",
				"token file has no access_token", "token file has no domain",
				"token file has a refresh_token but no client_id",
				"token file mixes a single entry and tenants",
				"token file holds an entry under another domain's name",
				"token file's default names no entry":
			default:
				t.Fatalf("unexpected error message %q", err)
			}
			return
		}
		for d, st := range tf.Tenants {
			if st.AccessToken == "" || st.Domain != d {
				t.Fatalf("accepted an entry without access_token or under another name: %q %+v", d, st)
			}
		}
		if _, ok := tf.entry(tf.Default); tf.Default != "" && !ok {
			t.Fatalf("accepted a default that names no entry: %q", tf.Default)
		}
	})
}

func TestParseAssignments(t *testing.T) {
	t.Parallel()
	got, err := parseAssignments([]string{"s=dark", "n=42", "f=1.50", "b=false", "o={\"a\":[1,2]}", "q=\"42\"", "z=null", "e=", "sp=a b", "eq=a=b", "two=1 2", "brace=}x"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s": "dark", "n": json.Number("42"), "f": json.Number("1.50"), "b": false,
		"o": map[string]any{"a": []any{json.Number("1"), json.Number("2")}}, "q": "42", "z": nil,
		"e": "", "sp": "a b", "eq": "a=b", "two": "1 2", "brace": "}x",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseAssignments (-want +got):\n%s", diff)
	}
	// What starts like a JSON object, array or string must be one.
	for _, bad := range []string{`addr={"city":"Lyon",}`, `x=[1,`, `q="unterminated`, `o={} {}`, ` x= {`} {
		if _, err := parseAssignments([]string{bad}, false); err == nil || !strings.Contains(err.Error(), "--string") {
			t.Errorf("parseAssignments(%q): %v, want a usage error naming --string", bad, err)
		}
	}
	// --string takes every value as it is.
	raw, err := parseAssignments([]string{`addr={"city":"Lyon",}`, "n=42", "z=null"}, true)
	if err != nil || !cmp.Equal(raw, map[string]any{"addr": `{"city":"Lyon",}`, "n": "42", "z": "null"}) {
		t.Errorf("parseAssignments --string = %v, %v", raw, err)
	}
}

// FuzzParseAssignments: KEY=VALUE parsing never panics, keeps every key,
// and a value is sent as a string exactly when it is not one JSON value.
func FuzzParseAssignments(f *testing.F) {
	f.Add("theme=dark")
	f.Add(`address={"city":"Lyon"}`)
	f.Add("n=42 ")
	f.Add("x=[1,")
	f.Add(`a={"b":1,}`)
	f.Fuzz(func(t *testing.T, arg string) {
		md, err := parseAssignments([]string{arg}, false)
		k, v, _ := strings.Cut(arg, "=")
		var probe any
		isJSON := json.Unmarshal([]byte(v), &probe) == nil
		if err != nil {
			if k != "" && strings.Contains(arg, "=") && (isJSON || strings.IndexAny(strings.TrimSpace(v), `{["`) != 0) {
				t.Fatalf("parseAssignments(%q) refused a value that is JSON or does not look like it: %v", arg, err)
			}
			return
		}
		got, ok := md[k]
		if !ok || len(md) != 1 {
			t.Fatalf("parseAssignments(%q) = %v", arg, md)
		}
		if s, isString := got.(string); isString && s != v && !isJSON {
			t.Fatalf("non-JSON %q came back as %q", v, s)
		}
		if _, isString := got.(string); isString && !isJSON && strings.IndexAny(strings.TrimSpace(v), `{["`) == 0 {
			t.Fatalf("broken JSON %q was accepted as a string", v)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("value %#v of %q cannot be sent: %v", got, arg, err)
		}
	})
}
