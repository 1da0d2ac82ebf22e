package apitest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/gen"
)

// Rule 2: the seven operations, routed on the escaped path.
func TestRule2Routing(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	slashy := "samlp|corp/alice@example.com"
	if err := tn.AddUser(apitest.User{ID: slashy, Email: "a@corp.example"}); err != nil {
		t.Fatal(err)
	}
	all := []string{"read:current_user", "update:current_user_metadata", "update:current_user_identities",
		"create:current_user_device_credentials", "delete:current_user_device_credentials"}
	tok := tn.AccessToken(alice, all...)
	credID, err := tn.AddDeviceCredential(apitest.DeviceCredential{UserID: alice, DeviceID: "ab12", DeviceName: "phone", Value: "QUJD"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body string
		token                    string
		status                   int
	}{
		{"get user", "GET", "/api/v2/users/auth0%7Calice0000000000000001", "", tok, 200},
		{"get user lower-case escape", "GET", "/api/v2/users/auth0%7calice0000000000000001", "", tok, 200},
		{"enrollments", "GET", userPath(alice) + "/enrollments", "", tok, 200},
		{"patch", "PATCH", userPath(alice), `{"user_metadata":{}}`, tok, 200},
		{"link (body refused, but routed)", "POST", userPath(alice) + "/identities", `{}`, tok, 400},
		{"unlink main", "DELETE", userPath(alice) + "/identities/auth0/alice0000000000000001", "", tok, 400},
		{"create credential", "POST", "/api/v2/device-credentials", `{"device_name":"x","type":"public_key","value":"QQ==","device_id":"beef"}`, tok, 201},
		{"delete credential", "DELETE", "/api/v2/device-credentials/" + credID, "", tok, 204},
		{"%2F inside an id", "GET", "/api/v2/users/samlp%7Ccorp%2Falice@example.com", "", tn.AccessToken(slashy, "read:current_user"), 200},
		{"unescaped slash is another path", "GET", "/api/v2/users/samlp%7Ccorp/alice@example.com", "", tn.AccessToken(slashy, "read:current_user"), 404},
		{"unknown collection", "GET", "/api/v2/clients", "", tok, 404},
		{"wrong method", "PUT", userPath(alice), "{}", tok, 404},
		{"trailing slash", "GET", userPath(alice) + "/", "", tok, 404},
		{"empty id", "GET", "/api/v2/users/", "", tok, 404},
		{"outside api", "GET", "/nothing", "", tok, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tn, tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 404 && tt.name != "get user" {
				if d := cmp.Diff(errBody(404, "Not Found", "Not Found", ""), r.json(t)); d != "" {
					t.Errorf("404 body (-want +got):\n%s", d)
				}
			}
		})
	}
	t.Run("unknown route needs authentication first", func(t *testing.T) {
		r := call(t, tn, "GET", "/api/v2/clients", "", "")
		if r.status != 401 {
			t.Errorf("status = %d, want 401", r.status)
		}
	})
	t.Run("requests keep the escaped path", func(t *testing.T) {
		tn := apitest.New(t, testUsers)
		tn.ResetRequests()
		call(t, tn, "GET", "/api/v2/users/auth0%7Calice0000000000000001?fields=email", "tok", "")
		reqs := tn.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		got := reqs[0]
		if got.Method != "GET" || got.EscapedPath != "/api/v2/users/auth0%7Calice0000000000000001" || got.RawQuery != "fields=email" ||
			got.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request = %+v", got)
		}
	})
}

