package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFastDecodingKeepsEverything decodes users through the one-pass path
// and its fallback: bodies with fields the spec does not name keep them.
func TestFastDecodingKeepsEverything(t *testing.T) {
	t.Parallel()
	ex := func(body string) exchange {
		return exchange{resp: &http.Response{StatusCode: 200}, body: []byte(body)}
	}
	users := []string{
		`{"user_id":"auth0|1","email":"","identities":[{"connection":"c","user_id":"1","provider":"auth0"}],"user_metadata":{"a":1}}`,
		`{"user_id":"auth0|1","locale":"fr","https://example.com/claim":{"x":true}}`,
	}
	for _, body := range users {
		got, err := decodeUser("op", ex(body))
		if err != nil {
			t.Fatal(err)
		}
		again, _ := json.Marshal(got)
		var a, b any
		_ = json.Unmarshal([]byte(body), &a)
		_ = json.Unmarshal(again, &b)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s does not round-trip (-body +re-encoded):\n%s", body, diff)
		}
	}
	if _, err := decodeUser("op", ex(`{"user_id":1}`)); err == nil {
		t.Error("a user_id of the wrong type decoded")
	}
	if _, err := decodeUser("op", ex(`{"user_id":"a"} trailing`)); err == nil {
		t.Error("trailing data after the body decoded")
	}
}
