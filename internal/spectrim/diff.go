package spectrim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Diff compares two current-user documents (old, typically the committed
// one, and new, typically freshly trimmed) and returns one readable line per
// change: operations, parameters, request and response schemas, schema
// properties, types, formats, enums, required fields and scopes added (+),
// removed (-) or changed (~). Prose is ignored. No lines means no change.
func Diff(old, new []byte) ([]string, error) {
	a, err := Parse(old)
	if err != nil {
		return nil, err
	}
	b, err := Parse(new)
	if err != nil {
		return nil, err
	}
	d := &differ{}
	d.paths(mapAt(a, "paths"), mapAt(b, "paths"))
	sa, sb := mapAt(mapAt(a, "components"), "schemas"), mapAt(mapAt(b, "components"), "schemas")
	for _, name := range unionKeys(sa, sb) {
		x, inA := sa[name]
		y, inB := sb[name]
		switch {
		case !inA:
			d.add("+ schema %s%s", name, describe(y))
		case !inB:
			d.add("- schema %s", name)
		default:
			d.schema("schema "+name, x, y)
		}
	}
	return d.out, nil
}

type differ struct{ out []string }

func (d *differ) add(format string, args ...any) {
	d.out = append(d.out, fmt.Sprintf(format, args...))
}

var methods = []string{"get", "put", "post", "patch", "delete", "head", "options", "trace"}

func (d *differ) paths(a, b map[string]any) {
	for _, p := range unionKeys(a, b) {
		ia, ib := mapAt(a, p), mapAt(b, p)
		for _, m := range methods {
			oa, inA := ia[m].(map[string]any)
			ob, inB := ib[m].(map[string]any)
			name := strings.ToUpper(m) + " " + p
			switch {
			case !inA && !inB:
			case !inA:
				d.add("+ operation %s (%v)", name, ob["operationId"])
			case !inB:
				d.add("- operation %s (%v)", name, oa["operationId"])
			default:
				d.operation("operation "+name, oa, ob)
			}
		}
	}
}

func (d *differ) operation(where string, a, b map[string]any) {
	if a["operationId"] != b["operationId"] {
		d.add("~ %s: operationId %v → %v", where, a["operationId"], b["operationId"])
	}
	pa, pb := paramsByKey(a), paramsByKey(b)
	for _, k := range unionKeys(pa, pb) {
		x, inA := pa[k]
		y, inB := pb[k]
		switch {
		case !inA:
			d.add("+ %s: parameter %s%s", where, k, describe(mapAt(y, "schema")))
		case !inB:
			d.add("- %s: parameter %s", where, k)
		default:
			if x["required"] != y["required"] {
				d.add("~ %s: parameter %s required %v → %v", where, k, orFalse(x["required"]), orFalse(y["required"]))
			}
			if x[ExtActingUser] != y[ExtActingUser] {
				d.add("~ %s: parameter %s acting user %v → %v", where, k, orFalse(x[ExtActingUser]), orFalse(y[ExtActingUser]))
			}
			d.schema(where+": parameter "+k, x["schema"], y["schema"])
		}
	}
	d.schema(where+": request body", bodySchema(a["requestBody"]), bodySchema(b["requestBody"]))
	ra, rb := mapAt(a, "responses"), mapAt(b, "responses")
	for _, code := range unionKeys(ra, rb) {
		x, inA := ra[code]
		y, inB := rb[code]
		switch {
		case !inA:
			d.add("+ %s: response %s", where, code)
		case !inB:
			d.add("- %s: response %s", where, code)
		default:
			d.schema(where+": response "+code, bodySchema(x), bodySchema(y))
		}
	}
	sa, sb := scopes(a), scopes(b)
	for _, s := range sb {
		if !slices.Contains(sa, s) {
			d.add("+ %s: scope %s", where, s)
		}
	}
	for _, s := range sa {
		if !slices.Contains(sb, s) {
			d.add("- %s: scope %s", where, s)
		}
	}
}

// setKeywords are compared as sets of values.
var setKeywords = map[string]string{"required": "required field", "enum": "enum value", "type": "type"}

// schema reports the differences between two schemas at where.
func (d *differ) schema(where string, x, y any) {
	a, aok := x.(map[string]any)
	b, bok := y.(map[string]any)
	switch {
	case x == nil && y == nil:
		return
	case x == nil:
		d.add("+ %s%s", where, describe(y))
		return
	case y == nil:
		d.add("- %s", where)
		return
	case !aok || !bok:
		if fmt.Sprint(x) != fmt.Sprint(y) {
			d.add("~ %s: %v → %v", where, x, y)
		}
		return
	}
	for _, k := range unionKeys(a, b) {
		va, inA := a[k]
		vb, inB := b[k]
		if label, ok := setKeywords[k]; ok {
			la, lb := asStrings(va), asStrings(vb)
			for _, v := range lb {
				if !slices.Contains(la, v) {
					d.add("+ %s: %s %s", where, label, v)
				}
			}
			for _, v := range la {
				if !slices.Contains(lb, v) {
					d.add("- %s: %s %s", where, label, v)
				}
			}
			continue
		}
		switch k {
		case "properties":
			pa, pb := mapAt(a, k), mapAt(b, k)
			for _, p := range unionKeys(pa, pb) {
				sx, inX := pa[p]
				sy, inY := pb[p]
				switch {
				case !inX:
					d.add("+ %s: property %s%s", where, p, describe(sy))
				case !inY:
					d.add("- %s: property %s", where, p)
				default:
					d.schema(where+"."+p, sx, sy)
				}
			}
			continue
		}
		switch {
		case !inA:
			d.add("+ %s: %s %s", where, k, short(vb))
		case !inB:
			d.add("- %s: %s %s", where, k, short(va))
		default:
			ma, isMapA := va.(map[string]any)
			mb, isMapB := vb.(map[string]any)
			la, isListA := va.([]any)
			lb, isListB := vb.([]any)
			switch {
			case isMapA && isMapB:
				d.schema(where+"."+k, ma, mb)
			case isListA && isListB:
				for i := 0; i < max(len(la), len(lb)); i++ {
					var ea, eb any
					if i < len(la) {
						ea = la[i]
					}
					if i < len(lb) {
						eb = lb[i]
					}
					d.schema(fmt.Sprintf("%s.%s[%d]", where, k, i), ea, eb)
				}
			case short(va) != short(vb):
				d.add("~ %s: %s %s → %s", where, k, short(va), short(vb))
			}
		}
	}
}

// describe summarises a schema's type, format and reference for an added item.
func describe(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	var parts []string
	if r, ok := m["$ref"].(string); ok {
		parts = append(parts, strings.TrimPrefix(r, "#/components/schemas/"))
	}
	if t := asStrings(m["type"]); len(t) > 0 {
		parts = append(parts, strings.Join(t, "|"))
	}
	if f, ok := m["format"].(string); ok {
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func short(v any) string {
	switch v := v.(type) {
	case map[string]any, []any:
		s := fmt.Sprint(v)
		if len(s) > 60 {
			s = s[:60] + "…"
		}
		return s
	}
	return fmt.Sprint(v)
}

func paramsByKey(op map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, raw := range anySlice(op["parameters"]) {
		if p, ok := raw.(map[string]any); ok {
			out[fmt.Sprintf("%v %v", p["in"], p["name"])] = p
		}
	}
	return out
}

func bodySchema(v any) any {
	m, _ := v.(map[string]any)
	s, ok := mapAt(mapAt(m, "content"), "application/json")["schema"]
	if !ok {
		return nil
	}
	return s
}

func scopes(op map[string]any) []string {
	var out []string
	for _, req := range anySlice(op["security"]) {
		m, _ := req.(map[string]any)
		for _, k := range sortedKeys(m) {
			out = append(out, asStrings(m[k])...)
		}
	}
	return out
}

func asStrings(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func orFalse(v any) any {
	if v == nil {
		return false
	}
	return v
}

func mapAt(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for k := range a {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for k := range b {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
