package bff_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/auth0me/auth0me/bff"
)

// TestPolicyRefusalsSendNothing: every refusal of a PATCH body is a 400
// (413, 415) naming the key and reason, and the tenant receives nothing.
func TestPolicyRefusalsSendNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(bff.WriteMetadata), bff.WithMaxBodySize(1024))
	sess := f.signIn(alice, allScopes...)
	long := strings.Repeat("x", 19)
	for _, c := range []struct {
		name, body  string
		contentType string
		status      int
		code, key   string
		inMessage   string
	}{
		{"key not listed", `{"theme": "dark", "role": "admin"}`, "", 400, "metadata_key_not_allowed", "role", `"role"`},
		{"null for a key not listed", `{"role": null}`, "", 400, "metadata_key_not_allowed", "role", ""},
		{"app_metadata", `{"app_metadata": {"plan": "free"}}`, "", 400, "metadata_key_not_allowed", "app_metadata", ""},
		{"schema: enum", `{"theme": "neon"}`, "", 400, "metadata_value_invalid", "theme", "light"},
		{"schema: type", `{"colors": "red"}`, "", 400, "metadata_value_invalid", "colors", "array"},
		{"schema: nested", `{"colors": ["red", 1]}`, "", 400, "metadata_value_invalid", "colors", "/1"},
		{"value over MaxSize", `{"colors": ["` + long + `","` + long + `","` + long + `","` + long + `","` + long + `","` + long + `","` + long + `","` + long + `","` + long + `","` + long + `","` + long + `"]}`, "", 400, "metadata_value_too_large", "colors", "200"},
		{"total over MaxTotal", `{"colors": ["` + long + `","` + long + `","` + long + `","` + long + `","` + long + `"], "prefs": {"a": "` + strings.Repeat("z", 200) + `"}}`, "", 400, "metadata_too_large", "", "300"},
		{"nested name with dot", `{"prefs": {"a.b": 1}}`, "", 400, "metadata_value_invalid", "prefs", "'.'"},
		{"nested name with dollar", `{"prefs": {"x": [{"$set": 1}]}}`, "", 400, "metadata_value_invalid", "prefs", "'$'"},
		{"duplicate key", `{"theme": "dark", "theme": "light"}`, "", 400, "invalid_request", "theme", "twice"},
		{"empty object", `{}`, "", 400, "metadata_clear_not_allowed", "", ""},
		{"not an object", `["theme"]`, "", 400, "invalid_request", "", ""},
		{"a string", `"theme"`, "", 400, "invalid_request", "", ""},
		{"null body", `null`, "", 400, "invalid_request", "", ""},
		{"malformed", `{"theme": "dark"`, "", 400, "invalid_request", "", ""},
		{"trailing data", `{"theme": "dark"} {"theme": "light"}`, "", 400, "invalid_request", "", ""},
		{"wrapped in user_metadata", `{"user_metadata": {"theme": "dark"}}`, "", 400, "metadata_key_not_allowed", "user_metadata", ""},
		{"form body", `theme=dark`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", "", ""},
		{"text/plain", `{"theme": "dark"}`, "text/plain", 415, "unsupported_media_type", "", ""},
		{"too large", `{"theme": "` + strings.Repeat("d", 2000) + `"}`, "", 413, "body_too_large", "", ""},
	} {
		r := request("PATCH", "/me/metadata", sess, c.body)
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		w := serve(h, r)
		e := errorBody(t, w)
		if w.Code != c.status || e.Code != c.code || e.Key != c.key || !strings.Contains(e.Message, c.inMessage) {
			t.Errorf("%s: status %d %+v, want %d %s key %q mentioning %q", c.name, w.Code, e, c.status, c.code, c.key, c.inMessage)
		}
	}
	if n := f.sent(); n != 0 {
		t.Errorf("%d requests reached the tenant", n)
	}
	if u, _ := f.tn.User(alice); u.UserMetadata["theme"] != "light" {
		t.Errorf("metadata changed: %v", u.UserMetadata)
	}
}

// TestStrictBodies: the other routes with bodies refuse unknown fields,
// wrong types and trailing data, sending nothing.
func TestStrictBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.handler(t, bff.Allow(allRoutes...))
	sess := f.signIn(alice, allScopes...)
	for _, c := range []struct{ path, body string }{
		{"/me/identities", `{"id_token": "a.b.c", "link_with": "a.b.c"}`},
		{"/me/identities", `{"provider": "github", "user_id": "sec"}`},
		{"/me/identities", `{"id_token": 5}`},
		{"/me/identities", `{"id_token": ""}`},
		{"/me/identities", `{"id_token": "a.b.c"}x`},
		{"/me/device-credentials", `{"device_name": "d", "device_id": "ab", "value": "v", "type": "refresh_token"}`},
		{"/me/device-credentials", `{"device_name": "d", "device_id": "ab", "value": "v", "client_id": "other"}`},
		{"/me/device-credentials", `{"device_name": "d", "device_id": "ab"}`},
	} {
		w := serve(h, request("POST", c.path, sess, c.body))
		if e := errorBody(t, w); w.Code != http.StatusBadRequest || e.Code != "invalid_request" {
			t.Errorf("POST %s %s: status %d %+v", c.path, c.body, w.Code, e)
		}
	}
	if n := f.sent(); n != 0 {
		t.Errorf("%d requests reached the tenant", n)
	}
}