// Rule 3: subject, then scope (any of), then existence.
func TestRule3ScopeSubjectExistence(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	ghost := "auth0|ghost"
	type op struct {
		name, method, suffix, body string
		accepted                   []string
		message                    string
		okStatus                   int
	}
	ops := []op{
		{gen.OpGetUsersByID, "GET", "", "", []string{"read:users", "read:current_user", "read:user_idp_tokens"},
			"Insufficient scope, expected any of: read:users,read:current_user,read:user_idp_tokens", 200},
		{gen.OpGetEnrollments, "GET", "/enrollments", "", []string{"read:users", "read:current_user"},
			"Insufficient scope, expected any of: read:users,read:current_user", 200},
		{gen.OpPostIdentities, "POST", "/identities", `{"link_with":"x"}`, []string{"update:users", "update:current_user_identities"},
			"Insufficient scope, expected any of: update:users,update:current_user_identities", 400},
		{gen.OpDeleteUserIdentityByUserID, "DELETE", "/identities/google-oauth2/1", "", []string{"update:users", "update:current_user_identities"},
			"Insufficient scope, expected any of: update:users,update:current_user_identities", 200},
		{gen.OpPatchUsersByID, "PATCH", "", `{"user_metadata":{"a":1}}`,
			[]string{"update:users", "update:users_app_metadata", "update:current_user_metadata", "create:current_user_metadata"},
			"Insufficient scope, expected any of: update:users,update:users_app_metadata,update:current_user_metadata", 200},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			t.Run("no scope", func(t *testing.T) {
				r := call(t, tn, o.method, userPath(alice)+o.suffix, tn.AccessToken(alice, "openid", "read:current_user_metadata"), o.body)
				if d := cmp.Diff(errBody(403, "Forbidden", o.message, "insufficient_scope"), r.json(t)); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			})
			for _, s := range o.accepted {
				t.Run(s, func(t *testing.T) {
					r := call(t, tn, o.method, userPath(alice)+o.suffix, tn.AccessToken(alice, "openid", s), o.body)
					if r.status != o.okStatus {
						t.Errorf("status = %d, want %d: %s", r.status, o.okStatus, r.body)
					}
				})
			}
			t.Run("other user", func(t *testing.T) {
				// Subject is checked before scope: a token without the scope still
				// gets unowned_resource.
				for _, scopes := range [][]string{o.accepted, nil} {
					r := call(t, tn, o.method, userPath(bob)+o.suffix, tn.AccessToken(alice, scopes...), o.body)
					if d := cmp.Diff(errBody(403, "Forbidden", "User to be acted on does not match subject in bearer token.", "unowned_resource"), r.json(t)); d != "" {
						t.Errorf("scopes %v (-want +got):\n%s", scopes, d)
					}
				}
			})
			t.Run("inexistent user", func(t *testing.T) {
				r := call(t, tn, o.method, userPath(ghost)+o.suffix, tn.AccessToken(ghost, o.accepted...), o.body)
				if d := cmp.Diff(errBody(404, "Not Found", "The user does not exist.", "inexistent_user"), r.json(t)); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
				// Scope is checked before existence.
				r = call(t, tn, o.method, userPath(ghost)+o.suffix, tn.AccessToken(ghost), o.body)
				if r.status != 403 {
					t.Errorf("without scope: status %d, want 403", r.status)
				}
			})
		})
	}
	t.Run("device credentials scopes", func(t *testing.T) {
		r := call(t, tn, "POST", "/api/v2/device-credentials", tn.AccessToken(alice, "read:current_user"), `{}`)
		if d := cmp.Diff(errBody(403, "Forbidden", "Insufficient scope, expected any of: create:current_user_device_credentials", "insufficient_scope"), r.json(t)); d != "" {
			t.Errorf("create (-want +got):\n%s", d)
		}
		r = call(t, tn, "DELETE", "/api/v2/device-credentials/dcr_x", tn.AccessToken(alice, "create:current_user_device_credentials"), "")
		if d := cmp.Diff(errBody(403, "Forbidden", "Insufficient scope, expected any of: delete:device_credentials,delete:current_user_device_credentials", "insufficient_scope"), r.json(t)); d != "" {
			t.Errorf("delete (-want +got):\n%s", d)
		}
		for _, s := range []string{"delete:device_credentials", "delete:current_user_device_credentials"} {
			r = call(t, tn, "DELETE", "/api/v2/device-credentials/dcr_x", tn.AccessToken(alice, s), "")
			if r.status != 404 {
				t.Errorf("%s: status %d, want 404 (scope accepted, no such credential)", s, r.status)
			}
		}
	})
}
