package proof

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
)

// faultEnv is one bubble's tenant and client, acting as alice.
type faultEnv struct {
	tn     *apitest.Tenant
	c      *api.Client
	credID string
	linkID string // ID token of the account LinkIdentity links
}

const (
	faultAlice     = "auth0|alice"
	faultSecondary = "github|sec2"   // linked by LinkIdentity
	faultLinkedP   = "google-oauth2" // alice's linked identity, unlinked by UnlinkIdentity
	faultLinkedID  = "sec1"
	faultCap       = 64 << 10 // the client's body cap
)

// faultMethod is one api method, with its HTTP method.
type faultMethod struct {
	name   string
	op     string // apitest operation id, for InjectFault
	method string
	call   func(ctx context.Context, e *faultEnv) error
	// acted reports whether the tenant's state shows the operation done
	// (nil for operations that change nothing).
	acted func(e *faultEnv) bool
}

var faultMethods = []faultMethod{
	{"Me", apitest.OpGetUser, "GET", func(ctx context.Context, e *faultEnv) error {
		_, err := e.c.Me(ctx)
		return err
	}, nil},
	{"Enrollments", apitest.OpGetEnrollments, "GET", func(ctx context.Context, e *faultEnv) error {
		_, err := e.c.Enrollments(ctx)
		return err
	}, nil},
	{"UpdateMetadata", apitest.OpPatchUser, "PATCH", func(ctx context.Context, e *faultEnv) error {
		_, err := e.c.UpdateMetadata(ctx, map[string]any{"fault": "written"})
		return err
	}, func(e *faultEnv) bool {
		u, _ := e.tn.User(faultAlice)
		return u.UserMetadata["fault"] == "written"
	}},
	{"LinkIdentity", apitest.OpLinkIdentity, "POST", func(ctx context.Context, e *faultEnv) error {
		_, err := e.c.LinkIdentity(ctx, e.linkID)
		return err
	}, func(e *faultEnv) bool {
		_, stillUser := e.tn.User(faultSecondary)
		return !stillUser
	}},
	{"UnlinkIdentity", apitest.OpUnlinkIdentity, "DELETE", func(ctx context.Context, e *faultEnv) error {
		_, err := e.c.UnlinkIdentity(ctx, faultLinkedP, faultLinkedID)
		return err
	}, func(e *faultEnv) bool {
		_, ok := e.tn.User(faultLinkedP + "|" + faultLinkedID)
		return ok
	}},
	{"CreateDeviceCredential", apitest.OpCreateDeviceCredential, "POST", func(ctx context.Context, e *faultEnv) error {
		_, err := e.c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "laptop", DeviceID: "c0ffee", Value: "a2V5"})
		return err
	}, func(e *faultEnv) bool { return len(e.tn.DeviceCredentials(faultAlice)) == 2 }},
	{"DeleteDeviceCredential", apitest.OpDeleteDeviceCredential, "DELETE", func(ctx context.Context, e *faultEnv) error {
		return e.c.DeleteDeviceCredential(ctx, e.credID)
	}, func(e *faultEnv) bool { return len(e.tn.DeviceCredentials(faultAlice)) == 0 }},
}

// Outcome classes of a call.
const (
	outSuccess    = "success"
	outServer     = "*api.Error, 5xx"
	outRateLimit  = "*api.Error, ErrRateLimited"
	outBadBody    = "*api.ResponseError, ErrBadResponse"
	outTooLarge   = "*api.ResponseError, ErrBodyTooLarge"
	outConnection = "connection error (io.EOF, io.ErrUnexpectedEOF or net.Error)"
	outDeadline   = "context.DeadlineExceeded"
)

// faultKind is one fault, and what it must lead to for idempotent (GET,
// DELETE) and non-idempotent (POST, PATCH) methods: how many requests the
// tenant receives for one call, and how the call ends.
type faultKind struct {
	name  string
	fault apitest.Fault
	// deadline, when set, bounds the call's context.
	deadline time.Duration
	// sends and outcome for GET/DELETE and for POST/PATCH.
	idemSends, postSends     int
	idemOutcome, postOutcome string
	// acts reports whether a POST/PATCH call changes the tenant's state.
	acts bool
}

