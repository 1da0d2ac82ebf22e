package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// epoch is a whole second, as at the start of a synctest bubble.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// rateHeaders returns X-RateLimit-* headers as Auth0 sends them.
func rateHeaders(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

// testBucket is the token bucket apitest and Auth0 implement: burst
// tokens, refilled continuously at rate per second.
type testBucket struct {
	burst, rate, tokens float64
	last                time.Time
}

func newTestBucket(burst int, rate float64, now time.Time) *testBucket {
	return &testBucket{burst: float64(burst), rate: rate, tokens: float64(burst), last: now}
}

// take answers a request at now: its status and headers.
func (b *testBucket) take(now time.Time) (int, http.Header) {
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	status := http.StatusTooManyRequests
	if b.tokens >= 1 {
		b.tokens--
		status = http.StatusOK
	}
	next := now
	if b.tokens < b.burst {
		next = now.Add(time.Duration((math.Floor(b.tokens) + 1 - b.tokens) / b.rate * float64(time.Second)))
	}
	reset := next.Truncate(time.Second)
	if next.After(reset) {
		reset = reset.Add(time.Second)
	}
	return status, rateHeaders(int(b.burst), int(math.Floor(b.tokens)), reset)
}

// send waits as the pacer says from now, then sends one request to b and
// lets the pacer observe the answer. It returns when the request was sent
// and its status.
func send(t *testing.T, p *pacer, b *testBucket, now time.Time) (time.Time, int) {
	t.Helper()
	for range 1000 {
		d := p.reserve(now)
		if d <= 0 {
			status, h := b.take(now)
			p.observe(h, status, now)
			return now, status
		}
		if d > maxPace {
			t.Fatalf("reserve asked for %v, over maxPace", d)
		}
		now = now.Add(d)
	}
	t.Fatal("reserve never let a request go")
	return now, 0
}

func TestPacerBeforeAnyAnswerSendsAtOnce(t *testing.T) {
	t.Parallel()
	var p pacer
	for i := range 3 {
		if d := p.reserve(epoch); d != 0 {
			t.Fatalf("request %d: reserve = %v before any answer, want 0", i, d)
		}
	}
}

func TestPacerFirstAnswer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		remaining int
		status    int
		wantCrowd bool
	}{
		{"full bucket less our request: alone", 9, http.StatusOK, false},
		{"others took from the bucket", 5, http.StatusOK, true},
		{"a 429", 0, http.StatusTooManyRequests, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var p pacer
			p.reserve(epoch)
			p.observe(rateHeaders(10, tc.remaining, epoch.Add(time.Second)), tc.status, epoch)
			if got := p.crowd >= 1.5; got != tc.wantCrowd {
				t.Errorf("crowd = %v after Remaining %d, status %d; want crowded %v", p.crowd, tc.remaining, tc.status, tc.wantCrowd)
			}
		})
	}
}

func TestPacerWarmupBeforeSpendingAtOnce(t *testing.T) {
	t.Parallel()
	var p pacer
	p.reserve(epoch)
	p.observe(rateHeaders(10, 9, epoch.Add(time.Second)), http.StatusOK, epoch)
	if d := p.reserve(epoch); d <= 0 || d > warmup {
		t.Errorf("reserve right after the first answer = %v, want a wait in (0, %v]", d, warmup)
	}
	at := epoch.Add(warmup)
	for i := range 5 {
		// Down to half the bucket: no wait.
		if d := p.reserve(at); d != 0 {
			t.Fatalf("request %d after the warm-up: reserve = %v, want 0", i, d)
		}
	}
	if d := p.reserve(at); d == 0 {
		t.Errorf("spent below half the bucket before any refill was measured")
	}
}

// TestPacerEmptyBucketWaitsForReset: an answer saying the bucket is empty,
// with no recovery measured, makes the next request wait for the reset.
func TestPacerEmptyBucketWaitsForReset(t *testing.T) {
	t.Parallel()
	var p pacer
	p.reserve(epoch)
	reset := epoch.Add(2 * time.Second)
	p.observe(rateHeaders(1, 0, reset), http.StatusOK, epoch)
	now := epoch.Add(300 * time.Millisecond)
	if d, want := p.reserve(now), reset.Add(resetMargin).Sub(now); d != want {
		t.Errorf("reserve = %v, want %v (until X-RateLimit-Reset and a margin)", d, want)
	}
	if d := p.reserve(reset.Add(resetMargin)); d != 0 {
		t.Errorf("reserve at the reset = %v, want 0", d)
	}
}

