// Package spectrim derives auth0me's current-user OpenAPI document from
// Auth0's published Management API document, and reports how two such
// documents differ.
//
// Trimming keeps the seven operations a user-scoped token may call (selected
// by operationId, package gen's constants) and the schemas they reach; it
// replaces upstream prose by the project's own words, drops form-urlencoded
// bodies, header parameters and upstream x- extensions, narrows the request
// bodies to what a user-scoped token may send, and states the scopes the
// OpenAPI way: one security requirement per acceptable scope, any one of
// which suffices. It also shapes the generated Go types (rules.go): one schema
// for one thing (an identity, a user), objects with named properties closed,
// properties Auth0 sends that upstream leaves out added, and the oapi-codegen
// extensions x-go-type (an email as a plain string) and
// x-go-type-skip-optional-pointer (optional query parameters stay pointers).
// The output is deterministic: the same input gives byte-identical YAML.
//
// Diff reports drift between two trimmed documents; Policy reports where the
// committed document and an upstream one disagree on who may call what.
package spectrim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInput reports an upstream document that cannot be trimmed: not JSON or
// YAML, or missing something the current-user document needs.
var ErrInput = errors.New("spectrim: bad upstream document")

// maxInput bounds the upstream document; Auth0's is under 4 MiB.
const maxInput = 64 << 20

type object = map[string]any

// Trim derives the current-user document from an upstream Management API
// document (JSON or YAML) and returns it as YAML.
func Trim(upstream []byte) ([]byte, error) {
	doc, err := Parse(upstream)
	if err != nil {
		return nil, err
	}
	out, err := trimDoc(doc)
	if err != nil {
		return nil, err
	}
	return Marshal(out)
}

// Parse decodes a JSON or YAML OpenAPI document into plain maps, slices and
// scalars. JSON numbers keep their text.
func Parse(data []byte) (map[string]any, error) {
	if len(data) > maxInput {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInput, maxInput)
	}
	var v any
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInput, err)
		}
	} else if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not an object at the top level", ErrInput)
	}
	return doc, nil
}

func trimDoc(doc object) (object, error) {
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		return nil, fmt.Errorf("%w: openapi version %q, want 3.1.x", ErrInput, v)
	}
	paths, _ := doc["paths"].(object)
	if paths == nil {
		return nil, fmt.Errorf("%w: no paths", ErrInput)
	}
	comps, _ := doc["components"].(object)
	schemas, _ := comps["schemas"].(object)
	params, _ := comps["parameters"].(object)
	t := &trimmer{schemas: schemas, params: params, want: map[string]bool{}, bodies: map[string]*bodyRule{}}

	outPaths := object{}
	used := map[string]bool{}
	byID := operationsByID(paths)
	for _, r := range operations {
		up, ok := byID[r.id]
		if !ok {
			return nil, fmt.Errorf("%w: no operation %s (renamed or removed upstream?)", ErrInput, r.id)
		}
		o, err := t.operation(r, up.op, up.item)
		if err != nil {
			return nil, err
		}
		for _, s := range o.scopes {
			used[s] = true
		}
		pi, _ := outPaths[up.path].(object)
		if pi == nil {
			pi = object{}
			outPaths[up.path] = pi
		}
		pi[up.method] = o.op
	}

	outSchemas := object{}
	// Walk the referenced schemas to a fixed point, in sorted order.
	for {
		var next []string
		for name := range t.want {
			if _, done := outSchemas[goName(name)]; !done {
				next = append(next, name)
			}
		}
		if len(next) == 0 {
			break
		}
		sort.Strings(next)
		for _, name := range next {
			s, ok := schemas[name].(object)
			if !ok {
				return nil, fmt.Errorf("%w: schema %q is referenced but not defined", ErrInput, name)
			}
			if b := t.bodies[name]; b != nil {
				s = narrowBody(s, b)
			}
			out := closeObject(addProperties(t.schema(s), extraProperties[name]))
			if d, ok := schemaDescriptions[goName(name)]; ok {
				out["description"] = d
			}
			outSchemas[goName(name)] = out
		}
	}

	scopes := object{}
	for s := range used {
		d := scopeDescriptions[s]
		if d == "" {
			d = "Current-user scope " + s
		}
		scopes[s] = d
	}
	version, _ := infoVersion(doc)
	return object{
		"openapi": "3.1.0",
		"info": object{
			"title":       "Auth0 Management API for the current user",
			"version":     version,
			"description": "The operations of Auth0's Management API that a user-scoped access token (one whose sub is a user and whose scope holds current-user scopes) may call. Derived by auth0me's spectrim from Auth0's published document; do not edit by hand.",
		},
		"servers": []any{object{
			"url":         "https://{tenantDomain}/api/v2",
			"description": "The tenant's Management API.",
			"variables": object{"tenantDomain": object{
				"default":     "TENANT.auth0.com",
				"description": "The tenant's domain, or the custom domain the token was issued for.",
			}},
		}},
		"paths": outPaths,
		"components": object{
			"schemas": outSchemas,
			"securitySchemes": object{securityScheme: object{
				"type":        "oauth2",
				"description": "A user-scoped access token for the audience https://{tenantDomain}/api/v2/, obtained with the authorization code flow with PKCE or the device flow.",
				"flows": object{"authorizationCode": object{
					"authorizationUrl": "/authorize",
					"tokenUrl":         "/oauth/token",
					"scopes":           scopes,
				}},
			}},
		},
	}, nil
}

