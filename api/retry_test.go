package api_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
)

// bubble runs f in a synctest bubble with a tenant on an in-memory network,
// so waits take no real time.
func bubble(t *testing.T, opts []apitest.Option, f func(t *testing.T, tn *apitest.Tenant)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		tn := apitest.New(t, append([]apitest.Option{testUsers, apitest.WithMemoryNetwork(), apitest.WithTLS()}, opts...)...)
		f(t, tn)
	})
}

// sent counts the requests the tenant received for one operation.
func sent(tn *apitest.Tenant, method, path string) int {
	n := 0
	for _, r := range tn.Requests() {
		if r.Method == method && r.EscapedPath == path {
			n++
		}
	}
	return n
}

const alicePath = "/api/v2/users/auth0%7Calice"

func TestRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		op     string
		fault  apitest.Fault
		call   func(ctx context.Context, c *api.Client, credID string) error
		method string
		path   string
		// want
		attempts int
		is       error
	}{
		{"GET retried after 503s", apitest.OpGetUser, apitest.Fault{Status: 503, Times: 2}, me, "GET", alicePath, 3, nil},
		{"GET retried after 502", apitest.OpGetUser, apitest.Fault{Status: 502, Times: 1}, me, "GET", alicePath, 2, nil},
		{"GET gives up after its budget", apitest.OpGetUser, apitest.Fault{Status: 500}, me, "GET", alicePath, 1 + api.DefaultMaxRetries, errStatus5xx},
		{"GET retried after a dropped connection", apitest.OpGetUser, apitest.Fault{Drop: apitest.DropBeforeAct, Times: 1}, me, "GET", alicePath, 2, nil},
		{"GET retried after a truncated body", apitest.OpGetUser, apitest.Fault{Truncate: true, Times: 1}, me, "GET", alicePath, 2, nil},
		{"GET not retried after an oversized body", apitest.OpGetUser, apitest.Fault{Oversize: 5 << 20}, me, "GET", alicePath, 1, api.ErrBodyTooLarge},
		{"DELETE retried after 503", apitest.OpDeleteDeviceCredential, apitest.Fault{Status: 503, Times: 1}, deleteCred, "DELETE", "/api/v2/device-credentials/dcr_x", 2, api.ErrNotFound},
		{"PATCH not retried after 503", apitest.OpPatchUser, apitest.Fault{Status: 503}, patch, "PATCH", alicePath, 1, errStatus5xx},
		{"PATCH not retried after the server acted", apitest.OpPatchUser, apitest.Fault{Drop: apitest.DropAfterAct}, patch, "PATCH", alicePath, 1, nil},
		{"PATCH not retried after a truncated answer", apitest.OpPatchUser, apitest.Fault{Truncate: true}, patch, "PATCH", alicePath, 1, api.ErrBadResponse},
		{"PATCH retried after 429", apitest.OpPatchUser, apitest.Fault{Status: 429, Times: 2}, patch, "PATCH", alicePath, 3, nil},
		{"POST not retried after 502", apitest.OpCreateDeviceCredential, apitest.Fault{Status: 502}, createCred, "POST", "/api/v2/device-credentials", 1, errStatus5xx},
		{"POST retried after 429", apitest.OpCreateDeviceCredential, apitest.Fault{Status: 429, Times: 1}, createCred, "POST", "/api/v2/device-credentials", 2, nil},
		{"429 storm ends with ErrRateLimited", apitest.OpGetUser, apitest.Fault{Status: 429}, me, "GET", alicePath, 1 + api.DefaultMaxRetries, api.ErrRateLimited},
		{"POST not resent after a dropped connection", apitest.OpCreateDeviceCredential, apitest.Fault{Drop: apitest.DropBeforeAct}, createCred, "POST", "/api/v2/device-credentials", 1, api.ErrConnection},
		{"GET connection errors are typed", apitest.OpGetUser, apitest.Fault{Drop: apitest.DropBeforeAct}, me, "GET", alicePath, 1 + api.DefaultMaxRetries, api.ErrConnection},
		{"DELETE that acted before the connection dropped may have deleted", apitest.OpDeleteDeviceCredential, apitest.Fault{Drop: apitest.DropAfterAct, Times: 1}, deleteOwnCred, "DELETE", "", 2, api.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
				c := newClient(t, tn, alice, allScopes, api.WithMaxBodySize(64<<10))
				path, credID := tc.path, ""
				if path == "" { // a credential of alice's own
					id, err := tn.AddDeviceCredential(apitest.DeviceCredential{UserID: alice, DeviceName: "d", DeviceID: "ab", Type: "public_key", Value: "v"})
					if err != nil {
						t.Fatal(err)
					}
					path, credID = "/api/v2/device-credentials/"+id, id
				}
				tn.InjectFault(tc.op, tc.fault)
				start := time.Now()
				err := tc.call(t.Context(), c, credID)
				if got := sent(tn, tc.method, path); got != tc.attempts {
					t.Errorf("sent %d times, want %d", got, tc.attempts)
				}
				switch {
				case tc.fault.Drop == apitest.DropAfterAct && tc.method == "DELETE":
					var md *api.MaybeDeletedError
					if !errors.As(err, &md) || !errors.Is(err, tc.is) || len(tn.DeviceCredentials(alice)) != 0 {
						t.Errorf("error %v, %d credentials left; want a *api.MaybeDeletedError and none", err, len(tn.DeviceCredentials(alice)))
					}
				case tc.is == nil && tc.fault.Drop == apitest.DropAfterAct:
					if err == nil {
						t.Error("a dropped connection after the server acted reported success")
					}
				case tc.is == errStatus5xx:
					var ae *api.Error
					if !errors.As(err, &ae) || ae.StatusCode/100 != 5 {
						t.Errorf("error %v, want a 5xx *api.Error", err)
					}
				case tc.is == nil && err != nil:
					t.Errorf("error %v, want success", err)
				case tc.is != nil && !errors.Is(err, tc.is):
					t.Errorf("error %v, want %v", err, tc.is)
				}
				if elapsed := time.Since(start); elapsed > time.Minute {
					t.Errorf("took %v of fake time", elapsed)
				}
			})
		})
	}
}

