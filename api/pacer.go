package api

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// pacer spaces requests so that clients sharing one tenant's rate-limit
// bucket spend few requests on 429 answers, without talking to each other.
//
// X-RateLimit-Reset has one-second granularity, so a client that waits for
// it whenever the bucket is empty gets one burst per second. The pacer
// instead paces from what every answer reveals: the bucket's size
// (X-RateLimit-Limit), its level (X-RateLimit-Remaining), and how the level
// moves between answers net of this client's own requests.
//
//   - The first answer tells whether others share the bucket: it was full
//     unless they took from it. Later answers tell it too: refill only adds,
//     so a level below what this client's own requests (this one and those
//     still in flight, when alone also the measured refill) explain means
//     others took tokens; so does a 429 that those requests do not explain.
//     Many goroutines of one Client sending together are one client, not
//     a crowd, and their 429s cut the rate once, not once each.
//   - Alone, the pacer spends at once down to half the bucket, then predicts
//     the level from the measured recovery and sends whenever it predicts
//     more than half the bucket (at least one request) is there. A bucket
//     seen full hides how fast it refills, so the estimate is then raised.
//   - In a crowd, requests are spaced at the pacer's rate, with jitter, and
//     only a share of the level above half is spent at once. The rate is
//     steered after every answer by the level against half full (scaled by
//     the time since the last answer) and by how the level moved. Every
//     client sees the same level, so all scale their rates by the same
//     factor and the sum of many clients' rates behaves like one client's.
//   - Nothing is spent at once during a short warm-up after the first
//     answer, so that clients starting together do not take the tokens
//     others' first requests need.
//   - When an answer said the bucket was empty and no recovery has been
//     measured yet, the pacer waits for X-RateLimit-Reset, as Auth0
//     documents, instead of spending a request on a 429; in a crowd, with
//     jitter so that the waiters do not all come back at once.
//
// One pacer is shared by a Client and all its per-user views; it is safe for
// concurrent use. The zero value is ready to use.
type pacer struct {
	mu sync.Mutex

	known bool      // an answer with rate-limit headers has been seen
	first time.Time // when it came
	limit float64   // bucket size
	level float64   // remaining at the last observation
	at    time.Time // when the last observation was made
	reset time.Time // X-RateLimit-Reset of the last observation
	// inflight counts the requests let go whose answers have not been
	// observed: one Client may have many at once, and the level an answer
	// reports may or may not include them.
	inflight int
	burst    int       // requests spent at once, above the target level, since the last observation
	lastCut  time.Time // when a 429 last cut the rate

	// crowd estimates how many clients share the bucket; 1 means alone.
	crowd float64
	// recov is the bucket's recovery net of this client's requests, in
	// requests per second; 0 until measured.
	recov float64
	rate  float64   // pace in a crowd, requests per second
	next  time.Time // earliest time for the next paced request

	// The anchor of the current recovery-measurement window.
	anchorLevel float64
	anchorAt    time.Time
	anchorTook  int // answers since the anchor that took a token
}

// Tuning. They were chosen by simulation and the goodput test (K clients
// against apitest's burst 10 at 100/s) and Auth0's Free plan (burst 2, 2/s).
const (
	// minWindow is the shortest span over which recovery is measured;
	// X-RateLimit-Remaining is an integer, so shorter is too noisy.
	minWindow = 50 * time.Millisecond
	// maxPace bounds any single pacing wait.
	maxPace = 10 * time.Second
	// minRate is the slowest pace, in requests per second.
	minRate = 0.05
	// kp scales the rate's response to the level against the target, per
	// second; kd its response to the level's movement.
	kp, kd = 5.0, 0.5
	// target is the level, as a fraction of the bucket, the pacer aims at.
	// Tokens above it are not wasted and a level near zero costs 429s.
	target = 0.5
	// maxStep bounds the time one answer's level is taken to stand for.
	maxStep = 200 * time.Millisecond
	// initRate is the first pace in a crowd, in buckets per second.
	initRate = 0.5
	// backoff429 cuts the rate after a 429.
	backoff429 = 0.7
	// crowdDecay shrinks the crowd estimate when the bucket is seen full.
	crowdDecay = 0.5
	// warmup is how long after the first answer nothing is spent at once.
	warmup = 20 * time.Millisecond
	// resetSpread is the jitter, in seconds, added to a wait for the reset.
	resetSpread = 0.5
	// minRecovered is how many tokens a window must see recovered before
	// its rate is read (unless it lasted a second).
	minRecovered = 3.0
	// resetMargin is waited past X-RateLimit-Reset.
	resetMargin = 5 * time.Millisecond
	// recovAlpha smooths the measured recovery.
	recovAlpha = 0.5
	// probeUp raises the recovery estimate when the bucket was seen to fill
	// up, which hides how fast it refills.
	probeUp = 1.5
)