// TestPacerMeasuredRatePredictsEarlier: once the recovery is measured, an
// empty bucket is waited out for the predicted time, not until the reset
// second, and no request meets a 429.
func TestPacerMeasuredRatePredictsEarlier(t *testing.T) {
	t.Parallel()
	var p pacer
	b := newTestBucket(4, 2, epoch)
	now := epoch
	var sentAt []time.Time
	for i := range 20 {
		at, status := send(t, &p, b, now)
		if status != http.StatusOK {
			t.Fatalf("request %d at %v: status %d", i, at.Sub(epoch), status)
		}
		sentAt = append(sentAt, at)
		now = at
	}
	if p.recov <= 0 {
		t.Fatal("no recovery measured after 20 requests")
	}
	if math.Abs(p.recov-2) > 0.4 {
		t.Errorf("measured recovery %.2f/s, the bucket refills at 2/s", p.recov)
	}
	// The requests follow the refill: the bucket allows 20 in 8s.
	if took := sentAt[len(sentAt)-1].Sub(epoch); took < 8*time.Second || took > 10*time.Second {
		t.Errorf("20 requests took %v, the bucket allows them in 8s", took)
	}
	// An empty bucket, now measured: the pacer waits for the predicted
	// refill, not until X-RateLimit-Reset.
	now = sentAt[len(sentAt)-1]
	p.reserve(now)
	p.observe(rateHeaders(4, 0, now.Add(5*time.Second)), http.StatusOK, now)
	if d, want := p.reserve(now), seconds(p.limit*target/p.recov); d <= 0 || d > want*11/10 {
		t.Errorf("reserve on an empty, measured bucket = %v, want about %v", d, want)
	}
}

func TestPacer429(t *testing.T) {
	t.Parallel()
	t.Run("unmeasured: the reset, with jitter", func(t *testing.T) {
		t.Parallel()
		var p pacer
		p.reserve(epoch)
		reset := epoch.Add(time.Second)
		p.observe(rateHeaders(10, 0, reset), http.StatusTooManyRequests, epoch)
		e := &Error{StatusCode: http.StatusTooManyRequests, RateLimit: &RateLimit{Limit: 10, Remaining: 0, Reset: reset}}
		for range 20 {
			if d := p.retryAfter(e, epoch); d < time.Second || d > time.Second+resetMargin+seconds(resetSpread) {
				t.Fatalf("retryAfter = %v, want within [1s, 1s+%vs]", d, resetSpread)
			}
		}
		if d := p.reserve(epoch); d < time.Second {
			t.Errorf("reserve after a 429 = %v, want at least until the reset", d)
		}
	})
	t.Run("Retry-After wins", func(t *testing.T) {
		t.Parallel()
		var p pacer
		e := &Error{StatusCode: http.StatusTooManyRequests, RetryAfter: 3 * time.Second}
		if d := p.retryAfter(e, epoch); d != 3*time.Second {
			t.Errorf("retryAfter = %v, want 3s", d)
		}
	})
	t.Run("no headers: zero, for the caller's backoff", func(t *testing.T) {
		t.Parallel()
		var p pacer
		if d := p.retryAfter(&Error{StatusCode: http.StatusTooManyRequests}, epoch); d != 0 {
			t.Errorf("retryAfter = %v, want 0", d)
		}
	})
	t.Run("measured: the next slot, and the rate cut", func(t *testing.T) {
		t.Parallel()
		var p pacer
		b := newTestBucket(10, 100, epoch)
		now := epoch
		for range 40 {
			now, _ = send(t, &p, b, now)
		}
		if p.recov <= 0 {
			t.Fatal("no recovery measured")
		}
		crowdBefore := p.crowd
		p.reserve(now)
		p.observe(rateHeaders(10, 0, now.Add(time.Second)), http.StatusTooManyRequests, now)
		if p.crowd < 1.5 || p.crowd < crowdBefore {
			t.Errorf("crowd = %v after a 429, want at least 2", p.crowd)
		}
		if p.rate >= p.recov {
			t.Errorf("rate %.2f after a 429, want a share of the measured %.2f", p.rate, p.recov)
		}
		rate := p.rate
		p.reserve(now)
		p.observe(rateHeaders(10, 0, now.Add(time.Second)), http.StatusTooManyRequests, now)
		if p.rate != rate {
			t.Errorf("rate %.2f after a second 429 in the same interval, want %.2f: requests sent together tell one thing", p.rate, rate)
		}
		later := now.Add(seconds(2 / rate))
		p.reserve(later)
		p.observe(rateHeaders(10, 0, later.Add(time.Second)), http.StatusTooManyRequests, later)
		if p.rate >= rate {
			t.Errorf("rate %.2f after a 429 one interval later, was %.2f", p.rate, rate)
		}
		e := &Error{StatusCode: http.StatusTooManyRequests, RateLimit: &RateLimit{Limit: 10, Reset: now.Add(time.Second)}}
		if d := p.retryAfter(e, now); d <= 0 || d >= time.Second {
			t.Errorf("retryAfter = %v, want the next slot, before the reset", d)
		}
	})
	t.Run("a 429 takes no token", func(t *testing.T) {
		t.Parallel()
		var p pacer
		p.reserve(epoch)
		p.observe(rateHeaders(10, 9, epoch.Add(time.Second)), http.StatusOK, epoch)
		p.reserve(epoch.Add(100 * time.Millisecond))
		p.observe(rateHeaders(10, 0, epoch.Add(time.Second)), http.StatusTooManyRequests, epoch.Add(100*time.Millisecond))
		if p.anchorTook != 0 {
			t.Errorf("a 429 was counted as a request that took a token")
		}
	})
}