// errStatus5xx in a case's is field stands for a 5xx *api.Error.
var errStatus5xx = errors.New("5xx")

func me(ctx context.Context, c *api.Client, _ string) error { _, err := c.Me(ctx); return err }

func patch(ctx context.Context, c *api.Client, _ string) error {
	_, err := c.UpdateMetadata(ctx, map[string]any{"k": "v"})
	return err
}

func createCred(ctx context.Context, c *api.Client, _ string) error {
	_, err := c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "d", DeviceID: "ab", Value: "v"})
	return err
}

func deleteCred(ctx context.Context, c *api.Client, _ string) error {
	return c.DeleteDeviceCredential(ctx, "dcr_x")
}

func deleteOwnCred(ctx context.Context, c *api.Client, id string) error {
	return c.DeleteDeviceCredential(ctx, id)
}

func TestDeadlineEndsASlowCall(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := newClient(t, tn, alice, allScopes)
		tn.InjectFault(apitest.OpGetUser, apitest.Fault{Delay: time.Hour})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Me(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("returned after %v, want 2s", d)
		}
	})
}

// TestPacingAvoids429s runs sequential calls against Auth0's Free-plan
// global bucket (burst 2, 2/s) with a per-user bucket that does not bind:
// the client paces from the headers and spends no request on a 429, and
// finishes close to the bucket's minimum time.
func TestPacingAvoids429s(t *testing.T) {
	t.Parallel()
	opts := []apitest.Option{apitest.WithPlan(apitest.PlanFree), apitest.WithCurrentUserLimit(100, 6000)}
	bubble(t, opts, func(t *testing.T, tn *apitest.Tenant) {
		c := newClient(t, tn, alice, allScopes, api.WithCurrentUserLimit(100, 6000))
		const n = 20
		start := time.Now()
		for i := range n {
			if _, err := c.UpdateMetadata(t.Context(), map[string]any{"i": i}); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		elapsed := time.Since(start)
		minimum := time.Duration(float64(n-2) / 2 * float64(time.Second))
		if elapsed < minimum || elapsed > minimum*13/10 {
			t.Errorf("%d calls took %v; the bucket allows them in %v", n, elapsed, minimum)
		}
		if got := sent(tn, "PATCH", alicePath); got != n {
			t.Errorf("sent %d requests for %d calls (%d answered 429)", got, n, got-n)
		}
	})
}

// TestWaitsForResetWhenBucketEmpty checks the documented behaviour
// when the first answer already says the bucket is empty: wait for
// X-RateLimit-Reset rather than spend a request on a 429.
func TestWaitsForResetWhenBucketEmpty(t *testing.T) {
	t.Parallel()
	bubble(t, []apitest.Option{apitest.WithRateLimit(1, 0.5)}, func(t *testing.T, tn *apitest.Tenant) {
		c := newClient(t, tn, alice, allScopes)
		for i := range 3 {
			if _, err := c.Me(t.Context()); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if got := sent(tn, "GET", alicePath); got != 3 {
			t.Errorf("sent %d requests for 3 calls", got)
		}
	})
}

func TestOversizedBodyIsATypedError(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := newClient(t, tn, alice, allScopes, api.WithMaxBodySize(4096))
		tn.InjectFault(apitest.OpGetUser, apitest.Fault{Oversize: 1 << 20})
		_, err := c.Me(t.Context())
		var re *api.ResponseError
		if !errors.As(err, &re) || !errors.Is(err, api.ErrBodyTooLarge) || re.StatusCode != 200 {
			t.Fatalf("error %#v, want a *api.ResponseError for status 200 matching ErrBodyTooLarge", err)
		}
		if got, want := err.Error(), "api: get_users_by_id: bad response (status 200): response body too large"; got != want {
			t.Errorf("error text %q, want %q", got, want)
		}
	})
}
