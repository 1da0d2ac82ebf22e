package bff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/auth0me/auth0me/api"
)

// Defaults of a MetadataPolicy.
const (
	DefaultMaxValueSize = 1 << 10
	DefaultMaxTotal     = 4 << 10
)

// DefaultProfileFields are the profile fields answered when
// MetadataPolicy.Profile is nil. identities are always reduced to provider,
// user_id and connection, and user_metadata to the policy's keys.
var DefaultProfileFields = []string{"user_id", "email", "email_verified", "name", "nickname", "picture", "identities", "user_metadata"}

// identityFields are the fields of an identity answered.
var identityFields = []string{"provider", "user_id", "connection"}

// MetadataPolicy says which user_metadata keys a user may write and read
// through the Handler, and which profile fields they see.
type MetadataPolicy struct {
	// Keys are the user_metadata keys a user may write, and the only ones
	// they read back. A key may not be empty or contain '.' or '$'.
	Keys map[string]MetadataKey
	// MaxTotal bounds the encoded size of one PATCH's changes, in bytes of
	// compact JSON (default DefaultMaxTotal).
	MaxTotal int
	// AllowClear lets the body {} through, which deletes every key of the
	// user's user_metadata, including keys the policy does not list.
	AllowClear bool
	// Profile lists the root profile fields answered (default
	// DefaultProfileFields). app_metadata is answered only when listed.
	Profile []string
}

// MetadataKey is the rule for one user_metadata key's value.
type MetadataKey struct {
	// Schema is a JSON Schema (JSON text, draft 2020-12 unless it says
	// otherwise) the value must satisfy; formats are asserted. It must be
	// self-contained: references to other documents are not loaded.
	Schema string
	// MaxSize bounds the value's encoded size, in bytes of compact JSON
	// (default DefaultMaxValueSize).
	MaxSize int
}

// policy is a MetadataPolicy ready to use.
type policy struct {
	keys       map[string]metadataKey
	maxTotal   int
	allowClear bool
	fields     []string
}

type metadataKey struct {
	schema  *jsonschema.Schema
	maxSize int
}

func (p MetadataPolicy) compile() (*policy, error) {
	out := &policy{keys: map[string]metadataKey{}, maxTotal: p.MaxTotal, allowClear: p.AllowClear, fields: slices.Clone(p.Profile)}
	if out.maxTotal == 0 {
		out.maxTotal = DefaultMaxTotal
	}
	if out.fields == nil {
		out.fields = slices.Clone(DefaultProfileFields)
	}
	if out.maxTotal < 0 || slices.Contains(out.fields, "") {
		return nil, fmt.Errorf("%w: metadata policy: negative MaxTotal or empty profile field", ErrOption)
	}
	for name, k := range p.Keys {
		if name == "" || strings.ContainsAny(name, ".$") {
			return nil, fmt.Errorf("%w: metadata policy: key %q is empty or contains '.' or '$'", ErrOption, name)
		}
		if k.MaxSize < 0 {
			return nil, fmt.Errorf("%w: metadata policy: key %q: negative MaxSize", ErrOption, name)
		}
		if k.MaxSize == 0 {
			k.MaxSize = DefaultMaxValueSize
		}
		sch, err := compileSchema(name, k.Schema)
		if err != nil {
			return nil, fmt.Errorf("%w: metadata policy: key %q: %v", ErrOption, name, err)
		}
		out.keys[name] = metadataKey{schema: sch, maxSize: k.MaxSize}
	}
	return out, nil
}

func compileSchema(name, text string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // load nothing from files or the network
	c.AssertFormat()
	loc := "https://bff.invalid/user_metadata/" + url.PathEscape(name) + ".json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// change is a PATCH the policy let through.
type change struct {
	patch   map[string]any // json.RawMessage values; nil deletes
	keys    []string       // every key, in the body's order
	deleted []string       // keys set to null
}

// auditAttrs describes the change for the audit log.
func (ch *change) auditAttrs(values bool) []slog.Attr {
	attrs := []slog.Attr{slog.Any("keys", ch.keys), slog.Any("deleted", ch.deleted)}
	if len(ch.patch) == 0 {
		attrs = append(attrs, slog.Bool("cleared", true))
	}
	if values {
		b, _ := json.Marshal(ch.patch)
		attrs = append(attrs, slog.String("values", string(b)))
	}
	return attrs
}

func refuse(code, key, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Key: key, Message: fmt.Sprintf(format, args...)}
}

