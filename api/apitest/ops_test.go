package apitest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
)

// Rule 4: PATCH accepts only user_metadata; first-level merge, null
// deletes, {} wipes, "." and "$" refused.
func TestRule4Patch(t *testing.T) {
	t.Parallel()
	scopeBody := errBody(403, "Forbidden", "Insufficient scope, expected any of: update:users,update:users_app_metadata,update:current_user_metadata", "insufficient_scope")
	tests := []struct {
		name     string
		seed     map[string]any
		body     string
		status   int
		wantBody any            // compared when non-nil
		wantMeta map[string]any // user_metadata after, when status is 200
	}{
		{"merge first level", map[string]any{"a": 1, "n": map[string]any{"x": 1, "y": 2}},
			`{"user_metadata":{"b":"two","n":{"z":3}}}`, 200, nil,
			map[string]any{"a": 1.0, "b": "two", "n": map[string]any{"z": 3.0}}},
		{"null deletes a key", map[string]any{"a": 1, "b": 2}, `{"user_metadata":{"a":null}}`, 200, nil, map[string]any{"b": 2.0}},
		{"empty object wipes", map[string]any{"a": 1, "b": 2}, `{"user_metadata":{}}`, 200, nil, nil},
		{"empty body changes nothing", map[string]any{"a": 1}, `{}`, 200, nil, map[string]any{"a": 1.0}},
		{"values of any JSON type", nil, `{"user_metadata":{"s":"x","n":1.5,"b":true,"l":[1,"a"],"o":{}}}`, 200, nil,
			map[string]any{"s": "x", "n": 1.5, "b": true, "l": []any{1.0, "a"}, "o": map[string]any{}}},
		{"app_metadata refused", map[string]any{"a": 1}, `{"app_metadata":{"plan":"pro"}}`, 403, scopeBody, nil},
		{"password refused", nil, `{"password":"hunter22"}`, 403, scopeBody, nil},
		{"root attribute beside metadata refused", nil, `{"user_metadata":{"a":1},"email":"x@example.com"}`, 403, scopeBody, nil},
		{"connection refused", nil, `{"connection":"Username-Password-Authentication"}`, 403, scopeBody, nil},
		{"dot in key", nil, `{"user_metadata":{"a.b":1}}`, 400, nil, nil},
		{"dollar in key", nil, `{"user_metadata":{"$set":1}}`, 400, nil, nil},
		{"dot in nested key", nil, `{"user_metadata":{"a":{"b":[{"c.d":1}]}}}`, 400, nil, nil},
		{"metadata not an object", nil, `{"user_metadata":"x"}`, 400, nil, nil},
		{"metadata null", nil, `{"user_metadata":null}`, 400, nil, nil},
		{"body an array", nil, `[{"user_metadata":{}}]`, 400,
			errBody(400, "Bad Request", "Payload validation error: 'Expected type object but found type array'.", "invalid_body"), nil},
		{"body not JSON", nil, `{"user_metadata":`, 400,
			errBody(400, "Bad Request", "Payload validation error: 'Invalid JSON'.", "invalid_body"), nil},
		{"trailing garbage", nil, `{} {}`, 400, nil, nil},
		{"over 1 MB", nil, `{"user_metadata":{"big":"` + strings.Repeat("x", 1<<20) + `"}}`, 413,
			errBody(413, "Request Entity Too Large", "Payload content length greater than maximum allowance.", ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now))
			id := "auth0|patch"
			if err := tn.AddUser(apitest.User{ID: id, Email: "p@example.com", UserMetadata: tt.seed, AppMetadata: map[string]any{"plan": "free"}}); err != nil {
				t.Fatal(err)
			}
			before, _ := tn.User(id)
			clock.Advance(time.Second)
			r := call(t, tn, "PATCH", userPath(id), tn.AccessToken(id, "update:current_user_metadata"), tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
			got := r.json(t).(map[string]any)
			if tt.wantBody != nil {
				if d := cmp.Diff(tt.wantBody, got); d != "" {
					t.Errorf("body (-want +got):\n%s", d)
				}
			}
			after, _ := tn.User(id)
			if tt.status != 200 {
				if d := cmp.Diff(before, after); d != "" {
					t.Errorf("refused PATCH changed the user (-before +after):\n%s", d)
				}
				if tt.status == 400 && got["errorCode"] != "invalid_body" {
					t.Errorf("errorCode = %v, want invalid_body", got["errorCode"])
				}
				return
			}
			if d := cmp.Diff(tt.wantMeta, after.UserMetadata); d != "" {
				t.Errorf("stored user_metadata (-want +got):\n%s", d)
			}
			var wantJSON any = tt.wantMeta
			if len(tt.wantMeta) == 0 {
				wantJSON = nil
			}
			if d := cmp.Diff(wantJSON, got["user_metadata"]); d != "" {
				t.Errorf("returned user_metadata (-want +got):\n%s", d)
			}
			if got["user_id"] != id || got["app_metadata"] == nil {
				t.Errorf("PATCH did not return the full user: %v", got)
			}
			if got["updated_at"] != "2026-11-28T12:00:01.000Z" {
				t.Errorf("updated_at = %v", got["updated_at"])
			}
		})
	}
}

