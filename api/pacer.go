package api

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// pacer spaces requests so that clients sharing one tenant's rate-limit
// bucket spend few requests on 429 answers, without talking to each other.
//
// X-RateLimit-Reset has one-second granularity, so waiting for it whenever
// the bucket is empty allows one burst per second. The pacer instead models
// the bucket from what every answer reveals: its size (X-RateLimit-Limit),
// its level (X-RateLimit-Remaining) and how fast the level recovers between
// answers, net of this client's own requests. That recovery rate is the
// refill rate less what other clients take, which is exactly the share this
// client can use. Before a request the pacer predicts the current level; when
// it predicts less than one request (plus a margin that grows with 429s and
// shrinks with successes), it waits until the model says one is there.
// Until it has a rate estimate it falls back to the documented behaviour and
// waits for X-RateLimit-Reset when an answer said the bucket was empty.
//
// One pacer is shared by a Client and all its per-user views.
type pacer struct {
	mu sync.Mutex

	known     bool      // an answer with rate-limit headers has been seen
	limit     float64   // bucket size
	level     float64   // remaining at the last observation
	at        time.Time // when the last observation was made
	reset     time.Time // X-RateLimit-Reset of the last observation
	sentSince int       // requests started since the last observation

	rate float64 // estimated usable refill, requests per second; 0 unknown

	// The anchor of the current rate-estimation window.
	anchorLevel float64
	anchorAt    time.Time
	anchorSeen  int // answers observed since the anchor

	margin float64 // extra requests kept in reserve; grows with 429s
}

// minWindow is the shortest span over which the refill rate is estimated;
// X-RateLimit-Remaining is an integer, so shorter spans are too noisy.
const minWindow = 50 * time.Millisecond

// maxPace bounds any single pacing wait.
const maxPace = 10 * time.Second

// wait blocks until the model predicts the bucket holds a request for this
// client, or ctx ends.
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

// reserve counts a request as started and returns zero when it may go now,
// or how long to wait before asking again.
func (p *pacer) reserve(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		p.sentSince++
		return 0
	}
	avail := p.level - float64(p.sentSince)
	if p.rate > 0 {
		avail = min(p.limit, p.level+p.rate*now.Sub(p.at).Seconds()) - float64(p.sentSince)
	}
	need := 1 + p.margin
	if avail >= need {
		p.sentSince++
		return 0
	}
	var d time.Duration
	if p.rate > 0 {
		d = time.Duration((need - avail) / p.rate * float64(time.Second))
		// Jitter desynchronises clients that observed the same answer.
		d += time.Duration(rand.Float64() * float64(time.Second) / p.rate)
	} else {
		d = p.reset.Sub(now)
		if d <= 0 {
			// The reset has passed: at least one request was added.
			p.level, p.at = max(p.level, 1), now
			p.sentSince = 0
			return 0
		}
	}
	return min(max(d, time.Millisecond), maxPace)
}

// observe updates the model from an answer's headers.
func (p *pacer) observe(h http.Header, status int, now time.Time) {
	l, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	r, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err1 != nil || err2 != nil || l <= 0 || r < 0 {
		return
	}
	reset := now
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		reset = time.Unix(s, 0)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	level := float64(r)
	if !p.known || now.Before(p.anchorAt) {
		p.known = true
		p.anchorLevel, p.anchorAt, p.anchorSeen = level, now, 0
	} else {
		p.anchorSeen++
		if span := now.Sub(p.anchorAt); span >= minWindow {
			// Recovery net of our own answers; a full bucket hides refill.
			if r < l-1 {
				sample := (level - p.anchorLevel + float64(p.anchorSeen)) / span.Seconds()
				if sample > 0 {
					if p.rate == 0 {
						p.rate = sample
					} else {
						p.rate = 0.7*p.rate + 0.3*sample
					}
				}
			}
			p.anchorLevel, p.anchorAt, p.anchorSeen = level, now, 0
		}
	}
	p.limit, p.level, p.at, p.reset = float64(l), level, now, reset
	p.sentSince = 0
	if status == http.StatusTooManyRequests {
		p.margin = min(p.margin+1, p.limit/2)
	} else if p.margin > 0 {
		p.margin = max(p.margin-0.05, 0)
	}
}

// retryAfter is how long to wait before retrying after a 429: Retry-After
// when the answer has it, the model's estimate when it has a rate, else the
// reset time.
func (p *pacer) retryAfter(e *Error, now time.Time) time.Duration {
	if e.RetryAfter > 0 {
		return min(e.RetryAfter, maxPace)
	}
	p.mu.Lock()
	rate := p.rate
	p.mu.Unlock()
	if rate > 0 {
		return time.Duration((1 + rand.Float64()) / rate * float64(time.Second))
	}
	if e.RateLimit != nil {
		if d := e.RateLimit.Reset.Sub(now); d > 0 {
			return min(d, maxPace)
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