// wait blocks until the pacer lets a request go, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	for {
		d := p.reserve(time.Now())
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

func jitter(d time.Duration, frac float64) time.Duration {
	return time.Duration(float64(d) * (1 - frac + 2*frac*rand.Float64()))
}

func seconds(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

// reserve counts a request as started and returns zero when it may go now,
// or how long to wait before asking again.
func (p *pacer) reserve(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		p.inflight++
		return 0
	}
	d := p.delay(now)
	if d <= 0 {
		p.inflight++
		return 0
	}
	return min(d, maxPace)
}

func (p *pacer) delay(now time.Time) time.Duration {
	avail := p.level - float64(p.inflight)
	warm := p.first.Add(warmup)
	if p.crowd < 1.5 {
		// Alone: spend down to a margin, predicting the refill.
		if p.recov > 0 {
			avail = min(p.limit, p.level+p.recov*now.Sub(p.at).Seconds()) - float64(p.inflight)
		}
		need := max(1, p.limit*target)
		if avail >= need {
			if now.Before(warm) {
				return warm.Sub(now)
			}
			return 0
		}
		if p.recov > 0 {
			return max(seconds((need-avail)/p.recov*1.01), time.Millisecond)
		}
		if avail >= 1 {
			// Probe, to measure the recovery.
			if now.Before(p.next) {
				return p.next.Sub(now)
			}
			p.next = now.Add(minWindow)
			return 0
		}
		// A little past the reset: the token it announces may land on it.
		if d := p.reset.Add(resetMargin).Sub(now); d > 0 {
			return d
		}
		return 0
	}
	// In a crowd.
	spendAbove := max(1, p.limit-p.limit*(1-target)/p.crowd)
	if avail >= spendAbove {
		if !now.Before(warm) {
			p.burst++
			return 0
		}
		if now.Before(p.next) {
			return min(p.next.Sub(now), warm.Sub(now))
		}
	}
	if avail < 1 {
		if p.recov <= 0 {
			if d := p.reset.Add(resetMargin).Sub(now); d > 0 {
				return d + seconds(rand.Float64()*resetSpread)
			}
		} else if ready := p.at.Add(seconds((1 - avail) / p.rate)); now.Before(ready) {
			return ready.Sub(now)
		}
	}
	if now.Before(p.next) {
		return p.next.Sub(now)
	}
	gap := jitter(seconds(1/p.rate), 0.2)
	if earliest := now.Add(-gap / 2); p.next.Before(earliest) {
		p.next = earliest
	}
	p.next = p.next.Add(gap)
	return 0
}