func TestPacerCrowdFromLevelDrops(t *testing.T) {
	t.Parallel()
	var p pacer
	p.reserve(epoch)
	p.observe(rateHeaders(10, 9, epoch.Add(time.Second)), http.StatusOK, epoch)
	at := epoch.Add(warmup)
	p.reserve(at)
	// One request of ours, but the level fell by 5: others took 4.
	p.observe(rateHeaders(10, 4, epoch.Add(time.Second)), http.StatusOK, at)
	if p.crowd < 5 {
		t.Errorf("crowd = %v after others took 4 tokens, want at least 5", p.crowd)
	}
}

func TestPacerIgnoresMalformedHeaders(t *testing.T) {
	t.Parallel()
	valid := rateHeaders(10, 5, epoch.Add(time.Second))
	with := func(key, value string) http.Header {
		h := valid.Clone()
		if value == "" {
			h.Del(key)
		} else {
			h.Set(key, value)
		}
		return h
	}
	cases := []struct {
		name string
		h    http.Header
	}{
		{"none", http.Header{}},
		{"no limit", with("X-RateLimit-Limit", "")},
		{"no remaining", with("X-RateLimit-Remaining", "")},
		{"limit not a number", with("X-RateLimit-Limit", "ten")},
		{"remaining not a number", with("X-RateLimit-Remaining", "5.5")},
		{"limit zero", with("X-RateLimit-Limit", "0")},
		{"limit negative", with("X-RateLimit-Limit", "-10")},
		{"remaining negative", with("X-RateLimit-Remaining", "-1")},
		{"remaining over limit", with("X-RateLimit-Remaining", "11")},
		{"huge", with("X-RateLimit-Limit", "99999999999999999999999")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var p pacer
			p.observe(tc.h, http.StatusOK, epoch)
			p.observe(tc.h, http.StatusTooManyRequests, epoch)
			if p.known {
				t.Errorf("headers %v were taken as a rate-limit answer", tc.h)
			}
			if d := p.reserve(epoch); d != 0 {
				t.Errorf("reserve = %v after malformed headers, want 0", d)
			}
		})
	}
	t.Run("malformed reset", func(t *testing.T) {
		t.Parallel()
		var p pacer
		p.observe(with("X-RateLimit-Reset", "soon"), http.StatusOK, epoch)
		if !p.known || p.reset.After(epoch) {
			t.Errorf("known %v, reset %v: want the answer used, with no reset ahead", p.known, p.reset)
		}
	})
}

