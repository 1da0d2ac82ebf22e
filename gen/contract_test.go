package gen_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/auth0me/auth0me/gen"
)

// recording is the part of a go-vcr cassette the contract tests read.
type recording struct {
	Interactions []struct {
		Request struct {
			URL    string `yaml:"url"`
			Method string `yaml:"method"`
			Body   string `yaml:"body"`
		} `yaml:"request"`
		Response struct {
			Body string `yaml:"body"`
			Code int    `yaml:"code"`
		} `yaml:"response"`
	} `yaml:"interactions"`
}

const recordings = "../../shared/auth0/recordings"

// otherOperations are the calls in the recordings that set up or clean up a
// test and are not among the seven current-user operations.
var otherOperations = map[string]bool{
	"POST /users":             true, // create a user (admin)
	"DELETE /users/{}":        true, // delete a user (admin)
	"GET /connections":        true, // look up a connection (admin)
	"GET /device-credentials": true, // list credentials (admin)
}

// decoders decode a 2xx body into the generated type for each operation.
var decoders = map[string]func([]byte) (any, error){
	"get_users_by_id":                 decodeInto[gen.GetUserResponseContent],
	"patch_users_by_id":               decodeInto[gen.UpdateUserResponseContent],
	"get_enrollments":                 decodeInto[[]gen.UsersEnrollment],
	"post_identities":                 decodeInto[[]gen.UserIdentity],
	"delete_user_identity_by_user_id": decodeInto[gen.DeleteUserIdentityResponseContent],
	"post_device-credentials":         decodeInto[gen.CreatePublicKeyDeviceCredentialResponseContent],
	"delete_device-credentials_by_id": nil, // 204, no body
}

func decodeInto[T any](b []byte) (any, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// route finds the operation whose template matches an escaped path below
// /api/v2, or "" with the path's shape ({} for each id-like segment).
func route(method, escapedPath string) (string, string) {
	segs := strings.Split(strings.TrimPrefix(escapedPath, "/api/v2"), "/")
	for _, op := range gen.Operations {
		tmpl := strings.Split(op.Path, "/")
		if op.Method != method || len(tmpl) != len(segs) {
			continue
		}
		match := true
		for i := range tmpl {
			if !strings.HasPrefix(tmpl[i], "{") && tmpl[i] != segs[i] {
				match = false
				break
			}
		}
		if match {
			return op.ID, ""
		}
	}
	for i := 2; i < len(segs); i++ {
		segs[i] = "{}"
	}
	return "", method + " " + strings.Join(segs, "/")
}

func TestRecordedTrafficMatchesGeneratedClient(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(recordings, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if _, err := os.Stat(recordings); errors.Is(err, os.ErrNotExist) {
			t.Skipf("needs %s (the shared folder beside the checkout)", recordings)
		}
		t.Fatalf("no recordings in %s", recordings)
	}
	seen := map[string]int{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var rec recording
		if err := yaml.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, in := range rec.Interactions {
			u, err := url.Parse(in.Request.URL)
			if err != nil {
				t.Fatalf("%s #%d: %v", file, i, err)
			}
			id, shape := route(in.Request.Method, u.EscapedPath())
			if id == "" {
				if !otherOperations[shape] {
					t.Errorf("%s #%d: %s %s matches no route of the operation table", filepath.Base(file), i, in.Request.Method, u.EscapedPath())
				}
				continue
			}
			seen[id]++
			decode, ok := decoders[id]
			if !ok {
				t.Fatalf("no decoder for %s", id)
			}
			if decode == nil || in.Response.Code/100 != 2 {
				continue
			}
			v, err := decode([]byte(in.Response.Body))
			if err != nil {
				t.Errorf("%s #%d %s: recorded body does not decode: %v", filepath.Base(file), i, id, err)
				continue
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Errorf("%s #%d %s: re-encoding: %v", filepath.Base(file), i, id, err)
				continue
			}
			var want, got any
			if err := json.Unmarshal([]byte(in.Response.Body), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s #%d %s: re-encoding changed the body (-recorded +re-encoded):\n%s", filepath.Base(file), i, id, diff)
			}
		}
	}
	for _, op := range gen.Operations {
		if seen[op.ID] == 0 {
			t.Errorf("no recorded request for %s", op.ID)
		}
	}
}

// TestIdentityUserIDIsStringOrInteger covers identities whose user_id is a
// number, which Auth0 sends for some providers.
func TestIdentityUserIDIsStringOrInteger(t *testing.T) {
	t.Parallel()
	const body = `{"user_id":"auth0|1","email":"","identities":[{"connection":"wordpress","user_id":72894558,"provider":"wordpress","isSocial":true},{"connection":"c","user_id":"abc","provider":"auth0"}],"user_metadata":{"a":{"b":[1,"x",null]}},"custom_field":true}`
	var u gen.GetUserResponseContent
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	ids := *u.Identities
	if n, err := ids[0].UserId.AsUserId1(); err != nil || n != 72894558 {
		t.Errorf("integer user_id = %v, %v", n, err)
	}
	if s, err := ids[1].UserId.AsUserId0(); err != nil || s != "abc" {
		t.Errorf("string user_id = %q, %v", s, err)
	}
	again, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal([]byte(body), &want)
	_ = json.Unmarshal(again, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