// observe updates the model from an answer's headers; it must be called
// once for every request reserve let go, with a nil h when the attempt got
// no answer.
func (p *pacer) observe(h http.Header, status int, now time.Time) {
	l, r, reset, ok := parseLimits(h, now)
	limited := status == http.StatusTooManyRequests
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight > 0 {
		p.inflight--
	}
	if !ok {
		return
	}
	level, limit := float64(r), float64(l)
	if !p.known || now.Before(p.at) {
		p.known, p.first, p.limit = true, now, limit
		// The bucket was full unless others took from it.
		took := limit - level
		if limited {
			took = limit + 1
		}
		p.crowd = max(1, took)
		p.rate = limit * initRate
		p.next = now.Add(jitter(seconds(1/p.rate), 0.5))
		p.level, p.at, p.reset, p.burst = level, now, reset, 0
		p.anchorLevel, p.anchorAt, p.anchorTook = level, now, 0
		return
	}
	dt := now.Sub(p.at)
	// Refill only adds: a level below what our own requests explain (this
	// one, and those still in flight, which the server may have taken
	// before it) means others took from the bucket.
	own := 1 + float64(p.inflight)
	expect := p.level - own
	if p.crowd < 1.5 && p.recov > 0 {
		expect = min(p.limit, p.level+p.recov*dt.Seconds()) - own
	}
	if limited {
		expect++ // this request took nothing
	}
	// A 429 counts only when the level and our requests in flight said a
	// request was there: a burst of our own requests explains the rest.
	if others := expect - level; others >= 1 {
		if p.crowd < 1.5 {
			// Newly in a crowd: pace at a share of what we measured.
			c := max(2, 1+others)
			if p.recov > 0 {
				p.rate = max(p.recov/c, minRate)
			}
			p.next = now.Add(jitter(seconds(1/p.rate), 0.5))
		}
		p.crowd = max(p.crowd, 1+others, 2)
	}
	moved := level - p.level + float64(p.burst)
	p.limit, p.level, p.at, p.reset = limit, level, now, reset
	p.burst = 0
	half := p.limit / 2
	if limited {
		// One cut per pacing interval: the 429s of requests sent together
		// tell one thing.
		if now.Sub(p.lastCut) >= seconds(1/p.rate) {
			p.rate = max(p.rate*backoff429, minRate)
			p.lastCut = now
		}
		p.next = now.Add(jitter(seconds(1/p.rate), 0.5))
		p.anchorLevel, p.anchorAt, p.anchorTook = level, now, 0
		return
	}
	p.anchorTook++
	if p.crowd >= 1.5 {
		// Steer the rate by the level against the target and by its
		// movement. Both are the same for every client sharing the
		// bucket, so all scale by the same factor and their sum behaves
		// as one client's rate.
		step := min(dt, maxStep).Seconds()
		p.rate *= math.Exp(kp*step*(level-target*p.limit)/half + kd*moved/half)
		p.rate = min(max(p.rate, minRate), 1000*p.limit)
	}
	span := now.Sub(p.anchorAt)
	if span < minWindow {
		return
	}
	// A full bucket hides refill.
	full := level >= p.limit-1 && p.anchorLevel >= p.limit-1
	got := level - p.anchorLevel + float64(p.anchorTook)
	if got < minRecovered && span < time.Second && !full {
		return // too few tokens yet to read a rate from integer levels
	}
	recovered := got / span.Seconds()
	p.anchorLevel, p.anchorAt, p.anchorTook = level, now, 0
	switch {
	case recovered <= 0:
	case full || level >= p.limit-1:
		// The bucket filled up in the window, so it refilled faster than
		// we took: the sample is only a lower bound. Probe above it.
		p.recov = max(p.recov*probeUp, recovered)
	case p.recov == 0:
		p.recov = recovered
	default:
		p.recov += recovAlpha * (recovered - p.recov)
	}
	if level >= p.limit-1 && p.crowd >= 1.5 {
		p.crowd = max(2, p.crowd*crowdDecay)
	}
}

// parseLimits reads the X-RateLimit-* headers; ok is false when they are
// absent or malformed.
func parseLimits(h http.Header, now time.Time) (limit, remaining int, reset time.Time, ok bool) {
	ls, rs := h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining")
	if ls == "" || rs == "" {
		return 0, 0, time.Time{}, false
	}
	l, err1 := strconv.Atoi(ls)
	r, err2 := strconv.Atoi(rs)
	if err1 != nil || err2 != nil || l <= 0 || r < 0 || r > l {
		return 0, 0, time.Time{}, false
	}
	reset = now
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
		reset = time.Unix(s, 0)
	}
	return l, r, reset, true
}

// retryAfter is how long to wait before retrying after a 429.
func (p *pacer) retryAfter(e *Error, now time.Time) time.Duration {
	if e.RetryAfter > 0 {
		return min(e.RetryAfter, maxPace)
	}
	p.mu.Lock()
	next, known, measured := p.next, p.known, p.recov > 0
	p.mu.Unlock()
	if known && measured {
		return min(max(next.Sub(now), time.Millisecond), maxPace)
	}
	if e.RateLimit != nil {
		if d := e.RateLimit.Reset.Add(resetMargin).Sub(now); d > 0 {
			return min(d+seconds(rand.Float64()*resetSpread), maxPace)
		}
	}
	return 0
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