// TestPacerConcurrent drives one pacer from many goroutines, as a Client's
// views do; run with -race.
func TestPacerConcurrent(t *testing.T) {
	t.Parallel()
	var p pacer
	var mu sync.Mutex
	b := newTestBucket(10, 100, epoch)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			now := epoch
			for i := range 100 {
				now = now.Add(time.Duration(g+i) * time.Millisecond)
				if d := p.reserve(now); d > 0 {
					now = now.Add(d)
					continue
				}
				mu.Lock()
				status, h := b.take(now)
				mu.Unlock()
				p.observe(h, status, now)
				if status == http.StatusTooManyRequests {
					p.retryAfter(&Error{StatusCode: status, RateLimit: parseRateLimit(h)}, now)
				}
			}
		})
	}
	wg.Wait()
	if !p.known || p.rate <= 0 || math.IsNaN(p.rate) || math.IsInf(p.rate, 0) {
		t.Errorf("after concurrent use: known %v, rate %v", p.known, p.rate)
	}
}

// TestPacerOwnBurstIsNotACrowd: one Client's goroutines sending together
// drain the bucket themselves; their answers, 429s included, must not read
// as other clients, nor cut the rate once per 429.
func TestPacerOwnBurstIsNotACrowd(t *testing.T) {
	t.Parallel()
	var p pacer
	b := newTestBucket(10, 100, epoch)
	const n = 16
	for range n {
		if d := p.reserve(epoch); d != 0 {
			t.Fatalf("reserve before any answer = %v, want 0", d)
		}
	}
	limited := 0
	for range n {
		status, h := b.take(epoch)
		if status == http.StatusTooManyRequests {
			limited++
		}
		p.observe(h, status, epoch)
	}
	if limited != n-10 {
		t.Fatalf("%d answers were 429, want %d", limited, n-10)
	}
	if p.crowd >= 1.5 {
		t.Errorf("crowd = %v after our own burst, want alone", p.crowd)
	}
	if p.inflight != 0 {
		t.Errorf("inflight = %d after every answer, want 0", p.inflight)
	}
}

// TestPacerUnansweredAttemptsReportBack: an attempt that got no answer
// (a refusal, a dropped connection) still ends its reservation.
func TestPacerUnansweredAttemptsReportBack(t *testing.T) {
	t.Parallel()
	var p pacer
	p.reserve(epoch)
	p.observe(rateHeaders(10, 9, epoch.Add(time.Second)), http.StatusOK, epoch)
	now := epoch.Add(warmup)
	for range 5 { // alone, 9 left: spent at once while half is there
		if d := p.reserve(now); d != 0 {
			t.Fatalf("reserve = %v, want 0", d)
		}
	}
	if d := p.reserve(now); d == 0 {
		t.Fatal("a sixth request went at once, below half the bucket")
	}
	for range 5 {
		p.observe(nil, 0, now)
	}
	if p.inflight != 0 {
		t.Errorf("inflight = %d, want 0", p.inflight)
	}
	if d := p.reserve(now); d != 0 {
		t.Errorf("reserve = %v after the unanswered attempts ended, want 0", d)
	}
}

// TestPacerProbesAboveAFullBucket: a bucket seen full hides how fast it
// refills, so a low estimate is raised rather than kept.
func TestPacerProbesAboveAFullBucket(t *testing.T) {
	t.Parallel()
	var p pacer
	b := newTestBucket(10, 100, epoch)
	now := epoch
	for range 40 {
		now, _ = send(t, &p, b, now)
	}
	p.recov = 5 // as if a first, capped window had read 5/s
	now = now.Add(time.Second)
	for range 3 {
		now, _ = send(t, &p, b, now.Add(200*time.Millisecond))
	}
	if p.recov <= 5 {
		t.Errorf("recovery estimate %.1f after seeing the bucket full, want it raised above 5", p.recov)
	}
}
