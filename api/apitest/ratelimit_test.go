package apitest_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
)

// The per-user bucket: one per sub, Auth0's size by default under WithPlan,
// a 429 naming the current_user limit with that user's headers, and the
// global bucket's headers on every other answer.
func TestCurrentUserLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	t0 := clock.Now().Unix()
	tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now), apitest.WithPlan(apitest.PlanEnterpriseProduction))
	ta := tn.AccessToken(alice, "read:current_user")
	tb := tn.AccessToken(bob, "read:current_user")
	for i := range 10 {
		r := call(t, tn, "GET", userPath(alice), ta, "")
		if r.status != 200 {
			t.Fatalf("alice's call %d: status %d: %s", i+1, r.status, r.body)
		}
		// Success: the global bucket's headers (burst 50).
		if got, want := r.header.Get("X-RateLimit-Limit")+"/"+r.header.Get("X-RateLimit-Remaining"), "50/"+strconv.Itoa(49-i); got != want {
			t.Errorf("alice's call %d: limit/remaining %s, want %s", i+1, got, want)
		}
	}
	r := call(t, tn, "GET", userPath(alice), ta, "")
	if r.status != 429 {
		t.Fatalf("alice's 11th call: status %d, want 429", r.status)
	}
	if d := cmp.Diff(errBody(429, "Too Many Requests", apitest.MessageCurrentUserLimit, "too_many_requests"), r.json(t)); d != "" {
		t.Errorf("429 body (-want +got):\n%s", d)
	}
	// The refusal describes alice's bucket: empty, next token in 6 s.
	got := [3]string{r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"), r.header.Get("X-RateLimit-Reset")}
	if want := [3]string{"10", "0", strconv.FormatInt(t0+6, 10)}; got != want {
		t.Errorf("429 headers (limit, remaining, reset) = %v, want %v", got, want)
	}
	// Bob's bucket is his own.
	if r := call(t, tn, "GET", userPath(bob), tb, ""); r.status != 200 {
		t.Fatalf("bob: status %d, want 200", r.status)
	}
	// One token every 6 s.
	clock.Advance(5900 * time.Millisecond)
	if r := call(t, tn, "GET", userPath(alice), ta, ""); r.status != 429 {
		t.Fatalf("alice after 5.9 s: status %d, want 429", r.status)
	}
	clock.Advance(100 * time.Millisecond)
	if r := call(t, tn, "GET", userPath(alice), ta, ""); r.status != 200 {
		t.Fatalf("alice after 6 s: status %d, want 200", r.status)
	}
	// Requests records each answer's status.
	var statuses []int
	for _, rq := range tn.Requests() {
		statuses = append(statuses, rq.Status)
	}
	want := []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 200, 429, 200}
	if d := cmp.Diff(want, statuses); d != "" {
		t.Errorf("recorded statuses (-want +got):\n%s", d)
	}
}

// A request takes from both buckets: the global one is checked first, so
// a refusal by the per-user bucket has spent a global token, and a refusal
// by the global bucket leaves the per-user bucket alone.
func TestTwoBuckets(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now), apitest.WithRateLimit(3, 1), apitest.WithCurrentUserLimit(1, 6))
	ta := tn.AccessToken(alice, "read:current_user")
	tb := tn.AccessToken(bob, "read:current_user")
	steps := []struct {
		token   string
		user    string
		status  int
		message string
		limit   string // X-RateLimit-Limit: which bucket the headers describe
	}{
		{ta, alice, 200, "", "3"},                              // global 3→2, alice 1→0
		{ta, alice, 429, apitest.MessageCurrentUserLimit, "1"}, // global 2→1, alice empty
		{tb, bob, 200, "", "3"},                                // global 1→0, bob 1→0
		{tb, bob, 429, apitest.MessageGlobalLimit, "3"},        // global empty
		{"", bob, 429, apitest.MessageGlobalLimit, "3"},        // no token: global only
	}
	for i, s := range steps {
		r := call(t, tn, "GET", userPath(s.user), s.token, "")
		if r.status != s.status {
			t.Fatalf("step %d: status %d, want %d: %s", i, r.status, s.status, r.body)
		}
		if s.message != "" {
			if m, _ := r.json(t).(map[string]any)["message"].(string); m != s.message {
				t.Errorf("step %d: message %q, want %q", i, m, s.message)
			}
		}
		if got := r.header.Get("X-RateLimit-Limit"); got != s.limit {
			t.Errorf("step %d: X-RateLimit-Limit %q, want %q", i, got, s.limit)
		}
	}
	// Three seconds on, the global bucket is full again; alice's bucket
	// (one token every 10 s) is not.
	clock.Advance(3 * time.Second)
	if r := call(t, tn, "GET", userPath(alice), ta, ""); r.status != 429 {
		t.Fatalf("alice after 3 s: status %d, want 429", r.status)
	}
	// The refusal took a global token, as the global bucket is checked
	// first: 3 → 2 → 1 left.
	if r := call(t, tn, "GET", userPath(bob), tb, ""); r.status != 429 || r.header.Get("X-RateLimit-Limit") != "1" {
		t.Fatalf("bob after 3 s: status %d, limit %s; want 429 from his own bucket", r.status, r.header.Get("X-RateLimit-Limit"))
	}
	clock.Advance(7 * time.Second)
	if r := call(t, tn, "GET", userPath(alice), ta, ""); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("alice after 10 s: status %d, remaining %s; want 200, 2", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
}

// Without options there are no limits; the per-user bucket alone sends no
// headers on success.
func TestRateLimitOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts    []apitest.Option
		calls   int
		want429 int
		headers bool
	}{
		{nil, 30, 0, false},
		{[]apitest.Option{apitest.WithCurrentUserLimit(10, 10)}, 12, 2, false},
		{[]apitest.Option{apitest.WithCurrentUserLimit(20, 10), apitest.WithPlan(apitest.PlanEnterpriseProduction)}, 22, 2, true},
		{[]apitest.Option{apitest.WithPlan(apitest.PlanEnterpriseProduction), apitest.WithCurrentUserLimit(20, 10)}, 22, 2, true},
		{[]apitest.Option{apitest.WithRateLimit(100, 1)}, 30, 0, true},
	} {
		t.Run(fmt.Sprint(len(tc.opts), tc.calls), func(t *testing.T) {
			t.Parallel()
			tn := apitest.New(t, append(tc.opts, testUsers, apitest.WithClock(newFakeClock().Now))...)
			tok := tn.AccessToken(alice, "read:current_user")
			got429, headers := 0, false
			for range tc.calls {
				r := call(t, tn, "GET", userPath(alice), tok, "")
				if r.status == 429 {
					got429++
				} else if r.header.Get("X-RateLimit-Limit") != "" {
					headers = true
				}
			}
			if got429 != tc.want429 || headers != tc.headers {
				t.Errorf("429s %d, headers on success %v; want %d, %v", got429, headers, tc.want429, tc.headers)
			}
		})
	}
	for _, o := range []apitest.Option{
		apitest.WithCurrentUserLimit(0, 10), apitest.WithCurrentUserLimit(1, 0),
		apitest.WithRateLimit(1, 0), apitest.WithPlan(apitest.Plan{}),
	} {
		if _, err := apitest.Start(o); err == nil {
			t.Error("Start accepted an invalid limit")
		}
	}
}
