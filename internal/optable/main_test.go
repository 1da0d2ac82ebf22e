package main

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/auth0me/auth0me/gen"
)

func readSpec(t *testing.T) []byte {
	t.Helper()
	spec, err := os.ReadFile("../../spec/current-user.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestCommittedTableMatchesSpec(t *testing.T) {
	t.Parallel()
	got, err := generate(readSpec(t), "spec")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../gen/operations.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("gen/operations.gen.go is stale; run make generate. Generated:\n%s", got)
	}
}

// TestScopeChangeChangesTable proves the table follows the spec: changing
// one scope in the document changes the generated table.
func TestScopeChangeChangesTable(t *testing.T) {
	t.Parallel()
	spec := readSpec(t)
	const old, changed = "- delete:current_user_device_credentials", "- delete:current_user_device_credentials_changed"
	if bytes.Count(spec, []byte(old)) == 0 {
		t.Fatalf("spec has no %q", old)
	}
	before, err := generate(spec, "spec")
	if err != nil {
		t.Fatal(err)
	}
	after, err := generate(bytes.ReplaceAll(spec, []byte(old), []byte(changed)), "spec")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before, after) {
		t.Fatal("changing a scope in the spec left the table unchanged")
	}
	if !strings.Contains(string(after), `Scopes: []string{"delete:current_user_device_credentials_changed"}`) {
		t.Fatalf("the changed scope is not in the table:\n%s", after)
	}
}

func TestTableContents(t *testing.T) {
	t.Parallel()
	ops, err := operations(readSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"get_users_by_id":                 "GET /users/{id} id read:current_user",
		"get_enrollments":                 "GET /users/{id}/enrollments id read:current_user",
		"post_identities":                 "POST /users/{id}/identities id update:current_user_identities",
		"delete_user_identity_by_user_id": "DELETE /users/{id}/identities/{provider}/{user_id} id update:current_user_identities",
		"patch_users_by_id":               "PATCH /users/{id} id update:current_user_metadata,create:current_user_metadata",
		"post_device-credentials":         "POST /device-credentials  create:current_user_device_credentials",
		"delete_device-credentials_by_id": "DELETE /device-credentials/{id}  delete:current_user_device_credentials",
	}
	if len(ops) != len(want) {
		t.Fatalf("%d operations, want %d", len(ops), len(want))
	}
	for _, o := range ops {
		got := o.method + " " + o.path + " " + o.userParam + " " + strings.Join(o.scopes, ",")
		if got != want[o.id] {
			t.Errorf("%s: %q, want %q", o.id, got, want[o.id])
		}
	}
}

// TestConstantsNameClientMethods: each constant's name, less "Op", is the
// name of the generated client's method for the operation.
func TestConstantsNameClientMethods(t *testing.T) {
	t.Parallel()
	client := reflect.TypeFor[*gen.Client]()
	for _, op := range gen.Operations {
		name := strings.TrimPrefix(constName(op.ID), "Op")
		if _, ok := client.MethodByName(name); !ok {
			t.Errorf("%s: constant Op%s, but gen.Client has no method %s", op.ID, name, name)
		}
	}
	for id, want := range map[string]string{"get_users_by_id": "OpGetUsersByID", "post_device-credentials": "OpPostDeviceCredentials", "a__b-id_c": "OpABIDC"} {
		if got := constName(id); got != want {
			t.Errorf("constName(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestRefusesAllOfSecurity(t *testing.T) {
	t.Parallel()
	for name, spec := range map[string]string{
		"two scopes in one requirement":  "paths:\n  /a:\n    get:\n      operationId: a\n      security:\n        - s: [x, y]\n",
		"two schemes in one requirement": "paths:\n  /a:\n    get:\n      operationId: a\n      security:\n        - s: [x]\n          t: [y]\n",
		"no scope":                       "paths:\n  /a:\n    get:\n      operationId: a\n",
		"no operationId":                 "paths:\n  /a:\n    get:\n      security:\n        - s: [x]\n",
		"acting user not in path":        "paths:\n  /a:\n    get:\n      operationId: a\n      parameters:\n        - {name: id, in: path, x-auth0me-acting-user: true}\n      security:\n        - s: [x]\n",
	} {
		if _, err := generate([]byte(spec), name); !errors.Is(err, errSpec) {
			t.Errorf("%s: error %v, want errSpec", name, err)
		}
	}
}
