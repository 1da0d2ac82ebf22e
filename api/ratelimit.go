package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"
)

// This file is the one place that reads Auth0's rate-limit headers; the
// pacer, the retries and *Error all go through it.

// RateLimit is what an answer's X-RateLimit-* headers said.
type RateLimit struct {
	Limit     int       // the bucket size (burst)
	Remaining int       // requests left in the bucket
	Reset     time.Time // when the next request is added to the bucket
}

// parseRateLimit reads the X-RateLimit-* headers: all three must be there,
// as decimal integers with 1 <= Limit, 0 <= Remaining <= Limit and
// Reset >= 0 (epoch seconds). Otherwise it returns nil.
func parseRateLimit(h http.Header) *RateLimit {
	// Names in net/http's canonical form, which Get then uses as they are.
	ls, rs, ss := h.Get("X-Ratelimit-Limit"), h.Get("X-Ratelimit-Remaining"), h.Get("X-Ratelimit-Reset")
	if ls == "" || rs == "" || ss == "" {
		return nil // most answers of a tenant that does not rate-limit
	}
	l, err1 := strconv.Atoi(ls)
	r, err2 := strconv.Atoi(rs)
	s, err3 := strconv.ParseInt(ss, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || l < 1 || r < 0 || r > l || s < 0 {
		return nil
	}
	return &RateLimit{Limit: l, Remaining: r, Reset: time.Unix(s, 0)}
}

// maxDuration is the longest time.Duration.
const maxDuration = time.Duration(math.MaxInt64)

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date, and
// returns zero when it is absent, malformed or in the past. It saturates:
// a delay too long for a time.Duration gives the longest one, never a
// shorter or negative wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || s > uint64(maxDuration/time.Second) {
			return maxDuration
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now) // Sub saturates
	}
	return 0
}
