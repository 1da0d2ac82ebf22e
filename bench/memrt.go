package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Op names the seven current-user operations, in the order of issue 7.
type Op string

// The seven operations.
const (
	OpMe           Op = "Me"
	OpEnrollments  Op = "Enrollments"
	OpUpdate       Op = "UpdateMetadata"
	OpLink         Op = "LinkIdentity"
	OpUnlink       Op = "UnlinkIdentity"
	OpCreateDevice Op = "CreateDeviceCredential"
	OpDeleteDevice Op = "DeleteDeviceCredential"
)

// Ops lists the seven operations in report order.
var Ops = []Op{OpMe, OpEnrollments, OpUpdate, OpLink, OpUnlink, OpCreateDevice, OpDeleteDevice}

// answer is a canned response.
type answer struct {
	status int
	text   string // "201 Created"
	body   []byte
}

// sources names, per operation, the recording and the method whose answer
// the in-memory transport replays.
var sources = map[Op]struct{ file, method, suffix string }{
	OpMe:           {"TestUserManager_Read", http.MethodGet, ""},
	OpEnrollments:  {"TestUserManager_Enrollments", http.MethodGet, "/enrollments"},
	OpUpdate:       {"TestUserManager_Update", http.MethodPatch, ""},
	OpLink:         {"TestUserManager_Link", http.MethodPost, "/identities"},
	OpUnlink:       {"TestUserManager_Unlink", http.MethodDelete, "/identities/"},
	OpCreateDevice: {"TestDeviceCredentials_Create", http.MethodPost, "/device-credentials"},
	OpDeleteDevice: {"TestDeviceCredentials_Create", http.MethodDelete, "/device-credentials/"},
}

// Recorded is an http.RoundTripper that answers each of the seven
// operations with the status and body Auth0 sent in the recordings, without
// a network. It reads and closes the request body, as a server would, and
// answers anything else 404. It is safe for concurrent use; the answers are
// shared and never modified.
type Recorded struct {
	answers map[Op]answer
}

// NewRecorded builds a Recorded from LoadRecordings' result.
func NewRecorded(recs map[string][]Interaction) (*Recorded, error) {
	r := &Recorded{answers: make(map[Op]answer, len(sources))}
	for op, src := range sources {
		its, ok := recs[src.file]
		if !ok {
			return nil, fmt.Errorf("bench: recording %s.yaml missing", src.file)
		}
		found := false
		for _, it := range its {
			p := it.URL.EscapedPath()
			if it.Method != src.method || !strings.Contains(p, "/api/v2/") {
				continue
			}
			if !matchSuffix(op, p, src.suffix) {
				continue
			}
			r.answers[op] = answer{status: it.Status, text: statusText(it.Status), body: it.Body}
			found = true
			break
		}
		if !found {
			return nil, fmt.Errorf("bench: %s.yaml has no %s answer for %s", src.file, src.method, op)
		}
	}
	return r, nil
}

// matchSuffix tells whether the recorded path p is the operation's.
func matchSuffix(op Op, p, suffix string) bool {
	rest := strings.TrimPrefix(p, "/api/v2")
	switch op {
	case OpMe, OpUpdate:
		return strings.HasPrefix(rest, "/users/") && strings.Count(rest, "/") == 2
	case OpCreateDevice:
		return rest == suffix
	case OpDeleteDevice:
		return strings.HasPrefix(rest, suffix)
	default:
		return strings.HasPrefix(rest, "/users/") && strings.Contains(rest, suffix)
	}
}

// route maps a request to its operation by method and escaped path.
func route(method, p string) (Op, bool) {
	i := strings.Index(p, "/api/v2/")
	if i < 0 {
		return "", false
	}
	seg := strings.Split(p[i+len("/api/v2/"):], "/")
	switch {
	case len(seg) == 2 && seg[0] == "users" && method == http.MethodGet:
		return OpMe, true
	case len(seg) == 2 && seg[0] == "users" && method == http.MethodPatch:
		return OpUpdate, true
	case len(seg) == 3 && seg[0] == "users" && seg[2] == "enrollments" && method == http.MethodGet:
		return OpEnrollments, true
	case len(seg) == 3 && seg[0] == "users" && seg[2] == "identities" && method == http.MethodPost:
		return OpLink, true
	case len(seg) == 5 && seg[0] == "users" && seg[2] == "identities" && method == http.MethodDelete:
		return OpUnlink, true
	case len(seg) == 1 && seg[0] == "device-credentials" && method == http.MethodPost:
		return OpCreateDevice, true
	case len(seg) == 2 && seg[0] == "device-credentials" && method == http.MethodDelete:
		return OpDeleteDevice, true
	}
	return "", false
}

var notFound = []byte(`{"statusCode":404,"error":"Not Found","message":"Not Found"}`)

// RoundTrip answers req from the recordings.
func (r *Recorded) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	a := answer{status: http.StatusNotFound, text: "404 Not Found", body: notFound}
	if op, ok := route(req.Method, req.URL.EscapedPath()); ok {
		a = r.answers[op]
	}
	h := make(http.Header, 1)
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	return &http.Response{
		Status:        a.text,
		StatusCode:    a.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)),
		Request:       req,
	}, nil
}

func statusText(code int) string { return fmt.Sprint(code, " ", http.StatusText(code)) }

// Answer returns the status and a copy of the body the transport sends for
// op, for tests.
func (r *Recorded) Answer(op Op) (int, []byte) {
	a := r.answers[op]
	return a.status, bytes.Clone(a.body)
}
