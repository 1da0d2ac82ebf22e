package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/gen"
)

// TestIdentityTwinsMatchGenerated fails when the generated identity or
// profile types change and the one-pass twins were not changed with them.
func TestIdentityTwinsMatchGenerated(t *testing.T) {
	t.Parallel()
	g, f := reflect.TypeFor[gen.UserIdentity](), reflect.TypeFor[fastIdentity]()
	if g.NumField() != f.NumField() {
		t.Fatalf("gen.UserIdentity has %d fields, fastIdentity %d", g.NumField(), f.NumField())
	}
	for i := range g.NumField() {
		gf, ff := g.Field(i), f.Field(i)
		want := gf.Type
		if gf.Name == "ProfileData" {
			want = reflect.TypeFor[*fastProfile]()
		}
		if gf.Name != ff.Name || gf.Tag != ff.Tag || ff.Type != want {
			t.Errorf("field %d: generated %s %s `%s`, twin %s %s `%s`", i, gf.Name, gf.Type, gf.Tag, ff.Name, ff.Type, ff.Tag)
		}
	}
	// Every key the generated profile names must land in its typed field:
	// a body holding all of them leaves nothing in AdditionalProperties.
	body := map[string]any{}
	p := reflect.TypeFor[gen.UserProfileData]()
	for i := range p.NumField() {
		fld := p.Field(i)
		name, _, _ := strings.Cut(fld.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case fld.Type == reflect.TypeFor[*string]():
			body[name] = "v"
		case fld.Type == reflect.TypeFor[*bool]():
			body[name] = true
		default:
			t.Errorf("gen.UserProfileData.%s is a %s: teach fastProfile about it", fld.Name, fld.Type)
		}
	}
	raw, _ := json.Marshal(body)
	var fast fastProfile
	if err := json.Unmarshal(raw, &fast); err != nil {
		t.Fatal(err)
	}
	var want gen.UserProfileData
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, gen.UserProfileData(fast)); diff != "" || len(fast.AdditionalProperties) != 0 {
		t.Errorf("a body of every named key (-generated +one-pass):\n%s", diff)
	}
}

// TestIdentitiesDecodeLikeGenerated decodes bodies both ways; the one-pass
// path must give what the generated types give, and round-trip.
func TestIdentitiesDecodeLikeGenerated(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`[{"profileData":{"email":"a@b.c","email_verified":true,"given_name":"A","family_name":"B","name":"A B","username":"ab","phone_number":"+1","phone_verified":false},"connection":"c","user_id":"1","provider":"google-oauth2","isSocial":true}]`,
		`[{"profileData":{"email":"a@b.c","locale":"fr","picture":"https://x","nickname":"n","nested":{"a":[1,null]}},"connection":"c","user_id":72894558,"provider":"wordpress"}]`,
		`[{"profileData":{"email":null,"name":"x"},"connection":"c","user_id":"1","provider":"auth0"},{"connection":"d","user_id":"2","provider":"auth0","access_token":"t"}]`,
		`[{"profileData":{},"connection":"c","user_id":"1","provider":"auth0"}]`,
		`[{"profileData":null,"connection":"c","user_id":"1","provider":"auth0","unknown":1}]`,
		`[]`,
	}
	for _, body := range bodies {
		got, err := decodeIdentities("op", exchange{resp: &http.Response{StatusCode: 200}, body: []byte(body)})
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var want []Identity
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(want)
		gotJSON, _ := json.Marshal(got)
		var a, b any
		_ = json.Unmarshal(wantJSON, &a)
		_ = json.Unmarshal(gotJSON, &b)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s (-generated +one-pass):\n%s", body, diff)
		}
		if len(got) > 0 && got[0].ProfileData != nil && want[0].ProfileData != nil {
			if diff := cmp.Diff(*want[0].ProfileData, *got[0].ProfileData); diff != "" {
				t.Errorf("%s profileData (-generated +one-pass):\n%s", body, diff)
			}
		}
	}
	for _, bad := range []string{`[{"profileData":{"email":5}}]`, `[{"profileData":{"email_verified":"yes"}}]`, `{`, `[{"profileData":[1]}]`} {
		if _, err := decodeIdentities("op", exchange{resp: &http.Response{StatusCode: 200}, body: []byte(bad)}); err == nil {
			t.Errorf("%s decoded", bad)
		}
		var want []Identity
		if json.Unmarshal([]byte(bad), &want) == nil {
			t.Errorf("%s: the generated types accept it, the one-pass path does not", bad)
		}
	}
}
