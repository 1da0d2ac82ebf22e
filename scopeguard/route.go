package scopeguard

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/auth0me/auth0me/gen"
)

// segment is one segment of a path template: a literal, or a parameter.
type segment struct {
	lit   string // literal text, when param is empty
	param string // parameter name, e.g. "id"
}

// route is one operation of gen.Operations, with its template split once.
type route struct {
	op   gen.Operation
	segs []segment
	user int // index in segs of the acting-user parameter, or -1
}

// compileRoutes splits the templates of ops. It fails on a template it
// cannot route by, so that a bad table is found at New, not per request.
func compileRoutes(ops []gen.Operation) ([]route, error) {
	routes := make([]route, 0, len(ops))
	for _, op := range ops {
		if op.Method == "" || op.Method != strings.ToUpper(op.Method) {
			return nil, fmt.Errorf("scopeguard: operation %s: method %q is not upper case", op.ID, op.Method)
		}
		rest, ok := strings.CutPrefix(op.Path, "/")
		if !ok {
			return nil, fmt.Errorf("scopeguard: operation %s: path %q does not start with /", op.ID, op.Path)
		}
		r := route{op: op, user: -1}
		for s := range strings.SplitSeq(rest, "/") {
			name, isParam := strings.CutPrefix(s, "{")
			if isParam {
				name, isParam = strings.CutSuffix(name, "}")
				if !isParam || name == "" || strings.ContainsAny(name, "{}") {
					return nil, fmt.Errorf("scopeguard: operation %s: bad path segment %q", op.ID, s)
				}
				if name == op.UserParam {
					r.user = len(r.segs)
				}
				r.segs = append(r.segs, segment{param: name})
				continue
			}
			if s == "" || url.PathEscape(s) != s || s == "." || s == ".." {
				return nil, fmt.Errorf("scopeguard: operation %s: bad path segment %q", op.ID, s)
			}
			r.segs = append(r.segs, segment{lit: s})
		}
		if op.UserParam != "" && r.user < 0 {
			return nil, fmt.Errorf("scopeguard: operation %s: user parameter %q not in path %q", op.ID, op.UserParam, op.Path)
		}
		if len(op.Scopes) == 0 {
			return nil, fmt.Errorf("scopeguard: operation %s: no scopes", op.ID)
		}
		routes = append(routes, r)
	}
	return routes, nil
}

// match returns the route that method and the escaped request path match,
// segment by segment below the base path (literal segments exactly, in
// escaped form), and the path's segments below the base path; nil when
// none does.
func (s *shared) match(method, path string) (*route, []string) {
	rest, ok := strings.CutPrefix(path, s.url.Path)
	if !ok {
		return nil, nil
	}
	segs := strings.Split(rest, "/")
	for i := range s.routes {
		if r := &s.routes[i]; r.op.Method == method && r.matches(segs) {
			return r, segs
		}
	}
	return nil, nil
}

func (r *route) matches(segs []string) bool {
	if len(segs) != len(r.segs) {
		return false
	}
	for i, sg := range r.segs {
		if sg.param == "" && segs[i] != sg.lit {
			return false
		}
	}
	return true
}

// checkParam returns why v may not be sent as a path parameter, or "".
// A value may contain '/' (sent as %2F, as Auth0's own SDK does for the
// user ids that contain one), but none of its '/'- or '\'-separated parts
// may be empty, "." or "..", so that a server or proxy that decodes %2F
// before routing cannot read it as a path traversal.
func checkParam(v string) string {
	switch v {
	case "":
		return "is empty"
	case ".", "..":
		return "is a dot segment"
	}
	if !strings.ContainsAny(v, `/\`) {
		return ""
	}
	start := 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && v[i] != '/' && v[i] != '\\' {
			continue
		}
		switch v[start:i] {
		case "":
			return "would not stay one segment (empty part around a slash)"
		case ".", "..":
			return "would not stay one segment (dot segment around a slash)"
		}
		start = i + 1
	}
	return ""
}