// upstreamOp is one operation of a document, with where it sits.
type upstreamOp struct {
	method, path string
	op, item     object
}

// operationsByID indexes a document's operations by operationId.
func operationsByID(paths object) map[string]upstreamOp {
	out := map[string]upstreamOp{}
	for path, raw := range paths {
		item, _ := raw.(object)
		for method, rawOp := range item {
			op, _ := rawOp.(object)
			if id, _ := op["operationId"].(string); id != "" {
				out[id] = upstreamOp{method: method, path: path, op: op, item: item}
			}
		}
	}
	return out
}

func infoVersion(doc object) (string, bool) {
	info, _ := doc["info"].(object)
	switch v := info["version"].(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "unknown", false
}

type trimmer struct {
	schemas, params object
	want            map[string]bool      // schema names referenced so far
	bodies          map[string]*bodyRule // request body schemas to narrow
}

type trimmedOp struct {
	op     object
	scopes []string
}

func (t *trimmer) operation(r opRule, op, item object) (trimmedOp, error) {
	id := r.id
	out := object{
		"operationId": id,
		"summary":     r.summary,
		"description": r.description,
	}
	if tags, ok := op["tags"].([]any); ok && len(tags) > 0 {
		out["tags"] = tags
	}

	// Parameters: path and query only, from the path item and the operation.
	var ps []any
	seenParam := map[string]bool{}
	actingFound := r.actingUser == ""
	for _, src := range [][]any{anySlice(op["parameters"]), anySlice(item["parameters"])} {
		for _, raw := range src {
			p, err := t.param(raw)
			if err != nil {
				return trimmedOp{}, fmt.Errorf("%s: %w", id, err)
			}
			in, _ := p["in"].(string)
			name, _ := p["name"].(string)
			if in != "path" && in != "query" {
				continue
			}
			key := in + " " + name
			if seenParam[key] {
				continue
			}
			seenParam[key] = true
			if in == "path" && name == r.actingUser {
				p[ExtActingUser] = true
				actingFound = true
			}
			ps = append(ps, p)
		}
	}
	if !actingFound {
		return trimmedOp{}, fmt.Errorf("%w: %s has no path parameter %q", ErrInput, id, r.actingUser)
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool {
			a, b := ps[i].(object), ps[j].(object)
			ai, bi := a["in"].(string), b["in"].(string)
			if ai != bi {
				return ai == "path"
			}
			return false
		})
		out["parameters"] = ps
	}

	// Request body: application/json only.
	if rb, ok := op["requestBody"].(object); ok {
		content, _ := rb["content"].(object)
		media, _ := content["application/json"].(object)
		if media == nil {
			return trimmedOp{}, fmt.Errorf("%w: %s has no application/json request body", ErrInput, id)
		}
		schema, _ := media["schema"].(object)
		if r.body != nil {
			name := refName(schema)
			if name == "" {
				return trimmedOp{}, fmt.Errorf("%w: %s request body is not a named schema", ErrInput, id)
			}
			t.bodies[name] = r.body
		}
		body := object{
			"required": true,
			"content":  object{"application/json": object{"schema": t.schema(schema)}},
		}
		out["requestBody"] = body
	}

	// Responses: the project's words; JSON content only.
	resps, _ := op["responses"].(object)
	outResps := object{}
	for code, raw := range resps {
		resp, _ := raw.(object)
		d := statusDescriptions[code]
		if d == "" {
			d = "Status " + code + "."
		}
		o := object{"description": d}
		if content, ok := resp["content"].(object); ok {
			if media, ok := content["application/json"].(object); ok {
				s, _ := media["schema"].(object)
				o["content"] = object{"application/json": object{"schema": t.schema(s)}}
			}
		}
		outResps[code] = o
	}
	if len(outResps) == 0 {
		return trimmedOp{}, fmt.Errorf("%w: %s has no responses", ErrInput, id)
	}
	out["responses"] = outResps

	// Security: one requirement per acceptable current-user scope.
	var scopes []string
	for _, req := range anySlice(op["security"]) {
		m, _ := req.(object)
		for _, scheme := range sortedKeys(m) {
			for _, s := range anySlice(m[scheme]) {
				if str, ok := s.(string); ok && isCurrentUserScope(str) && !slices.Contains(scopes, str) {
					scopes = append(scopes, str)
				}
			}
		}
	}
	for _, s := range r.extraScopes {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		return trimmedOp{}, fmt.Errorf("%w: %s allows no current-user scope", ErrInput, id)
	}
	var sec []any
	for _, s := range scopes {
		sec = append(sec, object{securityScheme: []any{s}})
	}
	out["security"] = sec
	return trimmedOp{op: out, scopes: scopes}, nil
}

