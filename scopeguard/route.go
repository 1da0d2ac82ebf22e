package scopeguard

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/auth0me/auth0me/gen"
)

// maxSegments bounds the number of path segments below the base path that
// the matcher looks at; longer paths match no operation.
const maxSegments = 8

// segment is one segment of a path template: a literal, or a parameter.
type segment struct {
	lit   string // literal text, when param is empty
	param string // parameter name, e.g. "id"
}

// route is one operation of gen.Operations, with its template split once.
type route struct {
	op     gen.Operation
	segs   []segment
	user   int // index in segs of the acting-user parameter, or -1
	params int // number of parameter segments
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
				r.params++
				r.segs = append(r.segs, segment{param: name})
				continue
			}
			if s == "" || url.PathEscape(s) != s || s == "." || s == ".." {
				return nil, fmt.Errorf("scopeguard: operation %s: bad path segment %q", op.ID, s)
			}
			r.segs = append(r.segs, segment{lit: s})
		}
		if len(r.segs) > maxSegments {
			return nil, fmt.Errorf("scopeguard: operation %s: more than %d path segments", op.ID, maxSegments)
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

// pathSegs holds the segments of a request path below the base path. Each
// is escaped (enc) or decoded, depending on which form the request path was
// read in; see requestPath.
type pathSegs struct {
	s   [maxSegments]string
	n   int
	enc bool
}

// requestPath returns the path the request will be sent with, and whether
// it is the escaped form. When the URL has no RawPath the escaped path is
// the default escaping of Path, which never adds or removes a '/', so the
// decoded Path splits into the same segments; reading it avoids an
// allocation per request.
func requestPath(u *url.URL) (string, bool) {
	if u.RawPath == "" {
		return u.Path, false
	}
	if esc := u.EscapedPath(); esc == u.RawPath {
		return esc, true
	}
	return u.Path, false
}

// split fills ps with the '/'-separated segments of rest. It reports false
// when there are more than maxSegments.
func (ps *pathSegs) split(rest string) bool {
	ps.n = 0
	for {
		if ps.n == maxSegments {
			return false
		}
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			ps.s[ps.n] = rest
			ps.n++
			return true
		}
		ps.s[ps.n] = rest[:i]
		ps.n++
		rest = rest[i+1:]
	}
}

// match returns the index of the route that method and ps match, or -1.
func match(routes []route, method string, ps *pathSegs) int {
	for i := range routes {
		r := &routes[i]
		if r.op.Method != method || len(r.segs) != ps.n {
			continue
		}
		ok := true
		for j, sg := range r.segs {
			if sg.param == "" && ps.s[j] != sg.lit {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

// decoded returns the decoded value of a segment, and false when its
// percent-encoding is invalid.
func (ps *pathSegs) decoded(i int) (string, bool) {
	s := ps.s[i]
	if !ps.enc || strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	v, err := url.PathUnescape(s)
	return v, err == nil
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
