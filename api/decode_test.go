package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
)

// answer is a transport that answers every request with status and body,
// as a hostile or broken server could.
type answer struct {
	status int
	body   string
}

func (a answer) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: a.status, Request: req, ContentLength: int64(len(a.body)),
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(strings.NewReader(a.body)),
	}, nil
}

// answering returns a client whose every request gets status and body.
func answering(t testing.TB, status int, body string) *api.Client {
	t.Helper()
	tn := apitest.New(t, testUsers)
	return newClient(t, tn, alice, allScopes, api.WithHTTPClient(&http.Client{Transport: answer{status, body}}), api.WithMaxRetries(0))
}

// TestNonObjectAnswersAreBadResponses: a 2xx body that is null, or a JSON
// value other than the object or array the operation answers, is
// ErrBadResponse, never an empty value (issue 12, item 11).
func TestNonObjectAnswersAreBadResponses(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`null`, ` null `, `[]`, `"user"`, `1`, `true`, `[{"user_id":"auth0|alice"}]`, ``, `{"user_id":"a"} {}`} {
		c := answering(t, http.StatusOK, body)
		if u, err := c.Me(t.Context()); !errors.Is(err, api.ErrBadResponse) {
			t.Errorf("Me answered %q: %+v, %v; want ErrBadResponse", body, u, err)
		}
		if u, err := c.UpdateMetadata(t.Context(), map[string]any{"a": 1}); !errors.Is(err, api.ErrBadResponse) {
			t.Errorf("UpdateMetadata answered %q: %+v, %v; want ErrBadResponse", body, u, err)
		}
	}
	for _, body := range []string{`null`, `{}`, `[null]`, `[{"id":"a"},null]`, `"x"`, `[1]`} {
		c := answering(t, http.StatusOK, body)
		if es, err := c.Enrollments(t.Context()); !errors.Is(err, api.ErrBadResponse) {
			t.Errorf("Enrollments answered %q: %+v, %v; want ErrBadResponse", body, es, err)
		}
		if ids, err := c.UnlinkIdentity(t.Context(), "github", "1"); !errors.Is(err, api.ErrBadResponse) {
			t.Errorf("UnlinkIdentity answered %q: %+v, %v; want ErrBadResponse", body, ids, err)
		}
	}
	for _, body := range []string{`null`, `[{"id":"dcr_1"}]`, `"dcr_1"`} {
		c := answering(t, http.StatusCreated, body)
		if id, err := c.CreateDeviceCredential(t.Context(), api.DeviceCredential{DeviceName: "d", DeviceID: "0a", Value: "k"}); !errors.Is(err, api.ErrBadResponse) {
			t.Errorf("CreateDeviceCredential answered %q: %q, %v; want ErrBadResponse", body, id, err)
		}
	}
}

// TestDecodedUserRoundTrips: a decoded user encodes to the fields it was
// sent, but those the spec does not name (which are not kept) and zero
// values (which Auth0 does not tell from absent ones), and an identity's
// numeric user_id reads as its digits.
func TestDecodedUserRoundTrips(t *testing.T) {
	t.Parallel()
	const body = `{"user_id":"auth0|alice","email":"a@example.com","blocked":false,"logins_count":3,"last_login":"2026-12-01T10:00:00.5Z",` +
		`"user_metadata":{"a":{"b":[1,null,""]}},"identities":[{"connection":"c","user_id":"alice","provider":"auth0","isSocial":false},` +
		`{"connection":"wordpress","user_id":72894558,"provider":"wordpress","isSocial":true,"profileData":{"email":"w@example.com","nickname":"w"}}]}`
	const want = `{"user_id":"auth0|alice","email":"a@example.com","logins_count":3,"last_login":"2026-12-01T10:00:00.5Z",` +
		`"user_metadata":{"a":{"b":[1,null,""]}},"identities":[{"connection":"c","user_id":"alice","provider":"auth0"},` +
		`{"connection":"wordpress","user_id":"72894558","provider":"wordpress","isSocial":true,"profileData":{"email":"w@example.com","nickname":"w"}}]}`
	u, err := answering(t, http.StatusOK, body).Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "a@example.com" || u.Identities[1].UserID != "72894558" || u.Identities[1].ProfileData.Email != "w@example.com" {
		t.Errorf("decoded %+v", u)
	}
	again, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var w, got map[string]any
	_ = json.Unmarshal([]byte(want), &w)
	_ = json.Unmarshal(again, &got)
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("re-encoded user (-body +re-encoded):\n%s", diff)
	}
}

// FuzzDecodeUser: whatever a 200 answer holds, Me returns a user only for a
// body that is one JSON object, and otherwise ErrBadResponse.
func FuzzDecodeUser(f *testing.F) {
	for _, s := range []string{`null`, `{}`, `[]`, `[null]`, `"x"`, `{"user_id":"a"}`, `{"identities":[null]}`, `{"identities":[{"user_id":1}]}`, ` {"a":1} `, `{"a":1}x`} {
		f.Add(s)
	}
	tn := apitest.New(f, testUsers)
	f.Fuzz(func(t *testing.T, body string) {
		c := newClient(t, tn, alice, allScopes, api.WithHTTPClient(&http.Client{Transport: answer{http.StatusOK, body}}), api.WithMaxRetries(0))
		u, err := c.Me(t.Context())
		switch {
		case err != nil && !errors.Is(err, api.ErrBadResponse):
			t.Fatalf("%q: %v, want ErrBadResponse", body, err)
		case err == nil && (u == nil || !json.Valid([]byte(body)) || !bytes.HasPrefix(bytes.TrimSpace([]byte(body)), []byte("{"))):
			t.Fatalf("%q decoded as %+v", body, u)
		}
	})
}
