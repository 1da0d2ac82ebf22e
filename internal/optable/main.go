// Command optable generates gen/operations.gen.go, the table of operations
// the guard routes by, from the current-user OpenAPI document.
//
// It declares one constant per operationId, named Op followed by the name of
// the generated client's method for the operation (OpGetUsersByID for
// get_users_by_id), so that no other package types an operation id. For each
// operation the table records the operationId, method, path template, the
// path parameter marked x-auth0me-acting-user, and the any-of scope set: the
// document states "any of these scopes" the OpenAPI way, as one security
// requirement per scope, so a requirement that lists two scopes (which would
// mean "all of them") is refused rather than misread.
//
// Usage:
//
//	optable -o operations.gen.go ../spec/current-user.yaml
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/auth0me/auth0me/internal/spectrim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("optable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the table to `file` (default: standard output)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: optable [-o file] SPEC")
		return 2
	}
	spec, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "optable:", err)
		return 1
	}
	src, err := generate(spec, fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *out == "" {
		_, err = stdout.Write(src)
	} else {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "optable:", err)
		return 1
	}
	return 0
}

var errSpec = errors.New("optable: bad spec")

type operation struct {
	id, method, path, userParam string
	scopes                      []string
}

var methodOrder = map[string]int{"get": 1, "put": 2, "post": 3, "patch": 4, "delete": 5}

// operations reads the table out of an OpenAPI document.
func operations(spec []byte) ([]operation, error) {
	doc, err := spectrim.Parse(spec)
	if err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	var ops []operation
	for path, raw := range paths {
		item, _ := raw.(map[string]any)
		for method, rawOp := range item {
			if methodOrder[method] == 0 {
				continue
			}
			op, _ := rawOp.(map[string]any)
			o := operation{method: strings.ToUpper(method), path: path}
			o.id, _ = op["operationId"].(string)
			if o.id == "" {
				return nil, fmt.Errorf("%w: %s %s has no operationId", errSpec, o.method, path)
			}
			for _, rp := range asList(op["parameters"]) {
				p, _ := rp.(map[string]any)
				if p["in"] == "path" && p[spectrim.ExtActingUser] == true {
					if o.userParam != "" {
						return nil, fmt.Errorf("%w: %s marks two acting-user parameters", errSpec, o.id)
					}
					o.userParam, _ = p["name"].(string)
					if !strings.Contains(path, "{"+o.userParam+"}") {
						return nil, fmt.Errorf("%w: %s: acting-user parameter %q is not in the path", errSpec, o.id, o.userParam)
					}
				}
			}
			for _, rr := range asList(op["security"]) {
				req, _ := rr.(map[string]any)
				if len(req) != 1 {
					return nil, fmt.Errorf("%w: %s: a security requirement must name one scheme and one scope (any-of is one requirement per scope)", errSpec, o.id)
				}
				for _, v := range req {
					scopes := asList(v)
					if len(scopes) != 1 {
						return nil, fmt.Errorf("%w: %s: a security requirement lists %d scopes; all-of is not supported", errSpec, o.id, len(scopes))
					}
					s, _ := scopes[0].(string)
					if s == "" {
						return nil, fmt.Errorf("%w: %s: empty scope", errSpec, o.id)
					}
					o.scopes = append(o.scopes, s)
				}
			}
			if len(o.scopes) == 0 {
				return nil, fmt.Errorf("%w: %s allows no scope", errSpec, o.id)
			}
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: no operations", errSpec)
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return methodOrder[strings.ToLower(ops[i].method)] < methodOrder[strings.ToLower(ops[j].method)]
	})
	return ops, nil
}

// constName is "Op" and the operationId in Go's camel case, as oapi-codegen's
// ToCamelCaseWithInitialisms names the client's method (gen/oapi-codegen.yaml):
// words split at every character other than a letter or digit, "id" written
// ID. The generator's other initialisms do not occur in these ids;
// TestConstantsNameClientMethods checks every name against gen.Client.
func constName(id string) string {
	var b strings.Builder
	b.WriteString("Op")
	for _, w := range strings.FieldsFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		if strings.EqualFold(w, "id") {
			b.WriteString("ID")
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

const header = `// Code generated by github.com/auth0me/auth0me/internal/optable from spec/current-user.yaml; DO NOT EDIT.

package gen

// Operation describes one operation of spec/current-user.yaml, as the guard
// needs it to route a request and decide whether a token may make it.
type Operation struct {
	// ID is the operationId Auth0 gives the operation.
	ID string
	// Method is the HTTP method, in upper case.
	Method string
	// Path is the path template below the API base, such as "/users/{id}".
	Path string
	// UserParam names the path parameter that holds the acting user's id,
	// or is empty when the operation has none.
	UserParam string
	// Scopes lists the scopes of which any one allows the operation.
	Scopes []string
}

`

// generate renders the table as gofmt-ed Go source.
func generate(spec []byte, name string) ([]byte, error) {
	ops, err := operations(spec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("\n// Operation ids, each named after the generated client's method.\nconst (\n")
	for _, o := range ops {
		fmt.Fprintf(&b, "\t%s = %q\n", constName(o.id), o.id)
	}
	b.WriteString(")\n\n// Operations lists every operation of the document, sorted by path then method.\nvar Operations = []Operation{\n")
	for _, o := range ops {
		quoted := make([]string, len(o.scopes))
		for i, s := range o.scopes {
			quoted[i] = strconv.Quote(s)
		}
		fmt.Fprintf(&b, "\t{ID: %s, Method: %q, Path: %q, UserParam: %q, Scopes: []string{%s}},\n",
			constName(o.id), o.method, o.path, o.userParam, strings.Join(quoted, ", "))
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("optable: formatting %s: %w", name, err)
	}
	return src, nil
}
