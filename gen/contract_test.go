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
	gen.OpGetUsersByID:                decodeInto[gen.User],
	gen.OpPatchUsersByID:              decodeInto[gen.User],
	gen.OpGetEnrollments:              decodeInto[[]gen.Enrollment],
	gen.OpPostIdentities:              decodeInto[[]gen.Identity],
	gen.OpDeleteUserIdentityByUserID:  decodeInto[[]gen.Identity],
	gen.OpPostDeviceCredentials:       decodeInto[gen.CreatePublicKeyDeviceCredentialResponseContent],
	gen.OpDeleteDeviceCredentialsByID: nil, // 204, no body
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

// dropZeros removes the object members whose value is false, "" or 0 at any
// depth but inside free-form metadata: the generated types leave a zero
// field out when encoding (Auth0 does not tell it from an absent one), so a
// recorded "isSocial":false is not lost when it does not come back.
func dropZeros(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			switch {
			case k == "user_metadata" || k == "app_metadata":
				out[k] = x
			case x == false || x == "" || x == float64(0):
			default:
				out[k] = dropZeros(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = dropZeros(x)
		}
		return out
	}
	return v
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
			if diff := cmp.Diff(dropZeros(want), got); diff != "" {
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
// number, which Auth0 sends for some providers: it reads as the number's
// digits, and a decoded user encodes and decodes again to the same value.
func TestIdentityUserIDIsStringOrInteger(t *testing.T) {
	t.Parallel()
	const body = `{"user_id":"auth0|1","email":"","identities":[{"connection":"wordpress","user_id":72894558,"provider":"wordpress","isSocial":true},{"connection":"c","user_id":"abc","provider":"auth0"},{"connection":"facebook","user_id":10153426867766443,"provider":"facebook"}],"user_metadata":{"a":{"b":[1,"x",null]}},"custom_field":true}`
	var u gen.User
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range u.Identities {
		got = append(got, string(id.UserID))
	}
	if diff := cmp.Diff([]string{"72894558", "abc", "10153426867766443"}, got); diff != "" {
		t.Errorf("user ids (-want +got):\n%s", diff)
	}
	again, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var u2 gen.User
	if err := json.Unmarshal(again, &u2); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(u, u2); diff != "" {
		t.Errorf("round trip (-first +second):\n%s", diff)
	}
}

// TestUserIDRefusesOtherJSON: a user id that is neither a string nor a
// number is an error, never a guess.
func TestUserIDRefusesOtherJSON(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`true`, `{}`, `[]`, `"x`, `1x`, `-`} {
		var id gen.UserID
		if err := json.Unmarshal([]byte(bad), &id); err == nil {
			t.Errorf("%s decoded as %q", bad, id)
		}
	}
	id := gen.UserID("kept")
	if err := json.Unmarshal([]byte(`null`), &id); err != nil || id != "kept" {
		t.Errorf("null: %q, %v; want the value unchanged", id, err)
	}
}

// FuzzUserID: any input decodes to an error or to a UserID that encodes and
// decodes again to itself.
func FuzzUserID(f *testing.F) {
	for _, s := range []string{`"abc"`, `72894558`, `10153426867766443`, `-1`, `1.5e3`, `null`, `""`, `"\u00e9"`, `true`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var id gen.UserID
		if json.Unmarshal(b, &id) != nil {
			return
		}
		again, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		var id2 gen.UserID
		if err := json.Unmarshal(again, &id2); err != nil || id2 != id {
			t.Fatalf("%q: %q then %q, %v", b, id, id2, err)
		}
	})
}

// TestParamsGettersAreNilSafe: the getters of the only pointer fields read
// the value, or the zero value when unset or on a nil params.
func TestParamsGettersAreNilSafe(t *testing.T) {
	t.Parallel()
	var nilParams *gen.GetUsersByIDParams
	if nilParams.GetFields() != "" || nilParams.GetIncludeFields() {
		t.Error("nil params")
	}
	fields, include := "email", true
	p := &gen.GetUsersByIDParams{Fields: &fields, IncludeFields: &include}
	if p.GetFields() != "email" || !p.GetIncludeFields() {
		t.Errorf("set params read %q %v", p.GetFields(), p.GetIncludeFields())
	}
}
