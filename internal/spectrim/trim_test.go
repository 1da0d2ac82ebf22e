package spectrim

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	juneUpstream  = "../../../shared/auth0/management-api-oas.2026-06-25.json"
	marchUpstream = "../../../shared/auth0/management-api-oas.2026-03-20.json"
	committed     = "../../spec/current-user.yaml"
)

// readShared reads a file from ../shared, skipping the test when the
// checkout has no shared folder beside it (CI always has one).
func readShared(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("needs %s (the shared folder beside the checkout)", filepath.Clean(path))
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trimmedJune(t *testing.T) []byte {
	t.Helper()
	out, err := Trim(readShared(t, juneUpstream))
	if err != nil {
		t.Fatalf("Trim(June upstream): %v", err)
	}
	return out
}

func TestTrimReproducesCommittedDocument(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	got := trimmedJune(t)
	if !bytes.Equal(got, want) {
		lines, _ := Diff(want, got)
		t.Fatalf("trimming the June upstream does not reproduce spec/current-user.yaml; run make spec. Changes:\n%s", strings.Join(lines, "\n"))
	}
	again, err := Trim(readShared(t, juneUpstream))
	if err != nil || !bytes.Equal(got, again) {
		t.Fatalf("Trim is not deterministic (err %v)", err)
	}
}

func TestTrimmedDocumentFollowsCurrentUserRules(t *testing.T) {
	t.Parallel()
	doc, err := Parse(trimmedJune(t))
	if err != nil {
		t.Fatal(err)
	}
	wantScopes := map[string][]string{
		"GET /users/{id}":                                    {"read:current_user"},
		"GET /users/{id}/enrollments":                        {"read:current_user"},
		"POST /users/{id}/identities":                        {"update:current_user_identities"},
		"DELETE /users/{id}/identities/{provider}/{user_id}": {"update:current_user_identities"},
		"PATCH /users/{id}":                                  {"update:current_user_metadata", "create:current_user_metadata"},
		"POST /device-credentials":                           {"create:current_user_device_credentials"},
		"DELETE /device-credentials/{id}":                    {"delete:current_user_device_credentials"},
	}
	got := map[string][]string{}
	for path, item := range mapAt(doc, "paths") {
		for method, raw := range item.(map[string]any) {
			op := raw.(map[string]any)
			key := strings.ToUpper(method) + " " + path
			for _, req := range anySlice(op["security"]) {
				m := req.(map[string]any)
				if len(m) != 1 || len(anySlice(m[securityScheme])) != 1 {
					t.Errorf("%s: security requirement %v is not one scheme with one scope", key, m)
				}
				got[key] = append(got[key], asStrings(m[securityScheme])...)
			}
			for _, p := range anySlice(op["parameters"]) {
				if in := p.(map[string]any)["in"]; in != "path" && in != "query" {
					t.Errorf("%s: parameter in %v survived", key, in)
				}
			}
			if rb, ok := op["requestBody"].(map[string]any); ok {
				if n := len(mapAt(rb, "content")); n != 1 || mapAt(rb, "content")["application/json"] == nil {
					t.Errorf("%s: request body content types %v, want application/json only", key, mapAt(rb, "content"))
				}
			}
		}
	}
	if len(got) != 7 {
		t.Errorf("document has %d operations, want 7", len(got))
	}
	for k, want := range wantScopes {
		if !slices.Equal(got[k], want) {
			t.Errorf("%s: scopes %v, want %v", k, got[k], want)
		}
	}
	schemas := mapAt(mapAt(doc, "components"), "schemas")
	for name, keep := range map[string][]string{
		"UpdateUserRequestContent":       {"user_metadata"},
		"LinkUserIdentityRequestContent": {"link_with"},
	} {
		s := mapAt(schemas, name)
		if props := sortedKeys(mapAt(s, "properties")); !slices.Equal(props, keep) || s["additionalProperties"] != false {
			t.Errorf("%s: properties %v additionalProperties %v, want only %v and closed", name, props, s["additionalProperties"], keep)
		}
	}
	// One schema for one thing; every object with named properties closed,
	// free-form ones open; profileData names what Auth0 sends.
	for _, gone := range []string{"UserIdentitySchema", "DeleteUserIdentityResponseContent", "UpdateUserResponseContent"} {
		if _, ok := schemas[gone]; ok {
			t.Errorf("schema %s kept; it is the same as another", gone)
		}
	}
	for name, raw := range schemas {
		s := raw.(map[string]any)
		named := len(mapAt(s, "properties")) > 0
		if named && s["additionalProperties"] != false || !named && s["type"] == "object" && s["additionalProperties"] == false {
			t.Errorf("%s: named properties %v, additionalProperties %v", name, named, s["additionalProperties"])
		}
	}
	if props := mapAt(mapAt(schemas, "ProfileData"), "properties"); props["nickname"] == nil || props["picture"] == nil {
		t.Errorf("ProfileData lacks nickname or picture: %v", sortedKeys(props))
	}
	for _, p := range anySlice(mapAt(mapAt(mapAt(doc, "paths"), "/users/{id}"), "get")["parameters"]) {
		p := p.(map[string]any)
		if want := p["in"] == "query"; (p[extSkipOptionalPointer] == false) != want {
			t.Errorf("parameter %v: %s = %v", p["name"], extSkipOptionalPointer, p[extSkipOptionalPointer])
		}
	}
	// No upstream prose or extensions: walk everything.
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if strings.HasPrefix(k, "x-") && k != ExtActingUser && k != "x-go-type" && k != extSkipOptionalPointer {
					t.Errorf("%s: extension %s survived", path, k)
				}
				if k == "auth0-custom-domain" || k == "application/x-www-form-urlencoded" || k == "x-codeSamples" {
					t.Errorf("%s: %s survived", path, k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path, e)
			}
		case string:
			if strings.Contains(v, "<a href") || strings.Contains(v, "auth0-custom-domain") {
				t.Errorf("%s: upstream prose %q survived", path, v)
			}
		}
	}
	walk("", doc)
}

