package apitest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// bucket is a token bucket refilled continuously from the tenant clock.
// The tenant's mutex guards it.
type bucket struct {
	burst  float64
	rate   float64 // tokens per second
	tokens float64
	last   time.Time
}

// take refills the bucket up to now, takes one token if there is one, and
// returns whether it did plus the header values to send.
func (b *bucket) take(now time.Time) (ok bool, remaining int, reset int64) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		ok = true
	}
	remaining = int(math.Floor(b.tokens))
	// The next token is added when the bucket reaches the next whole number.
	next := now
	if b.tokens < b.burst {
		need := math.Floor(b.tokens) + 1 - b.tokens
		next = now.Add(time.Duration(need / b.rate * float64(time.Second)))
	}
	reset = next.Unix()
	if next.After(time.Unix(reset, 0)) {
		reset++
	}
	return ok, remaining, reset
}

// rateLimit takes a token for an /api/v2 request, sets the X-RateLimit
// headers and reports whether the request may go on.
func (t *Tenant) rateLimit(w http.ResponseWriter) bool {
	if t.bucket == nil {
		return true
	}
	t.mu.Lock()
	ok, remaining, reset := t.bucket.take(t.now())
	t.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(t.bucket.burst)))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	return ok
}