// param resolves a parameter (or a reference to one) and cleans it.
func (t *trimmer) param(raw any) (object, error) {
	p, _ := raw.(object)
	if name := refName(p); name != "" {
		target, ok := t.params[name].(object)
		if !ok {
			return nil, fmt.Errorf("%w: parameter %q is referenced but not defined", ErrInput, name)
		}
		p = target
	}
	if p == nil {
		return nil, fmt.Errorf("%w: parameter is not an object", ErrInput)
	}
	out := object{}
	for _, k := range []string{"name", "in", "required", "style", "explode"} {
		if v, ok := p[k]; ok {
			out[k] = v
		}
	}
	if s, ok := p["schema"].(object); ok {
		out["schema"] = t.schema(s)
	}
	if _, ok := out["name"].(string); !ok {
		return nil, fmt.Errorf("%w: parameter without a name", ErrInput)
	}
	if out["in"] == "query" && out["required"] != true {
		out[extSkipOptionalPointer] = false
	}
	return out, nil
}

// dropped are schema keywords that carry upstream prose or samples.
var dropped = map[string]bool{
	"description": true, "title": true, "default": true, "example": true,
	"examples": true, "externalDocs": true, "deprecated": false,
}

// schema returns a cleaned deep copy of s and records the schemas it names.
func (t *trimmer) schema(s object) object {
	if s == nil {
		return nil
	}
	out := object{}
	for k, v := range s {
		if dropped[k] || strings.HasPrefix(k, "x-") {
			continue
		}
		switch k {
		case "$ref":
			str, _ := v.(string)
			name, ok := strings.CutPrefix(str, "#/components/schemas/")
			if !ok {
				out[k] = v
				continue
			}
			same, found := sameAs[name]
			if target, _ := t.schemas[name].(object); !found && isFreeForm(target) {
				same, found = object{"type": "object", "additionalProperties": true}, true
			}
			if found {
				for k, v := range t.schema(same) {
					out[k] = v
				}
				continue
			}
			t.want[name] = true
			out[k] = "#/components/schemas/" + goName(name)
		case "properties", "patternProperties", "$defs", "definitions":
			m, _ := v.(object)
			props := object{}
			for name, sub := range m {
				if so, ok := sub.(object); ok {
					props[name] = t.schema(so)
				}
			}
			out[k] = props
		default:
			out[k] = t.value(v)
		}
	}
	// An empty string is a valid email here: Auth0 sends one for users
	// without email, so the generated type must not validate the format.
	if f, _ := out["format"].(string); f == "email" {
		out["x-go-type"] = "string"
	}
	return out
}

// value cleans nested schemas inside keywords such as items, oneOf and
// additionalProperties, and copies everything else.
func (t *trimmer) value(v any) any {
	switch v := v.(type) {
	case object:
		return t.schema(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = t.value(e)
		}
		return out
	default:
		return v
	}
}

// goName is the document's name for the upstream schema name (goNames).
func goName(name string) string {
	if n, ok := goNames[name]; ok {
		return n
	}
	return name
}

// isFreeForm reports whether s is an object schema naming no properties and
// allowing any: metadata.
func isFreeForm(s object) bool {
	props, _ := s["properties"].(object)
	return s != nil && s["type"] == "object" && len(props) == 0 && s["additionalProperties"] == true
}

// addProperties adds extra to s's properties, keeping any upstream has.
func addProperties(s, extra object) object {
	if len(extra) == 0 {
		return s
	}
	props, _ := s["properties"].(object)
	if props == nil {
		props = object{}
		s["properties"] = props
	}
	for k, v := range extra {
		if _, ok := props[k]; !ok {
			props[k] = v
		}
	}
	return s
}

// closeObject sets additionalProperties to false on an object schema that
// names properties (see rules.go).
func closeObject(s object) object {
	if props, _ := s["properties"].(object); len(props) > 0 {
		s["additionalProperties"] = false
	}
	return s
}

// narrowBody keeps only the properties a user-scoped token may send.
func narrowBody(s object, b *bodyRule) object {
	props, _ := s["properties"].(object)
	kept := object{}
	for _, k := range b.keep {
		if p, ok := props[k]; ok {
			kept[k] = p
		}
	}
	out := object{"type": "object", "properties": kept, "additionalProperties": false}
	if len(b.required) > 0 {
		req := make([]any, len(b.required))
		for i, r := range b.required {
			req[i] = r
		}
		out["required"] = req
	}
	return out
}

func refName(s object) string {
	ref, _ := s["$ref"].(string)
	for _, prefix := range []string{"#/components/schemas/", "#/components/parameters/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok {
			return name
		}
	}
	return ""
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func sortedKeys(m object) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
