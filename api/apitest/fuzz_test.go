package apitest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func FuzzSplitPath(f *testing.F) {
	f.Add("/api/v2/users/auth0%7Cabc/enrollments")
	f.Fuzz(func(t *testing.T, escaped string) {
		seg, ok := splitPath(escaped)
		if !ok {
			return
		}
		if !strings.HasPrefix(escaped, "/api/v2/") || len(seg) == 0 {
			t.Fatalf("accepted %q", escaped)
		}
		// Re-escaping the segments gives back a path that splits the same.
		esc := make([]string, len(seg))
		for i, s := range seg {
			if s == "" {
				t.Fatalf("empty segment from %q", escaped)
			}
			esc[i] = url.PathEscape(s)
		}
		again, ok := splitPath("/api/v2/" + strings.Join(esc, "/"))
		if !ok || strings.Join(again, "\x00") != strings.Join(seg, "\x00") {
			t.Fatalf("%q: %q then %q", escaped, seg, again)
		}
	})
}

func FuzzDecodeObject(f *testing.F) {
	f.Add([]byte(`{"user_metadata":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, keys, err := decodeObject(b)
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decodeObject accepted what encoding/json refuses: %q: %v", b, err)
		}
		if len(keys) != len(obj) || len(obj) != len(m) {
			t.Fatalf("%q: %d keys, %d members, json %d", b, len(keys), len(obj), len(m))
		}
	})
}

// FuzzManagementRequest drives the whole /api/v2 handler with arbitrary
// methods, paths and bodies under a token that holds every scope: nothing
// panics and every answer is Auth0-shaped JSON.
func FuzzManagementRequest(f *testing.F) {
	f.Add("PATCH", "/api/v2/users/auth0%7Calice", []byte(`{"user_metadata":{"a":null}}`))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	tn, err := Start(WithSigningKey(key))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(tn.Close)
	const sub = "auth0|alice"
	tok := tn.AccessToken(sub, "read:current_user", "update:current_user_metadata", "update:current_user_identities",
		"create:current_user_device_credentials", "delete:current_user_device_credentials")
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		tn.mu.Lock()
		tn.users = map[string]*user{}
		tn.creds = map[string]*DeviceCredential{}
		tn.requests = nil
		tn.mu.Unlock()
		if err := tn.AddUser(User{ID: sub, Email: "a@example.com", UserMetadata: map[string]any{"k": 1}}); err != nil {
			t.Fatal(err)
		}
		if err := tn.AddUser(User{ID: "google-oauth2|1", Email: "g@example.com"}); err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(method, "http://"+tn.Domain()+path, strings.NewReader(string(body)))
		if err != nil || req.URL.Host != tn.Domain() {
			return
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		tn.serveHTTP(w, req)
		if w.Code == http.StatusNoContent {
			return
		}
		if ct := w.Header().Get("Content-Type"); ct != contentTypeJSON {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %q", method, path, w.Body.Bytes())
		}
		if w.Code >= 400 {
			var e apiError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.StatusCode != w.Code || e.Error == "" || e.Message == "" {
				t.Fatalf("%s %s: %d body %s", method, path, w.Code, w.Body.Bytes())
			}
		}
		if u, ok := tn.User(sub); ok && len(u.Identities) == 0 {
			t.Fatal("primary lost every identity")
		}
	})
}

// FuzzLoginRequest drives /authorize, /oauth/token, /oauth/device/code and /userinfo
// with arbitrary queries and form bodies: nothing panics, answers are a
// redirect, a web_message page or OAuth-shaped JSON.
func FuzzLoginRequest(f *testing.F) {
	f.Add("/oauth/token", "", "grant_type=authorization_code&client_id=cid&code=x&code_verifier=y")
	f.Add("/userinfo", "", "")
	f.Add("/authorize", "client_id=cid&response_type=id_token&response_mode=form_post&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000&state=%22%3E%3C%2Fform%3E&nonce=n", "")
	f.Add("/authorize", "client_id=cid&response_type=code&response_mode=web_message&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000&state=%3C%2Fscript%3E&code_challenge=c&code_challenge_method=S256", "")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	tn, err := Start(WithSigningKey(key), WithClientID("cid"), WithLoginUser("auth0|alice"), WithAllowedOrigins("*"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(tn.Close)
	f.Fuzz(func(t *testing.T, path, query, form string) {
		method := http.MethodPost
		if path == "/authorize" {
			method = http.MethodGet
		}
		req, err := http.NewRequest(method, "http://"+tn.Domain()+path+"?"+query, strings.NewReader(form))
		if err != nil || req.URL.Host != tn.Domain() {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		tn.serveHTTP(w, req)
		if w.Code == http.StatusFound {
			if _, err := url.Parse(w.Header().Get("Location")); err != nil {
				t.Fatalf("bad Location %q", w.Header().Get("Location"))
			}
			return
		}
		if w.Code == http.StatusOK && strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			// The posted values are escaped: no input closes the script
			// (web_message) or the form (form_post).
			scripts, forms := strings.Count(w.Body.String(), "</script>"), strings.Count(w.Body.String(), "</form>")
			if req.URL.Path != "/authorize" || scripts+forms != 1 {
				t.Fatalf("%s: page %q", path, w.Body.Bytes())
			}
			return
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %q", method, path, w.Body.Bytes())
		}
		if w.Code >= 400 && strings.HasPrefix(req.URL.Path, "/oauth/") || req.URL.Path == "/authorize" && w.Code >= 400 {
			var e oauthError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s: %d %s", path, w.Code, w.Body.Bytes())
			}
		}
	})
}
