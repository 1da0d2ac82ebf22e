package bff

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var fuzzPolicy = MetadataPolicy{
	Keys: map[string]MetadataKey{
		"theme":  {Schema: `{"enum": ["light", "dark"]}`},
		"colors": {Schema: `{"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 5}`, MaxSize: 120},
		"prefs":  {Schema: `{"type": "object", "additionalProperties": {"type": ["number", "boolean", "string"]}}`, MaxSize: 200},
		"email":  {Schema: `{"type": "string", "format": "email"}`},
	},
	MaxTotal: 256,
}

var policyCodes = []string{
	"invalid_request", "metadata_key_not_allowed", "metadata_value_invalid",
	"metadata_value_too_large", "metadata_too_large", "metadata_clear_not_allowed",
}

// FuzzMetadataPolicy: for any PATCH body, the policy either refuses it with
// a 400 of one of its codes, or lets through only listed keys whose values
// are within size, satisfy their schema and hold no field name Auth0
// refuses, within the total, and exactly the body's members.
func FuzzMetadataPolicy(f *testing.F) {
	for _, seed := range []string{
		`{"theme": "dark"}`,
		`{"theme": null, "colors": ["red"]}`,
		`{"prefs": {"a": 1, "b": true}}`,
		`{"prefs": {"a.b": 1}}`,
		`{"prefs": {"$x": 1}}`,
		`{"email": "a@example.com"}`,
		`{"email": "not an email"}`,
		`{"role": "admin"}`,
		`{}`,
		`{"theme": "dark", "theme": "light"}`,
		`{"colors": ["aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaa"]}`,
		`[]`, `null`, `"x"`, `{"theme":"dark"}{}`, `{"theme": 1e999}`, `{"theme": "\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	p, err := fuzzPolicy.compile()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := p.check(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !slices.Contains(policyCodes, e.Code) {
				t.Fatalf("refusal %v is not a 400 of the policy's codes", err)
			}
			return
		}
		if len(ch.patch) == 0 {
			t.Fatal("{} let through without AllowClear")
		}
		if total, _ := json.Marshal(ch.patch); len(total) > p.maxTotal {
			t.Fatalf("%d bytes let through, max %d", len(total), p.maxTotal)
		}
		var plain map[string]json.RawMessage
		if err := json.Unmarshal(body, &plain); err != nil {
			t.Fatalf("let through a body encoding/json refuses: %v", err)
		}
		if len(plain) != len(ch.patch) || len(ch.keys) != len(ch.patch) {
			t.Fatalf("body has %d members, patch %d, keys %d", len(plain), len(ch.patch), len(ch.keys))
		}
		for name, v := range ch.patch {
			k, ok := p.keys[name]
			if !ok {
				t.Fatalf("key %q let through", name)
			}
			if v == nil {
				if !bytes.Equal(bytes.TrimSpace(plain[name]), []byte("null")) {
					t.Fatalf("key %q deleted, body says %s", name, plain[name])
				}
				continue
			}
			raw := v.(json.RawMessage)
			if len(raw) > k.maxSize {
				t.Fatalf("value of %q is %d bytes, max %d", name, len(raw), k.maxSize)
			}
			val, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("value of %q: %v", name, err)
			}
			if err := k.schema.Validate(val); err != nil {
				t.Fatalf("value of %q breaks its schema: %v", name, err)
			}
			if badNames(val) {
				t.Fatalf("value of %q has a field name with '.' or '$'", name)
			}
		}
	})
}
