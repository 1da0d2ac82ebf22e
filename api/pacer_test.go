package api_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// held is a request a reorder transport holds back, and where its answer
// goes.
type held struct {
	req    *http.Request
	answer chan *http.Response
}

// reorder holds every request after the first until the test sends it to
// the tenant and hands its answer back, in whatever orders the test
// chooses.
type reorder struct {
	base http.RoundTripper
	n    atomic.Int64
	held chan held
	pass atomic.Bool // send on at once from now on
}

func (r *reorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.n.Add(1) == 1 || r.pass.Load() {
		return r.base.RoundTrip(req)
	}
	h := held{req: req, answer: make(chan *http.Response)}
	r.held <- h
	return <-h.answer, nil
}

// Answers that overtake each other: the server takes two requests in the
// reverse of the order they were sent, and their answers come back in the
// order they were sent, so the last answer shows a level older than the
// one before it. The pacer must not believe that stale level (it would
// send a third request into an empty bucket); the third request waits for
// the bucket's next token and meets no 429.
func TestPacerOvertakenAnswers(t *testing.T) {
	t.Parallel()
	// Burst 3, one token every 10 s: the probe leaves 2, A and B take them.
	bubble(t, []apitest.Option{apitest.WithRateLimit(3, 0.1)}, func(t *testing.T, tn *apitest.Tenant) {
		ro := &reorder{base: tn.Client().Transport, held: make(chan held)}
		c, err := api.New(tn.Domain(), staticToken(tn.AccessToken(alice, "update:current_user_metadata")),
			api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(&http.Client{Transport: ro}), api.WithoutCoalescing())
		if err != nil {
			t.Fatal(err)
		}
		write := func(i int) {
			if _, err := c.UpdateMetadata(t.Context(), map[string]any{"i": i}); err != nil {
				t.Error(err)
			}
		}
		write(0) // the probe: the mirror learns the bucket (2 left)
		done := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		var hs [2]held
		for i := range hs { // A, then B, each sent once the one before is out
			go func() { write(i + 1); close(done[i]) }()
			hs[i] = <-ro.held
		}
		b, err := ro.base.RoundTrip(hs[1].req) // the server takes B first (1 left)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ro.base.RoundTrip(hs[0].req) // then A (0 left)
		if err != nil {
			t.Fatal(err)
		}
		hs[0].answer <- a // A's answer (0 left) comes first
		<-done[0]
		hs[1].answer <- b // then B's (1 left), older than A's
		<-done[1]
		start := time.Now()
		third := make(chan struct{})
		go func() { write(3); close(third) }()
		h := <-ro.held
		ro.pass.Store(true) // a retry, if any, goes straight on
		if d := time.Since(start); d < 10*time.Second || d > 11*time.Second {
			t.Errorf("the third write went after %v, want the bucket's next token (10 s)", d)
		}
		resp, err := ro.base.RoundTrip(h.req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the third write was answered %d, want 200", resp.StatusCode)
		}
		h.answer <- resp
		<-third
	})
}

// A Client that sees others' takes in the level answered, before any 429,
// takes the bucket as shared: it paces at a share, and spends the tokens it
// sees above the reserve (0.15 of the bucket) on top of it, at a rate in
// proportion to them, rather than all at once as a Client alone would.
// Here 29 of 50 are left when its next writes go: the three go paced, in
// about half a second (1.8s to 2.5s at the share alone), with no 429.
func TestPacerSeesOthersInTheLevel(t *testing.T) {
	t.Parallel()
	bubble(t, []apitest.Option{apitest.WithRateLimit(50, 16)}, func(t *testing.T, tn *apitest.Tenant) {
		c := newClient(t, tn, alice, allScopes, api.WithoutCoalescing())
		write := func(i int) {
			if _, err := c.UpdateMetadata(t.Context(), map[string]any{"i": i}); err != nil {
				t.Fatal(err)
			}
		}
		write(0) // 49 left
		// Another process takes 19 tokens.
		tok := tn.AccessToken(bob, "read:current_user")
		for range 19 {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tn.BaseURL()+"users/auth0%7Cbob", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := tn.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		write(1) // the level answered (29) is 19 below the mirror's 48
		start := time.Now()
		for i := range 3 {
			write(2 + i)
		}
		if d := time.Since(start); d < 200*time.Millisecond || d > 1200*time.Millisecond {
			t.Errorf("3 writes after the level showed others took %v, want them paced, with the tokens above the reserve spent (0.2s to 1.2s)", d)
		}
		for _, r := range tn.Requests() {
			if r.Status == http.StatusTooManyRequests {
				t.Errorf("%s %s answered 429", r.Method, r.EscapedPath)
			}
		}
	})
}

// On a bucket large enough to keep a reserve, an answer that shows the
// shared bucket empty halves the Client's share, as a 429 would: the
// Clients sharing it have spent the reserve they leave one another. The
// answers' X-RateLimit-Remaining is rewritten: 3 on the first (others took
// 6 of 10: the bucket is shared), then 1 (below the reserve: nothing is
// spent on top of the share; the first 1, below what the Client's own
// take leaves, halves the share in both runs), and, in one of two runs, 0
// on the sixth. In that run the last writes go about twice as far apart
// (1.7–1.8 s against 0.9–1.0 s).
func TestPacerEmptyBucketCutsShare(t *testing.T) {
	t.Parallel()
	gap := func(t *testing.T, empty bool) (late time.Duration) {
		bubble(t, []apitest.Option{apitest.WithRateLimit(10, 2)}, func(t *testing.T, tn *apitest.Tenant) {
			var mu sync.Mutex
			var sent []time.Time
			rw := &rewrite{base: tn.Client().Transport, apply: func(n int64, resp *http.Response) {
				mu.Lock()
				sent = append(sent, time.Now())
				mu.Unlock()
				remaining := "1"
				switch {
				case n == 1:
					remaining = "3"
				case n == 6 && empty:
					remaining = "0"
				}
				resp.Header.Set("X-RateLimit-Remaining", remaining)
			}}
			c, err := api.New(tn.Domain(), tn.TokenSource(alice, allScopes...), api.WithBaseURL(tn.BaseURL()),
				api.WithHTTPClient(&http.Client{Transport: rw}), api.WithoutCoalescing())
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if _, err := c.UpdateMetadata(t.Context(), map[string]any{"i": i}); err != nil {
					t.Fatal(err)
				}
			}
			// The mean of the last two gaps, after the empty answer's
			// reset.
			late = sent[9].Sub(sent[7]) / 2
		})
		return late
	}
	without, with := gap(t, false), gap(t, true)
	t.Logf("writes %v apart without an empty answer, %v after one", without, with)
	if with < without*3/2 {
		t.Errorf("writes after an answer that showed the bucket empty went %v apart, against %v without: want the share halved", with, without)
	}
}