const retries = api.DefaultMaxRetries

var faultKinds = []faultKind{
	// 5xx answers are sent before the tenant acts, but the client cannot
	// know that: GET and DELETE spend their retry budget, POST and PATCH
	// are sent once.
	{name: "500", fault: apitest.Fault{Status: 500}, idemSends: 1 + retries, postSends: 1, idemOutcome: outServer, postOutcome: outServer},
	{name: "502", fault: apitest.Fault{Status: 502}, idemSends: 1 + retries, postSends: 1, idemOutcome: outServer, postOutcome: outServer},
	{name: "503", fault: apitest.Fault{Status: 503}, idemSends: 1 + retries, postSends: 1, idemOutcome: outServer, postOutcome: outServer},
	{name: "503 until the last retry", fault: apitest.Fault{Status: 503, Times: retries}, idemSends: 1 + retries, postSends: 1, idemOutcome: outSuccess, postOutcome: outServer},
	{name: "dropped before acting", fault: apitest.Fault{Drop: apitest.DropBeforeAct}, idemSends: 1 + retries, postSends: 1, idemOutcome: outConnection, postOutcome: outConnection},
	{name: "dropped after acting", fault: apitest.Fault{Drop: apitest.DropAfterAct}, idemSends: 1 + retries, postSends: 1, idemOutcome: outConnection, postOutcome: outConnection, acts: true},
	{name: "slower than the deadline", fault: apitest.Fault{Delay: time.Hour}, deadline: 2 * time.Second, idemSends: 1, postSends: 1, idemOutcome: outDeadline, postOutcome: outDeadline},
	{name: "truncated JSON", fault: apitest.Fault{Truncate: true}, idemSends: 1 + retries, postSends: 1, idemOutcome: outBadBody, postOutcome: outBadBody, acts: true},
	{name: "body over the cap", fault: apitest.Fault{Oversize: 4 * faultCap}, idemSends: 1, postSends: 1, idemOutcome: outTooLarge, postOutcome: outTooLarge},
	// 429 means the request was not served: every method is retried,
	// POST and PATCH included — the one exception to sending them once.
	{name: "429 storm", fault: apitest.Fault{Status: 429}, idemSends: 1 + retries, postSends: 1 + retries, idemOutcome: outRateLimit, postOutcome: outRateLimit},
	{name: "429 until the last retry", fault: apitest.Fault{Status: 429, Times: retries}, idemSends: 1 + retries, postSends: 1 + retries, idemOutcome: outSuccess, postOutcome: outSuccess, acts: true},
}

// expect returns the requests and outcome fk must lead to for m.
func (fk faultKind) expect(m faultMethod) (sends int, outcome string) {
	if m.method == "GET" || m.method == "DELETE" {
		sends, outcome = fk.idemSends, fk.idemOutcome
		// A 204 has no body to cut: the truncation fault lets
		// DELETE /device-credentials/{id} succeed on its first attempt.
		if fk.fault.Truncate && m.op == apitest.OpDeleteDeviceCredential {
			return 1, outSuccess
		}
		return sends, outcome
	}
	return fk.postSends, fk.postOutcome
}

// classifyCall names the class of a call's error; "" for an error of no
// class the api documents (an untyped error).
func classifyCall(err error) string {
	var ae *api.Error
	var re *api.ResponseError
	var ne net.Error
	switch {
	case err == nil:
		return outSuccess
	case errors.Is(err, context.DeadlineExceeded):
		return outDeadline
	case errors.As(err, &ae) && ae.StatusCode/100 == 5:
		return outServer
	case errors.As(err, &ae) && errors.Is(err, api.ErrRateLimited):
		return outRateLimit
	case errors.As(err, &re) && errors.Is(err, api.ErrBodyTooLarge):
		return outTooLarge
	case errors.As(err, &re) && errors.Is(err, api.ErrBadResponse):
		return outBadBody
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne):
		return outConnection
	}
	return ""
}

