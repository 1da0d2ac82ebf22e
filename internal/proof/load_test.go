package proof

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
)

const (
	loadUsers = 50
	loadKeys  = 100
	loadBurst = 10
	loadRate  = 200.0 // requests per second
)

// TestLoadNothingLost has 50 users, each through its own view of one
// api.Client, write 100 distinct user_metadata keys in 100 PATCH calls
// against a tenant whose rate limit answers 429s. Every call also writes
// "seq", so the last write of each user must be the one that stays. It
// runs in a synctest bubble: the rate limit's waits take no real time.
func TestLoadNothingLost(t *testing.T) {
	defer leaks.markRan("load")
	synctest.Test(t, func(t *testing.T) {
		tn := apitest.New(t, apitest.WithMemoryNetwork(), apitest.WithTLS(), apitest.WithRateLimit(loadBurst, loadRate), apitest.WithCurrentUserLimit(apitest.DefaultCurrentUserBurst, apitest.DefaultCurrentUserPerMinute))
		// One pool for everyone, with room for every user's connection, as
		// a server holding many users' tokens would configure it.
		tr := tn.Client().Transport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = loadUsers
		t.Cleanup(tr.CloseIdleConnections)
		subs := make([]string, loadUsers)
		for i := range subs {
			subs[i] = fmt.Sprintf("auth0|load%02d", i)
			addUsers(t, tn, apitest.User{ID: subs[i], Email: fmt.Sprintf("load%02d@example.com", i)})
		}
		root, err := api.New(tn.Domain(), static(accessToken(tn, subs[0], allScopes...)),
			api.WithBaseURL(tn.BaseURL()),
			api.WithHTTPClient(&http.Client{Transport: tr}),
			api.WithLogger(leaks.logger("load")),
			// The tenant's per-user buckets are Auth0's (10 a minute); the
			// Client is told they are twice that, so that both buckets
			// answer 429s and the retries are what keeps every write.
			api.WithCurrentUserLimit(2*apitest.DefaultCurrentUserBurst, 2*apitest.DefaultCurrentUserPerMinute))
		if err != nil {
			t.Fatal(err)
		}

		// Every view is made before any goroutine starts, and all start
		// together: minting a token takes real time, during which a first
		// goroutine would run ahead alone in bubble time.
		views := make([]*api.Client, loadUsers)
		for i, sub := range subs {
			views[i] = root.ForToken(static(accessToken(tn, sub, "update:current_user_metadata")))
		}
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([][]error, loadUsers)
		ready := make(chan struct{})
		for i, sub := range subs {
			view := views[i]
			wg.Go(func() {
				<-ready
				for k := range loadKeys {
					u, err := view.UpdateMetadata(t.Context(), map[string]any{
						fmt.Sprintf("k%03d", k): fmt.Sprintf("%s#%d", sub, k),
						"seq":                   k,
					})
					leaks.err("load", err)
					switch {
					case err != nil:
						errs[i] = append(errs[i], fmt.Errorf("key %d: %w", k, err))
					case u.UserID != sub:
						errs[i] = append(errs[i], fmt.Errorf("key %d: the answer is for another user", k))
					}
				}
			})
		}
		close(ready)
		wg.Wait()
		elapsed := time.Since(start)

		failed := 0
		for i := range errs {
			for _, err := range errs[i] {
				if failed++; failed <= 10 {
					t.Errorf("%s: %v", subs[i], err)
				}
			}
		}
		lost := 0
		for _, sub := range subs {
			u, _ := tn.User(sub)
			for k := range loadKeys {
				key := fmt.Sprintf("k%03d", k)
				if want := fmt.Sprintf("%s#%d", sub, k); u.UserMetadata[key] != want {
					if lost++; lost <= 10 {
						t.Errorf("%s: %s = %v, want %q", sub, key, u.UserMetadata[key], want)
					}
				}
			}
			if got := u.UserMetadata["seq"]; got != float64(loadKeys-1) {
				t.Errorf("%s: seq = %v, want the last write %d", sub, got, loadKeys-1)
			}
			if len(u.UserMetadata) != loadKeys+1 {
				t.Errorf("%s: %d metadata keys, want %d", sub, len(u.UserMetadata), loadKeys+1)
			}
		}

		// Every request the tenant received beyond one per call was
		// answered 429 (nothing else fails on this tenant).
		calls := loadUsers * loadKeys
		sent := 0
		for _, r := range tn.Requests() {
			if r.Method == http.MethodPatch {
				sent++
			}
		}
		rejected := sent - calls
		if rejected <= 0 {
			t.Errorf("the tenant answered no 429 (%d requests for %d calls): the test proves nothing", sent, calls)
		}
		// The buckets admit at most burst + rate × elapsed requests: the
		// global one in all, each user's for that user.
		userFloor := float64(loadKeys-apitest.DefaultCurrentUserBurst) / (apitest.DefaultCurrentUserPerMinute / 60)
		if floor := time.Duration(max(float64(calls-loadBurst)/loadRate, userFloor) * float64(time.Second)); elapsed < floor {
			t.Errorf("%d calls finished in %v of bubble time; the rate limit allows no less than %v", calls, elapsed, floor)
		}
		msg := fmt.Sprintf("load: %d users × %d keys = %d calls, %d requests, %d answered 429, %v of bubble time, %d lost writes, %d errors",
			loadUsers, loadKeys, calls, sent, rejected, elapsed.Round(time.Millisecond), lost, failed)
		t.Log(msg)
		fmt.Println(msg)
	})
}