// One Client's users on a global bucket too slow for them all are served
// in turn: each user makes its writes one after another, and no user's
// next write is sent before every user's write made earlier was sent. (A
// user served later than the others keeps a full bucket, whose refill is
// lost; see the scenario O1 in goodput_test.go.)
func TestPacerServesCallsInTurn(t *testing.T) {
	t.Parallel()
	bubble(t, []apitest.Option{apitest.WithRateLimit(1, 1)}, func(t *testing.T, tn *apitest.Tenant) {
		const users, writes = 4, 6
		root := newClient(t, tn, alice, []string{"update:current_user_metadata"})
		views := []*api.Client{root}
		subs := map[string]int{tn.AccessToken(alice, "update:current_user_metadata"): 0}
		for i := 1; i < users; i++ {
			sub := "auth0|turn" + strconv.Itoa(i)
			if err := tn.AddUser(apitest.User{ID: sub}); err != nil {
				t.Fatal(err)
			}
			tok := tn.AccessToken(sub, "update:current_user_metadata")
			subs[tok] = i
			views = append(views, root.ForToken(staticToken(tok)))
		}
		// One write each first, one after another: the Client learns the
		// bucket, which is then empty, so that every user's first write
		// below waits for a token.
		for _, v := range views {
			if _, err := v.UpdateMetadata(t.Context(), map[string]any{"w": -1}); err != nil {
				t.Fatal(err)
			}
		}
		warm := len(tn.Requests())
		var wg sync.WaitGroup
		for _, v := range views {
			wg.Go(func() {
				for w := range writes {
					if _, err := v.UpdateMetadata(t.Context(), map[string]any{"w": w}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		sentBy := make([]int, users) // writes sent so far, per user
		for _, r := range tn.Requests()[warm:] {
			if r.Method != http.MethodPatch {
				continue
			}
			if r.Status != http.StatusOK {
				t.Errorf("a write was answered %d", r.Status)
				continue
			}
			u, ok := subs[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
			if !ok {
				u = 0 // the root's token source mints its own tokens for alice
			}
			for o, n := range sentBy {
				if n < sentBy[u] {
					t.Fatalf("user %d's write %d was sent before user %d's write %d", u, sentBy[u]+1, o, n+1)
				}
			}
			sentBy[u]++
		}
		for u, n := range sentBy {
			if n != writes {
				t.Errorf("user %d sent %d writes, want %d", u, n, writes)
			}
		}
	})
}

// A call whose context ends while it waits for the global bucket gives
// its turn up: another user's call made after it is sent when the token
// comes.
func TestPacerTurnGivenUp(t *testing.T) {
	t.Parallel()
	bubble(t, []apitest.Option{apitest.WithRateLimit(1, 0.1)}, func(t *testing.T, tn *apitest.Tenant) {
		c := newClient(t, tn, alice, []string{"read:current_user", "update:current_user_metadata"})
		if _, err := c.Me(t.Context()); err != nil { // the bucket is empty after it: the next token in 10 s
			t.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		first := make(chan error, 1)
		go func() {
			_, err := c.UpdateMetadata(ctx, map[string]any{"first": true})
			first <- err
		}()
		synctest.Wait() // the first call waits for the token
		bobs := c.ForToken(staticToken(tn.AccessToken(bob, "update:current_user_metadata")))
		ctx2, cancel2 := context.WithTimeout(t.Context(), time.Minute)
		defer cancel2()
		if _, err := bobs.UpdateMetadata(ctx2, map[string]any{"second": true}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 10*time.Second || d > 11*time.Second {
			t.Errorf("the second call was answered after %v, want when the token comes (10s)", d)
		}
		if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the first call: %v, want its context's deadline", err)
		}
		if n := sent(tn, http.MethodPatch, alicePath); n != 0 {
			t.Errorf("%d PATCHes of alice sent, want none", n)
		}
	})
}
