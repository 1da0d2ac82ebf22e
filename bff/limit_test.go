package bff_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bff"
)

// TestSpammerCostsOnlyTheirAllowance: 50 users call at once; one of them
// sends 200 requests as fast as the answers come. The tenant receives from
// the spammer no more than the allowance (the burst plus one per interval
// of elapsed time), the spammer's other requests are 429 with Retry-After,
// and every other user's calls go through. In a synctest bubble, so the
// minute it covers takes no real time.
func TestSpammerCostsOnlyTheirAllowance(t *testing.T) {
	const (
		users = 50
		spam  = 200
		calls = 3 // per other user, within the burst
	)
	synctest.Test(t, func(t *testing.T) {
		// The tenant models Auth0's per-user bucket (10, one every 6 s):
		// the Handler's allowance stays under it, so no user ever meets it.
		f := newFixture(t, apitest.WithMemoryNetwork(), apitest.WithTLS(),
			apitest.WithCurrentUserLimit(apitest.DefaultCurrentUserBurst, apitest.DefaultCurrentUserPerMinute))
		h := f.handler(t, bff.Allow(bff.ReadProfile, bff.WriteMetadata))

		subs := make([]string, users)
		auth := map[string]string{} // Authorization header -> sub
		for i := range subs {
			subs[i] = fmt.Sprintf("auth0|user%02d", i)
			if err := f.tn.AddUser(apitest.User{ID: subs[i], Email: fmt.Sprintf("u%02d@example.com", i)}); err != nil {
				t.Fatal(err)
			}
			f.signIn(subs[i], allScopes...)
			tok, _ := f.sessions[subs[i]].Token()
			auth["Bearer "+tok.AccessToken] = subs[i]
		}
		spammer := subs[0]

		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[string]map[int]int{} // sub -> status -> count
		badRetryAfter := 0
		record := func(sub string, w int, retryAfter string) {
			mu.Lock()
			defer mu.Unlock()
			if statuses[sub] == nil {
				statuses[sub] = map[int]int{}
			}
			statuses[sub][w]++
			if s, err := strconv.Atoi(retryAfter); w == http.StatusTooManyRequests && (err != nil || s < 1 || s > 10) {
				badRetryAfter++
			}
		}
		wg.Go(func() {
			for range spam {
				w := serve(h, request("GET", "/me", spammer, ""))
				record(spammer, w.Code, w.Header().Get("Retry-After"))
				time.Sleep(300 * time.Millisecond)
			}
		})
		for _, sub := range subs[1:] {
			wg.Go(func() {
				for i := range calls {
					r := request("GET", "/me", sub, "")
					if i == 1 {
						r = request("PATCH", "/me/metadata", sub, `{"theme": "dark"}`)
					}
					w := serve(h, r)
					record(sub, w.Code, w.Header().Get("Retry-After"))
					time.Sleep(20 * time.Second)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)

		sent := map[string]int{}
		for _, r := range f.tn.Requests() {
			sent[auth[r.Header.Get("Authorization")]]++
			if r.Status == http.StatusTooManyRequests {
				t.Errorf("the tenant answered %s %s with 429", r.Method, r.EscapedPath)
			}
		}
		allowance := bff.DefaultUserBurst + int(elapsed/bff.DefaultUserInterval)
		t.Logf("%v elapsed: the spammer sent %d requests, of which %d reached the tenant (allowance %d); answers %v",
			elapsed, spam, sent[spammer], allowance, statuses[spammer])
		if sent[spammer] > allowance || sent[spammer] < bff.DefaultUserBurst {
			t.Errorf("the tenant received %d requests from the spammer, want between %d and %d", sent[spammer], bff.DefaultUserBurst, allowance)
		}
		if ok, limited := statuses[spammer][http.StatusOK], statuses[spammer][http.StatusTooManyRequests]; ok != sent[spammer] || ok+limited != spam {
			t.Errorf("the spammer's answers: %v, want %d 200s and the rest 429", statuses[spammer], sent[spammer])
		}
		if badRetryAfter > 0 {
			t.Errorf("%d 429 answers without a Retry-After of 1 to 10 seconds", badRetryAfter)
		}
		for _, sub := range subs[1:] {
			if statuses[sub][http.StatusOK] != calls || sent[sub] != calls {
				t.Errorf("%s: answers %v, %d requests sent; want %d calls through", sub, statuses[sub], sent[sub], calls)
			}
		}
		if sent[""] != 0 {
			t.Errorf("%d requests with an unknown token", sent[""])
		}
	})
}