// Rule 5: link with an ID token.
func TestRule5Link(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now))
	google := "google-oauth2|1234567890"
	if err := tn.AddUser(apitest.User{ID: google, Email: "alice@gmail.com", EmailVerified: true, GivenName: "Alice",
		UserMetadata: map[string]any{"secret": 1}, AppMetadata: map[string]any{"x": 1}}); err != nil {
		t.Fatal(err)
	}
	tok := tn.AccessToken(alice, "update:current_user_identities")
	idClaims := func(k string, v any) map[string]any {
		c := tn.IDTokenClaims(google)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	bad := func(msg string) any { return errBody(400, "Bad Request", msg, "") }
	fails := []struct {
		name   string
		body   string
		status int
		want   any
	}{
		{"empty object", `{}`, 400, errBody(400, "Bad Request", "Payload validation error: 'Missing required property: link_with'.", "invalid_body")},
		{"provider and user_id", `{"provider":"google-oauth2","user_id":"1234567890"}`, 400, errBody(400, "Bad Request", "Payload validation error: 'Additional properties not allowed: provider'.", "invalid_body")},
		{"link_with plus extra", `{"link_with":"` + tn.IDToken(google) + `","connection_id":"con_0000000000000000"}`, 400, errBody(400, "Bad Request", "Payload validation error: 'Additional properties not allowed: connection_id'.", "invalid_body")},
		{"link_with not a string", `{"link_with":1}`, 400, errBody(400, "Bad Request", "Payload validation error: 'Expected type string but found type number (link_with)'.", "invalid_body")},
		{"not a JWT", `{"link_with":"abc"}`, 400, bad("Invalid token (link_with).")},
		{"HS256", `{"link_with":"` + mustSign(t, tn, tn.IDTokenClaims(google), apitest.SignedWithHS256([]byte("0123456789abcdef0123456789abcdef"))) + `"}`, 400, bad("JWT (link_with) must have an alg of RS256.")},
		{"foreign key", `{"link_with":"` + mustSign(t, tn, tn.IDTokenClaims(google), apitest.SignedWithKey(otherKey())) + `"}`, 400, bad("Invalid token (link_with).")},
		{"expired", `{"link_with":"` + mustSign(t, tn, idClaims("exp", clock.Now().Add(-time.Minute).Unix())) + `"}`, 400, bad("Invalid token (link_with).")},
		{"no sub", `{"link_with":"` + mustSign(t, tn, idClaims("sub", nil)) + `"}`, 400, bad("JWT (link_with) must contains sub claim.")},
		{"sub without provider", `{"link_with":"` + mustSign(t, tn, idClaims("sub", "1234567890")) + `"}`, 400, bad("JWT (link_with) contains an invalid sub claim.")},
		{"other issuer", `{"link_with":"` + mustSign(t, tn, idClaims("iss", "https://other.example.com/")) + `"}`, 400, bad("JWT (link_with) must have the same issuer as the calling user.")},
		{"no aud", `{"link_with":"` + mustSign(t, tn, idClaims("aud", nil)) + `"}`, 400, bad("JWT (link_with) contains an invalid aud claim.")},
		{"aud not azp", `{"link_with":"` + mustSign(t, tn, idClaims("aud", "someOtherClient")) + `"}`, 400, bad("JWT (link_with) must have an aud claim that matches that of the calling token's azp.")},
		{"access token as link_with", `{"link_with":"` + tn.AccessToken(google) + `"}`, 400, bad("JWT (link_with) must have an aud claim that matches that of the calling token's azp.")},
		{"itself", `{"link_with":"` + tn.IDToken(alice) + `"}`, 400, bad("Main identity and the new one are the same.")},
		{"secondary not found", `{"link_with":"` + tn.IDToken("github|999") + `"}`, 400, bad("Provided secondary account not found.")},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tn, "POST", userPath(alice)+"/identities", tok, tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
			if d := cmp.Diff(tt.want, r.json(t)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if _, ok := tn.User(google); !ok {
		t.Fatal("a refused link removed the secondary")
	}

	body := `{"link_with":"` + tn.IDToken(google) + `"}`
	r := call(t, tn, "POST", userPath(alice)+"/identities", tok, body)
	want := []any{
		map[string]any{"profileData": map[string]any{"email": "alice@example.com", "email_verified": true, "nickname": "alice"},
			"connection": "Username-Password-Authentication", "user_id": "alice0000000000000001", "provider": "auth0", "isSocial": false},
		map[string]any{"profileData": map[string]any{"email": "alice@gmail.com", "email_verified": true, "given_name": "Alice", "nickname": "alice"},
			"connection": "google-oauth2", "user_id": "1234567890", "provider": "google-oauth2", "isSocial": true},
	}
	if r.status != 201 {
		t.Fatalf("link status = %d: %s", r.status, r.body)
	}
	if d := cmp.Diff(want, r.json(t)); d != "" {
		t.Errorf("link response (-want +got):\n%s", d)
	}
	if _, ok := tn.User(google); ok {
		t.Error("secondary still exists as a user")
	}
	a, _ := tn.User(alice)
	if d := cmp.Diff(map[string]any{"color": "blue"}, a.UserMetadata); d != "" {
		t.Errorf("primary metadata changed (secondary's must be discarded) (-want +got):\n%s", d)
	}
	if len(a.Identities) != 2 || a.Identities[1].Provider != "google-oauth2" {
		t.Errorf("identities = %+v", a.Identities)
	}
	r = call(t, tn, "POST", userPath(alice)+"/identities", tok, body)
	if d := cmp.Diff(errBody(409, "Conflict", "Specified identity already exists.", ""), r.json(t)); d != "" {
		t.Errorf("second link (-want +got):\n%s", d)
	}
	// GET user shows the linked identity with its profileData, not the
	// primary's.
	g := call(t, tn, "GET", userPath(alice), tn.AccessToken(alice, "read:current_user"), "").json(t).(map[string]any)
	ids := g["identities"].([]any)
	if _, has := ids[0].(map[string]any)["profileData"]; has || len(ids) != 2 {
		t.Errorf("GET identities = %v", ids)
	}
}

// Rule 6: unlink.
func TestRule6Unlink(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	primary := "auth0|primary"
	if err := tn.AddUser(apitest.User{ID: primary, Email: "p@example.com", UserMetadata: map[string]any{"k": "v"},
		Identities: []apitest.Identity{
			{Connection: "Username-Password-Authentication", Provider: "auth0", UserID: "primary"},
			{Connection: "github", Provider: "github", UserID: "42", IsSocial: true,
				ProfileData: map[string]any{"email": "p@github.example", "nickname": "octo", "email_verified": true}},
		}}); err != nil {
		t.Fatal(err)
	}
	tok := tn.AccessToken(primary, "update:current_user_identities")
	r := call(t, tn, "DELETE", userPath(primary)+"/identities/auth0/primary", tok, "")
	if d := cmp.Diff(errBody(400, "Bad Request", "Main identity cannot be removed.", ""), r.json(t)); d != "" {
		t.Errorf("main identity (-want +got):\n%s", d)
	}
	remaining := []any{map[string]any{
		"profileData": map[string]any{"email": "p@example.com", "email_verified": false, "nickname": "p"},
		"connection":  "Username-Password-Authentication", "user_id": "primary", "provider": "auth0", "isSocial": false,
	}}
	r = call(t, tn, "DELETE", userPath(primary)+"/identities/github/42", tok, "")
	if r.status != 200 {
		t.Fatalf("unlink status %d: %s", r.status, r.body)
	}
	if d := cmp.Diff(remaining, r.json(t)); d != "" {
		t.Errorf("unlink response (-want +got):\n%s", d)
	}
	u, ok := tn.User("github|42")
	if !ok {
		t.Fatal("the unlinked identity is not a standalone user")
	}
	if u.UserMetadata != nil || u.AppMetadata != nil || u.Email != "p@github.example" || u.Nickname != "octo" ||
		len(u.Identities) != 1 || u.Identities[0].ProfileData != nil {
		t.Errorf("standalone user = %+v", u)
	}
	p, _ := tn.User(primary)
	if d := cmp.Diff(map[string]any{"k": "v"}, p.UserMetadata); d != "" {
		t.Errorf("primary metadata (-want +got):\n%s", d)
	}
	// Not linked (any more): 200 with the identities unchanged.
	r = call(t, tn, "DELETE", userPath(primary)+"/identities/github/42", tok, "")
	if r.status != 200 {
		t.Fatalf("second unlink status %d", r.status)
	}
	if d := cmp.Diff(remaining, r.json(t)); d != "" {
		t.Errorf("second unlink (-want +got):\n%s", d)
	}
	// Unlink then link again round-trips.
	r = call(t, tn, "POST", userPath(primary)+"/identities", tok, `{"link_with":"`+tn.IDToken("github|42")+`"}`)
	if r.status != 201 || len(r.json(t).([]any)) != 2 {
		t.Errorf("relink: %d %s", r.status, r.body)
	}
}

// Rule 7: device credentials.
func TestRule7DeviceCredentials(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithClientID("cid"))
	create := tn.AccessToken(alice, "create:current_user_device_credentials")
	valid := `{"device_name":"Alice's phone","type":"public_key","value":"QUJDRA==","device_id":"0a1B-c2d3"}`
	inv := func(msg string) any {
		return errBody(400, "Bad Request", "Payload validation error: '"+msg+"'.", "invalid_body")
	}
	fails := []struct {
		name, body string
		want       any
	}{
		{"missing device_name", `{"type":"public_key","value":"QQ==","device_id":"ab"}`, inv("Missing required property: device_name")},
		{"missing type", `{"device_name":"d","value":"QQ==","device_id":"ab"}`, inv("Missing required property: type")},
		{"missing value", `{"device_name":"d","type":"public_key","device_id":"ab"}`, inv("Missing required property: value")},
		{"missing device_id", `{"device_name":"d","type":"public_key","value":"QQ=="}`, inv("Missing required property: device_id")},
		{"refresh_token type", `{"device_name":"d","type":"refresh_token","value":"QQ==","device_id":"ab"}`, inv(`No enum match for: "refresh_token" (type)`)},
		{"empty device_name", `{"device_name":"","type":"public_key","value":"QQ==","device_id":"ab"}`, inv("String is too short (0 chars), minimum 1 (device_name)")},
		{"empty value", `{"device_name":"d","type":"public_key","value":"","device_id":"ab"}`, inv("String is too short (0 chars), minimum 1 (value)")},
		{"device_id 37 chars", `{"device_name":"d","type":"public_key","value":"QQ==","device_id":"` + strings.Repeat("a", 37) + `"}`, inv("String is too long (37 chars), maximum 36 (device_id)")},
		{"device_id not hex", `{"device_name":"d","type":"public_key","value":"QQ==","device_id":"test_device"}`, inv("String does not match pattern ^[-A-Fa-f0-9]+$: test_device (device_id)")},
		{"device_id number", `{"device_name":"d","type":"public_key","value":"QQ==","device_id":12}`, inv("Expected type string but found type number (device_id)")},
		{"other client", `{"device_name":"d","type":"public_key","value":"QQ==","device_id":"ab","client_id":"other"}`, errBody(403, "Forbidden", "Cannot create device credentials for that client.", "")},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tn, "POST", "/api/v2/device-credentials", create, tt.body)
			if d := cmp.Diff(tt.want, r.json(t)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	r := call(t, tn, "POST", "/api/v2/device-credentials", create, valid)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	got := r.json(t).(map[string]any)
	id, _ := got["id"].(string)
	if len(got) != 1 || !strings.HasPrefix(id, "dcr_") {
		t.Fatalf("create body = %v, want {\"id\":\"dcr_...\"}", got)
	}
	if d := cmp.Diff([]apitest.DeviceCredential{{ID: id, UserID: alice, ClientID: "cid", DeviceName: "Alice's phone", DeviceID: "0a1B-c2d3", Type: "public_key", Value: "QUJDRA=="}},
		tn.DeviceCredentials(alice)); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
	r = call(t, tn, "POST", "/api/v2/device-credentials", create, strings.Replace(valid, "Alice's phone", "again", 1))
	if d := cmp.Diff(errBody(409, "Conflict", "A public key already exists for the device.", ""), r.json(t)); d != "" {
		t.Errorf("duplicate (-want +got):\n%s", d)
	}
	// The same device id for another user is fine; client_id equal to azp too.
	r = call(t, tn, "POST", "/api/v2/device-credentials", tn.AccessToken(bob, "create:current_user_device_credentials"),
		strings.Replace(valid, `"device_id"`, `"client_id":"cid","device_id"`, 1))
	if r.status != 201 {
		t.Fatalf("bob create: %d %s", r.status, r.body)
	}
	bobID := r.json(t).(map[string]any)["id"].(string)
	// A token whose sub is not a user.
	r = call(t, tn, "POST", "/api/v2/device-credentials", tn.AccessToken("auth0|ghost", "create:current_user_device_credentials"), valid)
	if d := cmp.Diff(errBody(403, "Forbidden", "Cannot create device credentials for that user.", ""), r.json(t)); d != "" {
		t.Errorf("ghost (-want +got):\n%s", d)
	}

	del := tn.AccessToken(alice, "delete:current_user_device_credentials")
	notFound := errBody(404, "Not Found", "The device credential does not exist.", "inexistent_device_credential")
	r = call(t, tn, "DELETE", "/api/v2/device-credentials/"+bobID, del, "")
	if d := cmp.Diff(notFound, r.json(t)); d != "" {
		t.Errorf("delete bob's credential as alice (-want +got):\n%s", d)
	}
	if len(tn.DeviceCredentials(bob)) != 1 {
		t.Error("alice deleted bob's credential")
	}
	r = call(t, tn, "DELETE", "/api/v2/device-credentials/"+id, del, "")
	if r.status != 204 || len(r.body) != 0 {
		t.Errorf("delete: %d %q", r.status, r.body)
	}
	r = call(t, tn, "DELETE", "/api/v2/device-credentials/"+id, del, "")
	if d := cmp.Diff(notFound, r.json(t)); d != "" {
		t.Errorf("delete again (-want +got):\n%s", d)
	}
	if n := len(tn.DeviceCredentials(alice)); n != 0 {
		t.Errorf("%d credentials left", n)
	}
}

// Rule 8: enrollments are an array, [] when none, seedable.
func TestRule8Enrollments(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	tok := tn.AccessToken(alice, "read:current_user")
	r := call(t, tn, "GET", userPath(alice)+"/enrollments", tok, "")
	if r.status != 200 || string(r.body) != "[]" {
		t.Fatalf("no enrollments: %d %s", r.status, r.body)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	if err := tn.SetEnrollments(alice, []apitest.Enrollment{
		{ID: "dev_1", Status: "confirmed", Type: "authenticator", AuthMethod: "authenticator", EnrolledAt: at, LastAuth: at},
		{ID: "dev_2", Status: "pending", Type: "sms", Name: "+15550001111", PhoneNumber: "+15550001111", AuthMethod: "sms"},
	}); err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"id": "dev_1", "status": "confirmed", "type": "authenticator", "auth_method": "authenticator",
			"enrolled_at": "2026-01-02T03:04:05.006Z", "last_auth": "2026-01-02T03:04:05.006Z"},
		map[string]any{"id": "dev_2", "status": "pending", "type": "sms", "name": "+15550001111", "phone_number": "+15550001111", "auth_method": "sms"},
	}
	r = call(t, tn, "GET", userPath(alice)+"/enrollments", tok, "")
	if d := cmp.Diff(want, r.json(t)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Seeding through AddUser too.
	if err := tn.AddUser(apitest.User{ID: "sms|+15550001111", Enrollments: []apitest.Enrollment{{ID: "e"}}}); err != nil {
		t.Fatal(err)
	}
	r = call(t, tn, "GET", userPath("sms|+15550001111")+"/enrollments", tn.AccessToken("sms|+15550001111", "read:users"), "")
	if string(r.body) != `[{"id":"e"}]` {
		t.Errorf("body = %s", r.body)
	}
	if err := tn.SetEnrollments("auth0|nobody", nil); err == nil {
		t.Error("SetEnrollments on a missing user succeeded")
	}
}