// newFaultEnv starts a tenant inside the current bubble: alice with a
// linked identity and a device credential, and the account to link.
func newFaultEnv(t *testing.T, opts ...api.Option) *faultEnv {
	t.Helper()
	tn := apitest.New(t, apitest.WithMemoryNetwork(), apitest.WithTLS())
	addUsers(t, tn,
		apitest.User{ID: faultAlice, Email: "alice@example.com", Identities: []apitest.Identity{
			{Connection: "Username-Password-Authentication", Provider: "auth0", UserID: "alice"},
			{Connection: faultLinkedP, Provider: faultLinkedP, UserID: faultLinkedID, IsSocial: true, ProfileData: map[string]any{"email": "alice@gmail.example"}},
		}},
		apitest.User{ID: faultSecondary, Email: "alice@github.example"},
	)
	credID, err := tn.AddDeviceCredential(apitest.DeviceCredential{UserID: faultAlice, ClientID: tn.ClientID(), DeviceName: "phone", DeviceID: "dd01", Value: "a2V5"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.New(tn.Domain(), static(accessToken(tn, faultAlice, allScopes...)), append([]api.Option{
		api.WithBaseURL(tn.BaseURL()),
		api.WithHTTPClient(tn.Client()),
		api.WithMaxBodySize(faultCap),
		api.WithLogger(leaks.logger("faults")),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &faultEnv{tn: tn, c: c, credID: credID, linkID: idToken(tn, faultSecondary)}
}

// TestFaults injects every fault into every api method, each in its own
// synctest bubble and tenant, and checks the call's end, the number of
// requests the tenant received, and for POST and PATCH whether the tenant
// acted. Goroutine leaks: synctest.Test fails a bubble whose goroutines do
// not end, and TestMain runs goleak over the binary.
func TestFaults(t *testing.T) {
	defer leaks.markRan("faults")
	cases := 0
	t.Run("cases", func(t *testing.T) {
		for _, fk := range faultKinds {
			for _, m := range faultMethods {
				cases++
				t.Run(fk.name+"/"+m.name, func(t *testing.T) {
					t.Parallel()
					synctest.Test(t, func(t *testing.T) {
						e := newFaultEnv(t)
						e.tn.InjectFault(m.op, fk.fault)
						ctx := t.Context()
						if fk.deadline > 0 {
							var cancel context.CancelFunc
							ctx, cancel = context.WithTimeout(ctx, fk.deadline)
							defer cancel()
						}
						start := time.Now()
						err := callNoPanic(t, ctx, m, e)
						elapsed := time.Since(start)
						leaks.err("faults: "+m.name, err)

						wantSends, wantOutcome := fk.expect(m)
						got := classifyCall(err)
						if got != wantOutcome {
							t.Errorf("outcome %q (%v), want %s", got, err, wantOutcome)
						}
						if err != nil && !strings.HasPrefix(err.Error(), "api: ") {
							t.Errorf("error %q does not start with \"api: \"", err)
						}
						sends := 0
						for _, r := range e.tn.Requests() {
							if strings.HasPrefix(r.EscapedPath, "/api/v2/") {
								if r.Method != m.method {
									t.Errorf("the tenant received %s %s", r.Method, r.EscapedPath)
								}
								sends++
							}
						}
						if sends != wantSends {
							t.Errorf("the tenant received %d requests, want %d", sends, wantSends)
						}
						var ae *api.Error
						if errors.As(err, &ae) && ae.Attempts != sends {
							t.Errorf("Error.Attempts = %d, the tenant received %d", ae.Attempts, sends)
						}
						if fk.deadline > 0 && elapsed != fk.deadline {
							t.Errorf("returned after %v, want the deadline %v", elapsed, fk.deadline)
						}
						if m.acted != nil && (m.method == "POST" || m.method == "PATCH") {
							if acted := m.acted(e); acted != fk.acts {
								t.Errorf("the tenant acted: %t, want %t", acted, fk.acts)
							}
						}
					})
				})
			}
		}
	})
	t.Logf("faults: %d methods × %d faults = %d cases", len(faultMethods), len(faultKinds), cases)
}

// callNoPanic makes the call, turning a panic into a test failure.
func callNoPanic(t *testing.T, ctx context.Context, m faultMethod, e *faultEnv) (err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v", m.name, p)
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return m.call(ctx, e)
}