func TestDiff(t *testing.T) {
	t.Parallel()
	june := trimmedJune(t)
	if lines, err := Diff(june, june); err != nil || len(lines) != 0 {
		t.Fatalf("Diff of a document with itself = %v, %v; want no change", lines, err)
	}
	march, err := Trim(readShared(t, marchUpstream))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := Diff(june, march)
	if err != nil {
		t.Fatal(err)
	}
	report := strings.Join(lines, "\n")
	for _, want := range []string{
		"- schema User: property last_password_reset",
		"- schema User: property multifactor_last_modified",
		"+ schema UserIdentityProviderEnum: enum value aol",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("diff June→March lacks %q; report:\n%s", want, report)
		}
	}
}

func TestDiffNamesEveryKindOfChange(t *testing.T) {
	t.Parallel()
	old := []byte(`paths:
  /a/{id}:
    get:
      operationId: a
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      security:
        - currentUser: [read:current_user]
components:
  schemas:
    S:
      type: object
      required: [x]
      properties:
        x: {type: string, format: date-time}
        e: {type: string, enum: [a, b]}
`)
	new := []byte(`paths:
  /a/{id}:
    get:
      operationId: a
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: q, in: query, schema: {type: integer}}
      security:
        - currentUser: [read:users]
  /b:
    post:
      operationId: b
components:
  schemas:
    S:
      type: object
      required: [y]
      properties:
        x: {type: integer}
        y: {type: string}
        e: {type: string, enum: [a, c]}
`)
	lines, err := Diff(old, new)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"+ operation GET /a/{id}: parameter query q (integer)",
		"+ operation GET /a/{id}: scope read:users",
		"- operation GET /a/{id}: scope read:current_user",
		"+ operation POST /b (b)",
		"+ schema S: required field y",
		"- schema S: required field x",
		"+ schema S.e: enum value c",
		"- schema S.e: enum value b",
		"+ schema S.x: type integer",
		"- schema S.x: type string",
		"- schema S.x: format date-time",
		"+ schema S: property y (string)",
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("missing %q in:\n%s", w, strings.Join(lines, "\n"))
		}
	}
}

func TestTrimRefusesBadInput(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"not a document": "][",
		"scalar":         "42",
		"openapi 3.0":    `{"openapi":"3.0.3","paths":{}}`,
		"no paths":       `{"openapi":"3.1.0"}`,
		"missing ops":    `{"openapi":"3.1.0","paths":{"/users/{id}":{}}}`,
	} {
		if _, err := Trim([]byte(in)); !errors.Is(err, ErrInput) {
			t.Errorf("%s: Trim error %v, want ErrInput", name, err)
		}
	}
}

func FuzzTrim(f *testing.F) {
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/users/{id}":{"get":{"operationId":"x","parameters":[{"$ref":"#/components/parameters/p"}]}}}}`))
	f.Add([]byte("openapi: 3.1.0\npaths:\n  /device-credentials:\n    post: {operationId: p, requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/S'}}}}}\n"))
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/users/{id}":{"get":{"operationId":"g","responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/U"}}}}},"security":[{"o":["read:current_user"]}]}}},"components":{"schemas":{"U":{"properties":{"a":{"$ref":"#/components/schemas/U"}}}}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Trim(in)
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error %v does not wrap ErrInput", err)
			}
			return
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("Trim produced a document it cannot read: %v", err)
		}
	})
}
