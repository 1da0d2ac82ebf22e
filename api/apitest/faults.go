package apitest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/auth0me/auth0me/gen"
)

// Operation ids of the seven Management API operations, as Auth0's OpenAPI
// document names them (the values of package gen's constants, generated from
// the spec). They key fault injection.
const (
	OpGetUser                = gen.OpGetUsersByID
	OpGetEnrollments         = gen.OpGetEnrollments
	OpLinkIdentity           = gen.OpPostIdentities
	OpUnlinkIdentity         = gen.OpDeleteUserIdentityByUserID
	OpPatchUser              = gen.OpPatchUsersByID
	OpCreateDeviceCredential = gen.OpPostDeviceCredentials
	OpDeleteDeviceCredential = gen.OpDeleteDeviceCredentialsByID
)

// DropMode says when a fault closes the connection without an answer.
type DropMode int

const (
	// NoDrop answers normally.
	NoDrop DropMode = iota
	// DropBeforeAct closes the connection without acting or answering.
	DropBeforeAct
	// DropAfterAct performs the operation, then closes the connection
	// without answering.
	DropAfterAct
)

// Fault is an injected failure of one operation. The fields combine in
// this order: Delay, then Drop, Status or Oversize (the first set wins),
// else the operation runs and Truncate cuts its answer.
type Fault struct {
	// Status answers with this status and an Auth0-shaped error body
	// without acting.
	Status int
	// Delay waits this long (on a real timer, so synctest bubbles see fake
	// time) before going on; the client giving up or Close ends the wait.
	Delay time.Duration
	Drop  DropMode
	// Truncate runs the operation, then sends the full Content-Length, half
	// the body, and closes the connection.
	Truncate bool
	// Oversize answers 200 without acting, with a valid JSON object padded
	// to this many bytes.
	Oversize int64
	// Times is how many requests the fault applies to; 0 means until
	// ClearFaults.
	Times int
}

type faultState struct {
	f    Fault
	left int // remaining uses; -1 = unlimited
}

// InjectFault makes the next requests for operationID (one of the Op
// constants) fail as f says, replacing any fault already set for it. The
// fault applies after the rate limit and before authentication.
func (t *Tenant) InjectFault(operationID string, f Fault) {
	left := f.Times
	if left <= 0 {
		left = -1
	}
	t.mu.Lock()
	t.faults[operationID] = &faultState{f: f, left: left}
	t.mu.Unlock()
}

// ClearFaults removes every injected fault.
func (t *Tenant) ClearFaults() {
	t.mu.Lock()
	clear(t.faults)
	t.mu.Unlock()
}

// takeFault returns the fault for op, counting one use.
func (t *Tenant) takeFault(op string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs, ok := t.faults[op]
	if !ok {
		return Fault{}, false
	}
	if fs.left > 0 {
		fs.left--
		if fs.left == 0 {
			delete(t.faults, op)
		}
	}
	return fs.f, true
}

// wait sleeps d unless the request or the tenant ends first; it reports
// whether the full delay elapsed.
func (t *Tenant) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-r.Context().Done():
		return false
	case <-t.closed:
		return false
	}
}

// dropConn closes the client connection without writing anything.
func dropConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	c, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	c.Close()
}

// truncated writes status and headers with the full Content-Length, half of
// body, and closes the connection.
func truncated(w http.ResponseWriter, status int, header http.Header, body []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer c.Close()
	bw := bufio.NewWriter(c)
	if brw != nil {
		bw = brw.Writer
	}
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	header.Set("Content-Length", strconv.Itoa(len(body)))
	header.Set("Connection", "close")
	header.Write(bw)
	bw.WriteString("\r\n")
	bw.Write(body[:len(body)/2])
	bw.Flush()
}

// oversizeBody is a JSON object of exactly n bytes (at least its minimum
// size, 14 bytes).
func oversizeBody(n int64) []byte {
	const head, tail = `{"padding":"`, `"}`
	pad := n - int64(len(head)+len(tail))
	if pad < 0 {
		pad = 0
	}
	var b bytes.Buffer
	b.Grow(int(pad) + len(head) + len(tail))
	b.WriteString(head)
	b.WriteString(strings.Repeat("x", int(pad)))
	b.WriteString(tail)
	return b.Bytes()
}

// recorder captures a handler's answer so that a fault can cut it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
