package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
)

// patches returns the user_metadata of every PATCH the tenant received.
func patches(t *testing.T, tn *apitest.Tenant) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range tn.Requests() {
		if r.Method != "PATCH" {
			continue
		}
		var b struct {
			UserMetadata map[string]any `json:"user_metadata"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("PATCH body %.80q: %v", r.Body, err)
		}
		out = append(out, b.UserMetadata)
	}
	return out
}

// heldClient returns alice's Client on tn, whose next PATCH the tenant
// holds for a second, so that the calls made meanwhile wait to be sent.
func heldClient(t *testing.T, tn *apitest.Tenant, opts ...api.Option) *api.Client {
	t.Helper()
	c := newClient(t, tn, alice, allScopes, opts...)
	tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Delay: time.Second, Times: 1})
	return c
}

// queued runs first, whose request the tenant holds for a second, then
// each of the others in turn once the one before is waiting, and returns
// their results in order.
func queued(t *testing.T, c *api.Client, first map[string]any, rest ...map[string]any) ([]*api.User, []error) {
	t.Helper()
	users := make([]*api.User, len(rest)+1)
	errs := make([]error, len(rest)+1)
	var wg sync.WaitGroup
	for i, md := range append([]map[string]any{first}, rest...) {
		wg.Go(func() { users[i], errs[i] = c.UpdateMetadata(t.Context(), md) })
		synctest.Wait() // the call is sent (the first) or waiting
	}
	wg.Wait()
	return users, errs
}

func TestCoalescedPatchEqualsCallsInOrder(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := heldClient(t, tn)
		users, errs := queued(t, c,
			map[string]any{"a": 1.0},
			map[string]any{"b": 1.0, "c": 1.0},
			map[string]any{"b": 2.0}, // later wins
			map[string]any{"c": nil}, // nil deletes
			map[string]any{"d": map[string]any{"x": 1.0}},
			map[string]any{"color": nil, "e": true},
		)
		want := []map[string]any{
			{"a": 1.0},
			{"b": 2.0, "c": nil, "d": map[string]any{"x": 1.0}, "color": nil, "e": true},
		}
		if d := cmp.Diff(want, patches(t, tn)); d != "" {
			t.Errorf("PATCH bodies (-want +got):\n%s", d)
		}
		final := map[string]any{"a": 1.0, "b": 2.0, "d": map[string]any{"x": 1.0}, "e": true}
		for i := range users {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			if i > 0 && !cmp.Equal(final, map[string]any(users[i].UserMetadata)) {
				t.Errorf("call %d got metadata %v, want %v", i, users[i].UserMetadata, final)
			}
		}
		if i := 1; users[i] == users[i+1] {
			t.Error("callers of one batch share one *User")
		}
		u, _ := tn.User(alice)
		if d := cmp.Diff(final, u.UserMetadata); d != "" {
			t.Errorf("stored metadata (-want +got):\n%s", d)
		}
	})
}

func TestCoalescingEmptyMapIsABarrier(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := heldClient(t, tn)
		_, errs := queued(t, c,
			map[string]any{"a": 1.0},
			map[string]any{"b": 1.0},
			map[string]any{},
			map[string]any{"c": 1.0},
			map[string]any{"d": 1.0},
		)
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		want := []map[string]any{{"a": 1.0}, {"b": 1.0}, {}, {"c": 1.0, "d": 1.0}}
		if d := cmp.Diff(want, patches(t, tn)); d != "" {
			t.Errorf("PATCH bodies (-want +got):\n%s", d)
		}
		u, _ := tn.User(alice)
		if d := cmp.Diff(map[string]any{"c": 1.0, "d": 1.0}, u.UserMetadata); d != "" {
			t.Errorf("stored metadata (-want +got):\n%s", d)
		}
	})
}

func TestCoalescedCallersShareTheError(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := heldClient(t, tn)
		users := make([]*api.User, 3)
		errs := make([]error, 3)
		var wg sync.WaitGroup
		for i, md := range []map[string]any{{"a": 1.0}, {"b": 1.0}, {"c": 1.0}} {
			wg.Go(func() { users[i], errs[i] = c.UpdateMetadata(t.Context(), md) })
			synctest.Wait()
			if i == 0 { // the first is held; the merged PATCH will fail
				tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Status: 500, Times: 1})
			}
		}
		wg.Wait()
		if errs[0] != nil || users[0] == nil {
			t.Fatalf("first call: %v", errs[0])
		}
		for i := 1; i < 3; i++ {
			var ae *api.Error
			if !errors.As(errs[i], &ae) || ae.StatusCode != 500 {
				t.Errorf("call %d: error %v, want the merged request's 500", i, errs[i])
			}
		}
		if n := len(patches(t, tn)); n != 2 {
			t.Errorf("%d PATCHes, want 2", n)
		}
	})
}

func TestCoalescedBodyStaysUnderAMegabyte(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := heldClient(t, tn)
		big := strings.Repeat("x", 600<<10)
		_, errs := queued(t, c, map[string]any{"a": 1.0}, map[string]any{"b": big}, map[string]any{"c": big}, map[string]any{"d": 1.0})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for _, r := range tn.Requests() {
			if r.Method == "PATCH" {
				sizes = append(sizes, len(r.Body))
			}
		}
		if len(sizes) != 3 {
			t.Fatalf("PATCH sizes %v, want 3 requests: two 600 KB maps cannot share one", sizes)
		}
		for _, n := range sizes {
			if n >= 1<<20 {
				t.Errorf("a PATCH body of %d bytes", n)
			}
		}
	})
}

func TestCoalescingKeepsUsersApart(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		root := newClient(t, tn, alice, allScopes)
		bobView := root.ForToken(staticToken(tn.AccessToken(bob, allScopes...)))
		// A first answer, so that the pacing has stopped probing (one
		// request at a time until the first answer).
		if _, err := root.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
		tn.ResetRequests()
		tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Delay: time.Second, Times: 1})
		var wg sync.WaitGroup
		wg.Go(func() { root.UpdateMetadata(t.Context(), map[string]any{"a": 1.0}) })
		synctest.Wait()
		start := time.Now()
		for _, c := range []*api.Client{root, bobView} {
			wg.Go(func() {
				if _, err := c.UpdateMetadata(t.Context(), map[string]any{"b": 1.0}); err != nil {
					t.Error(err)
				}
				if c == bobView && time.Since(start) != 0 {
					t.Errorf("bob's call waited %v behind alice's", time.Since(start))
				}
			})
			synctest.Wait()
		}
		wg.Wait()
		if n := len(patches(t, tn)); n != 3 {
			t.Errorf("%d PATCHes, want 3 (alice's two, bob's one)", n)
		}
		// Concurrent Me calls: one GET per user.
		tn.InjectFault(apitest.OpGetUser, apitest.Fault{Delay: time.Second, Times: 2})
		for range 4 {
			for _, c := range []*api.Client{root, bobView} {
				wg.Go(func() {
					if _, err := c.Me(t.Context()); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		if n := sent(tn, "GET", alicePath) + sent(tn, "GET", "/api/v2/users/auth0%7Cbob"); n != 2 {
			t.Errorf("8 concurrent Me calls for 2 users sent %d GETs, want 2", n)
		}
		tn.InjectFault(apitest.OpGetEnrollments, apitest.Fault{Delay: time.Second, Times: 1})
		for range 4 {
			wg.Go(func() {
				if _, err := root.Enrollments(t.Context()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := sent(tn, "GET", alicePath+"/enrollments"); n != 1 {
			t.Errorf("4 concurrent Enrollments calls sent %d GETs, want 1", n)
		}
	})
}

func TestWithoutCoalescing(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := heldClient(t, tn, api.WithoutCoalescing())
		_, errs := queued(t, c, map[string]any{"a": 1.0}, map[string]any{"b": 1.0}, map[string]any{"c": 1.0})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := len(patches(t, tn)); n != 3 {
			t.Errorf("%d PATCHes, want 3", n)
		}
	})
}

// A caller that gives up before its batch is sent takes its map with it.
func TestCoalescedCallerLeaves(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := heldClient(t, tn)
		var wg sync.WaitGroup
		wg.Go(func() { c.UpdateMetadata(t.Context(), map[string]any{"a": 1.0}) })
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		wg.Go(func() {
			if _, err := c.UpdateMetadata(ctx, map[string]any{"gone": 1.0}); !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		})
		synctest.Wait()
		wg.Go(func() { c.UpdateMetadata(t.Context(), map[string]any{"b": 1.0}) })
		synctest.Wait()
		cancel()
		wg.Wait()
		if d := cmp.Diff([]map[string]any{{"a": 1.0}, {"b": 1.0}}, patches(t, tn)); d != "" {
			t.Errorf("PATCH bodies (-want +got):\n%s", d)
		}
	})
}

// A shared GET runs with its first caller's context: a later caller whose
// context ends returns at once, and when the first caller's ends, the
// others start over and still get their answer.
func TestSharedGetCallersLeave(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		c := newClient(t, tn, alice, allScopes)
		if _, err := c.Me(t.Context()); err != nil { // past the first-answer probe
			t.Fatal(err)
		}
		tn.ResetRequests()
		tn.InjectFault(apitest.OpGetUser, apitest.Fault{Delay: time.Second, Times: 1})
		leaderCtx, leave := context.WithCancel(t.Context())
		followerCtx, giveUp := context.WithCancel(t.Context())
		start := time.Now()
		var wg sync.WaitGroup
		// call calls Me, which must return wantErr after wantAfter.
		call := func(ctx context.Context, wantErr error, wantAfter time.Duration) {
			wg.Go(func() {
				u, err := c.Me(ctx)
				if !errors.Is(err, wantErr) {
					t.Errorf("Me: error %v, want %v", err, wantErr)
				}
				if wantErr == nil && (u == nil || u.UserID != alice) {
					t.Errorf("Me: user %+v, want %s", u, alice)
				}
				if got := time.Since(start); got != wantAfter {
					t.Errorf("Me (error %v) returned after %v, want %v", err, got, wantAfter)
				}
			})
			synctest.Wait()
		}
		call(leaderCtx, context.Canceled, 600*time.Millisecond)
		call(t.Context(), nil, 600*time.Millisecond)
		call(followerCtx, context.Canceled, 300*time.Millisecond)
		time.Sleep(300 * time.Millisecond)
		giveUp()
		time.Sleep(300 * time.Millisecond)
		leave()
		wg.Wait()
		if n := sent(tn, "GET", alicePath); n != 2 {
			t.Errorf("%d GETs, want 2 (the leader's, cancelled, and the follower's own)", n)
		}
	})
}

// panicOnce is a token source that, on its first call, waits for release
// and panics; later calls take tokens from ts.
type panicOnce struct {
	ts      oauth2.TokenSource
	release chan struct{}
	calls   atomic.Int32
}

func (p *panicOnce) Token() (*oauth2.Token, error) {
	if p.calls.Add(1) == 1 {
		<-p.release
		panic("token source")
	}
	return p.ts.Token()
}

// A shared GET whose first caller panics answers the callers waiting on it
// with an error, and the next call sends a GET of its own.
func TestSharedGetLeaderPanics(t *testing.T) {
	t.Parallel()
	bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
		ts := &panicOnce{ts: tn.TokenSource(alice, allScopes...), release: make(chan struct{})}
		c, err := api.New(tn.Domain(), ts, api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client()))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			defer func() {
				if recover() == nil {
					t.Error("the first Me did not panic")
				}
			}()
			_, _ = c.Me(t.Context())
		})
		synctest.Wait()
		var waitErr error
		wg.Go(func() { _, waitErr = c.Me(t.Context()) })
		synctest.Wait()
		close(ts.release)
		wg.Wait()
		if waitErr == nil {
			t.Error("the waiting Me returned no error")
		}
		if u, err := c.Me(t.Context()); err != nil || u.UserID != alice {
			t.Errorf("a later Me = %v, %v; want alice's profile", u, err)
		}
	})
}
