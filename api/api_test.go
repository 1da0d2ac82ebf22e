package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/scopeguard"
)

func TestSevenOperationsEndToEnd(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, allScopes)
	ctx := t.Context()

	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.UserID != alice || me.Email != "alice@example.com" || me.UserMetadata["color"] != "blue" {
		t.Errorf("Me = %+v", me)
	}

	if err := tn.SetEnrollments(alice, []apitest.Enrollment{{ID: "dev_1", Status: "confirmed", AuthMethod: "sms", PhoneNumber: "+15550100"}}); err != nil {
		t.Fatal(err)
	}
	es, err := c.Enrollments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != "dev_1" || string(es[0].AuthMethod) != "sms" {
		t.Errorf("Enrollments = %+v", es)
	}

	u, err := c.UpdateMetadata(ctx, map[string]any{"color": nil, "theme": "dark", "n": 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"theme": "dark", "n": float64(2)}, map[string]any(u.UserMetadata)); diff != "" {
		t.Errorf("metadata after update (-want +got):\n%s", diff)
	}
	if stored, _ := tn.User(alice); stored.UserMetadata["theme"] != "dark" || stored.UserMetadata["color"] != nil {
		t.Errorf("tenant holds %v", stored.UserMetadata)
	}

	ids, err := c.LinkIdentity(ctx, tn.IDToken(carol))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0].Provider != "auth0" || ids[1].Provider != "google-oauth2" {
		t.Fatalf("LinkIdentity = %+v", ids)
	}
	if _, ok := tn.User(carol); ok {
		t.Error("the secondary account still exists after linking")
	}
	ids, err = c.UnlinkIdentity(ctx, "google-oauth2", "carol")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0].Provider != "auth0" {
		t.Errorf("UnlinkIdentity = %+v", ids)
	}

	id, err := c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "phone", DeviceID: "0a-1b", Value: "cHVibGlj"})
	if err != nil {
		t.Fatal(err)
	}
	if creds := tn.DeviceCredentials(alice); len(creds) != 1 || creds[0].ID != id || creds[0].Type != "public_key" {
		t.Errorf("tenant credentials = %+v, created %q", creds, id)
	}
	if err := c.DeleteDeviceCredential(ctx, id); err != nil {
		t.Fatal(err)
	}
	if creds := tn.DeviceCredentials(alice); len(creds) != 0 {
		t.Errorf("credentials after delete = %+v", creds)
	}

	// Every request went to alice's own path, with the token's sub escaped.
	for _, r := range tn.Requests() {
		if strings.HasPrefix(r.EscapedPath, "/api/v2/users/") && !strings.HasPrefix(r.EscapedPath, "/api/v2/users/auth0%7Calice") {
			t.Errorf("request to %s", r.EscapedPath)
		}
		if got := r.Header.Get("User-Agent"); got != api.DefaultUserAgent {
			t.Errorf("User-Agent %q", got)
		}
	}
}

// TestGuardRefusesBeforeTheNetwork checks each scope-based refusal comes
// through with scopeguard's error intact and sends nothing.
func TestGuardRefusesBeforeTheNetwork(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, nil) // no scopes at all
	ctx := t.Context()
	calls := map[string]func() error{
		"Me":          func() error { _, err := c.Me(ctx); return err },
		"Enrollments": func() error { _, err := c.Enrollments(ctx); return err },
		"UpdateMetadata": func() error {
			_, err := c.UpdateMetadata(ctx, map[string]any{"a": 1})
			return err
		},
		"LinkIdentity":   func() error { _, err := c.LinkIdentity(ctx, tn.IDToken(carol)); return err },
		"UnlinkIdentity": func() error { _, err := c.UnlinkIdentity(ctx, "google-oauth2", "x"); return err },
		"CreateDeviceCredential": func() error {
			_, err := c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "d", DeviceID: "ab", Value: "v"})
			return err
		},
		"DeleteDeviceCredential": func() error { return c.DeleteDeviceCredential(ctx, "dcr_1") },
	}
	for name, call := range calls {
		err := call()
		var se *scopeguard.ScopeError
		if !errors.Is(err, scopeguard.ErrInsufficientScope) || !errors.As(err, &se) {
			t.Errorf("%s: error %v, want a *scopeguard.ScopeError", name, err)
		}
	}
	if n := len(tn.Requests()); n != 0 {
		t.Errorf("tenant received %d requests, want 0", n)
	}
}

