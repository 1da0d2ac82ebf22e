package api_test

import (
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/scopeguard"
)

// rewrite changes the headers of answers, counting the requests it sees.
type rewrite struct {
	base  http.RoundTripper
	n     atomic.Int64
	apply func(n int64, resp *http.Response)
}

func (r *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err == nil {
		r.apply(r.n.Add(1), resp)
	}
	return resp, err
}

// A stalled Client: one answer says the global bucket is empty until a
// year from now. The next call waits the bound (WithMaxWait), not a year;
// a call the guard refuses is refused at once, before any pacing.
func TestStalledBucketWaitIsBounded(t *testing.T) {
	t.Parallel()
	bubble(t, []apitest.Option{apitest.WithRateLimit(50, 16)}, func(t *testing.T, tn *apitest.Tenant) {
		rw := &rewrite{base: tn.Client().Transport, apply: func(n int64, resp *http.Response) {
			if n == 1 {
				resp.Header.Set("X-RateLimit-Remaining", "0")
				resp.Header.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(365*24*time.Hour).Unix(), 10))
			}
		}}
		c, err := api.New(tn.Domain(), staticToken(tn.AccessToken(alice, "read:current_user")),
			api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(&http.Client{Transport: rw}), api.WithMaxWait(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.UpdateMetadata(t.Context(), map[string]any{"a": 1}); !errors.Is(err, scopeguard.ErrInsufficientScope) {
			t.Fatalf("error %v, want ErrInsufficientScope", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the refused call took %v, want no wait", d)
		}
		if _, err := c.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 20*time.Second || d > 21*time.Second {
			t.Errorf("the call after a reset a year away waited %v, want the 20s bound", d)
		}
		if n := rw.n.Load(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
}

// Retry-After values too long for a Duration never give a shorter (or
// negative) wait: the retry waits the whole bound.
func TestRetryAfterSaturates(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"9300000000", "18446744074"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
				rw := &rewrite{base: tn.Client().Transport, apply: func(n int64, resp *http.Response) {
					if n == 1 {
						resp.StatusCode = http.StatusTooManyRequests
						resp.Header.Set("Retry-After", v)
					}
				}}
				c, err := api.New(tn.Domain(), staticToken(tn.AccessToken(alice, "read:current_user")),
					api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(&http.Client{Transport: rw}))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				if _, err := c.Me(t.Context()); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d != api.DefaultMaxWait {
					t.Errorf("retried after %v, want the bound %v", d, api.DefaultMaxWait)
				}
			})
		})
	}
}

// One user's empty bucket never slows another user's calls through the
// same Client.
func TestPerUserPacing(t *testing.T) {
	t.Parallel()
	bubble(t, []apitest.Option{apitest.WithPlan(apitest.PlanEnterpriseProduction)}, func(t *testing.T, tn *apitest.Tenant) {
		root := newClient(t, tn, alice, allScopes, api.WithoutCoalescing())
		bobView := root.ForToken(staticToken(tn.AccessToken(bob, allScopes...)))
		start := time.Now()
		for i := range 12 { // alice: 10 at once, then one every 6 s
			if _, err := root.UpdateMetadata(t.Context(), map[string]any{"i": i}); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d < 12*time.Second || d > 13*time.Second {
			t.Errorf("alice's 12 writes took %v, want 12 s (two refills of 6 s)", d)
		}
		start = time.Now()
		if _, err := bobView.UpdateMetadata(t.Context(), map[string]any{"b": 1}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("bob's write waited %v", d)
		}
		limited := 0
		for _, r := range tn.Requests() {
			if r.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited != 0 {
			t.Errorf("%d answers 429, want none", limited)
		}
	})
}