// check reads a PATCH body, a JSON object of user_metadata changes, and
// returns the change, or the *Error refusing it.
func (p *policy) check(body []byte) (*change, error) {
	ch := &change{patch: map[string]any{}}
	err := eachMember(body, func(name string, raw json.RawMessage) error {
		if _, dup := ch.patch[name]; dup {
			return refuse("invalid_request", name, "key %q is given twice", name)
		}
		k, ok := p.keys[name]
		if !ok {
			return refuse("metadata_key_not_allowed", name, "user_metadata key %q is not one the application allows", name)
		}
		ch.keys = append(ch.keys, name)
		if string(raw) == "null" {
			ch.patch[name] = nil
			ch.deleted = append(ch.deleted, name)
			return nil
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return invalidRequest("the body is not valid JSON")
		}
		if compact.Len() > k.maxSize {
			return refuse("metadata_value_too_large", name, "the value of %q is %d bytes; at most %d are allowed", name, compact.Len(), k.maxSize)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(compact.Bytes()))
		if err != nil {
			return invalidRequest("the body is not valid JSON")
		}
		if badNames(v) {
			return refuse("metadata_value_invalid", name, "the value of %q has a field name with '.' or '$', which Auth0 refuses", name)
		}
		if err := k.schema.Validate(v); err != nil {
			return refuse("metadata_value_invalid", name, "the value of %q is refused: %s", name, schemaReason(err))
		}
		ch.patch[name] = json.RawMessage(compact.Bytes())
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ch.patch) == 0 && !p.allowClear {
		return nil, refuse("metadata_clear_not_allowed", "", "an empty object would delete all user_metadata; the application does not allow it")
	}
	if total, _ := json.Marshal(ch.patch); len(total) > p.maxTotal {
		return nil, refuse("metadata_too_large", "", "the change is %d bytes; at most %d are allowed", len(total), p.maxTotal)
	}
	return ch, nil
}

// eachMember calls f with each member of the JSON object body, in order,
// and stops at f's first error.
func eachMember(body []byte, f func(name string, raw json.RawMessage) error) error {
	notObject := invalidRequest("the body must be one JSON object of user_metadata keys")
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return notObject
	}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return notObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return notObject
		}
		if err := f(name, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return notObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidRequest("the body has data after its JSON object")
	}
	return nil
}

// badNames reports whether v holds an object field name with '.' or '$'
// at any depth.
func badNames(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.ContainsAny(k, ".$") || badNames(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if badNames(x) {
				return true
			}
		}
	}
	return false
}

// schemaReason is the validation error's detail, one line, bounded.
func schemaReason(err error) string {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) > 1 {
		lines = lines[1:] // the first names the schema's URL
	}
	for i, l := range lines {
		lines[i] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "- "))
	}
	s := strings.Join(lines, "; ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// flags are the profile's true/false fields, answered even when false.
var flags = map[string]func(*api.User) bool{
	"email_verified": func(u *api.User) bool { return u.EmailVerified },
	"phone_verified": func(u *api.User) bool { return u.PhoneVerified },
	"blocked":        func(u *api.User) bool { return u.Blocked },
}

// profile is u reduced to the policy's fields.
func (p *policy) profile(u *api.User) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := remarshal(u, &obj); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(p.fields))
	for _, f := range p.fields {
		raw, ok := obj[f]
		switch {
		case f == "user_metadata":
			var md map[string]json.RawMessage
			if ok {
				if err := json.Unmarshal(raw, &md); err != nil {
					return nil, err
				}
			}
			kept := map[string]json.RawMessage{}
			for k, v := range md {
				if _, allowed := p.keys[k]; allowed {
					kept[k] = v
				}
			}
			b, err := json.Marshal(kept)
			if err != nil {
				return nil, err
			}
			out[f] = b
		case !ok:
			// A false flag is a zero value the profile type does not encode.
			if flag, isFlag := flags[f]; isFlag {
				out[f] = json.RawMessage(strconv.FormatBool(flag(u)))
			}
		case f == "identities":
			ids, err := pickRaw(raw, identityFields)
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(ids)
			if err != nil {
				return nil, err
			}
			out[f] = b
		default:
			out[f] = raw
		}
	}
	return out, nil
}

// pickEach is items as JSON objects holding only fields.
func pickEach[T any](items []T, fields []string) ([]map[string]json.RawMessage, error) {
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	return pickRaw(b, fields)
}

// pickRaw is the JSON array of objects raw, each holding only fields.
func pickRaw(raw json.RawMessage, fields []string) ([]map[string]json.RawMessage, error) {
	var objs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &objs); err != nil {
		return nil, err
	}
	out := make([]map[string]json.RawMessage, len(objs))
	for i, o := range objs {
		out[i] = map[string]json.RawMessage{}
		for _, f := range fields {
			if v, ok := o[f]; ok {
				out[i][f] = v
			}
		}
	}
	return out, nil
}

// remarshal decodes v's JSON encoding into out.
func remarshal(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