func TestArgumentsCheckedBeforeSending(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, allScopes)
	ctx := t.Context()
	for name, err := range map[string]error{
		"nil metadata":     second(c.UpdateMetadata(ctx, nil)),
		"dotted key":       second(c.UpdateMetadata(ctx, map[string]any{"a.b": 1})),
		"dollar key":       second(c.UpdateMetadata(ctx, map[string]any{"$set": 1})),
		"empty provider":   second(c.UnlinkIdentity(ctx, "", "x")),
		"dot-dot user id":  second(c.UnlinkIdentity(ctx, "auth0", "..")),
		"dot credential":   c.DeleteDeviceCredential(ctx, "."),
		"empty credential": c.DeleteDeviceCredential(ctx, ""),
		"no device name":   second(c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceID: "ab", Value: "v"})),
		"no value":         second(c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "d", DeviceID: "ab"})),
		"bad device id":    second(c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "d", DeviceID: "xyz", Value: "v"})),
		"long device id":   second(c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "d", DeviceID: strings.Repeat("a", 37), Value: "v"})),
	} {
		var ve *api.ValidationError
		if !errors.Is(err, api.ErrInvalidArgument) || !errors.As(err, &ve) {
			t.Errorf("%s: error %v, want a *api.ValidationError", name, err)
		}
	}
	if n := len(tn.Requests()); n != 0 {
		t.Errorf("tenant received %d requests, want 0", n)
	}
}

func TestLinkIdentityChecksTheIDToken(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, allScopes)
	sign := func(claims map[string]any, opts ...apitest.SignOption) string {
		tok, err := tn.SignToken(claims, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	with := func(k string, v any) map[string]any {
		c := tn.IDTokenClaims(carol)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for name, tok := range map[string]string{
		"not a JWT":      "not-a-jwt",
		"HS256":          sign(tn.IDTokenClaims(carol), apitest.SignedWithHS256([]byte("0123456789abcdef0123456789abcdef"))),
		"no sub":         sign(with("sub", nil)),
		"other audience": sign(with("aud", "someone-else")),
		"own account":    tn.IDToken(alice),
	} {
		_, err := c.LinkIdentity(t.Context(), tok)
		var ie *api.IDTokenError
		if !errors.Is(err, api.ErrInvalidIDToken) || !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want *api.IDTokenError", name, err)
		}
		if err != nil && len(tok) > 20 && strings.Contains(err.Error(), tok) {
			t.Errorf("%s: error contains the ID token", name)
		}
	}
	if n := len(tn.Requests()); n != 0 {
		t.Errorf("tenant received %d requests, want 0", n)
	}
}

func TestAuth0ErrorsBecomeTypedErrors(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	ctx := t.Context()

	// 409: the device already has a public key.
	c := newClient(t, tn, alice, allScopes)
	dc := api.DeviceCredential{DeviceName: "d", DeviceID: "abcd", Value: "v"}
	if _, err := c.CreateDeviceCredential(ctx, dc); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateDeviceCredential(ctx, dc)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusConflict || ae.Message == "" {
		t.Errorf("duplicate device: %v", err)
	}

	// 404: a user the tenant does not hold.
	ghost := newClient(t, tn, "auth0|ghost", allScopes)
	_, err = ghost.Me(ctx)
	if !errors.Is(err, api.ErrNotFound) || !errors.As(err, &ae) || ae.Code != "inexistent_user" {
		t.Errorf("unknown user: %v", err)
	}
	if want := "api: get_users_by_id: 404 inexistent_user: The user does not exist."; err == nil || err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}

	// 400: unlinking the main identity.
	_, err = c.UnlinkIdentity(ctx, "auth0", "alice")
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest {
		t.Errorf("unlink main identity: %v", err)
	}

	// 401: a token signed by a key the tenant does not know.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := tn.SignToken(tn.AccessTokenClaims(alice, allScopes...), apitest.SignedWithKey(other))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := api.New(tn.Domain(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: forged}), api.WithBaseURL(tn.BaseURL()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fc.Me(ctx)
	if !errors.Is(err, api.ErrUnauthorized) || strings.Contains(err.Error(), forged) {
		t.Errorf("forged token: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
