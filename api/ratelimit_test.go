package api

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestParseRetryAfterSaturates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{"9223372036", 9223372036 * time.Second},
		{"9223372037", maxDuration},  // one second past what a Duration holds
		{"9300000000", maxDuration},  // issue 12's case
		{"18446744074", maxDuration}, // 2^64 ns in seconds, rounded up
		{"99999999999999999999999", maxDuration},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tc.v, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	h := func(l, r, s string) http.Header {
		return http.Header{"X-Ratelimit-Limit": {l}, "X-Ratelimit-Remaining": {r}, "X-Ratelimit-Reset": {s}}
	}
	if got := parseRateLimit(h("10", "3", "1764590400")); got == nil || *got != (RateLimit{10, 3, time.Unix(1764590400, 0)}) {
		t.Errorf("parseRateLimit = %+v", got)
	}
	for _, bad := range []http.Header{
		{}, h("10", "3", ""), h("0", "0", "1"), h("10", "11", "1"), h("10", "-1", "1"),
		h("10", "3", "-1"), h("x", "3", "1"), h("10", "3.5", "1"),
	} {
		if got := parseRateLimit(bad); got != nil {
			t.Errorf("parseRateLimit(%v) = %+v, want nil", bad, got)
		}
	}
}

// FuzzRateLimitHeaders: the one header parser never panics, never returns
// a negative wait, and what it accepts obeys its documented bounds.
func FuzzRateLimitHeaders(f *testing.F) {
	f.Add("10", "3", "1764590400", "5")
	f.Add("2", "0", "99999999999999999999", "18446744074")
	f.Add("", "", "", "Wed, 21 Oct 2026 07:28:00 GMT")
	f.Add("+1", "0", "0", "9300000000")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, l, r, s, ra string) {
		h := http.Header{}
		h.Set("X-RateLimit-Limit", l)
		h.Set("X-RateLimit-Remaining", r)
		h.Set("X-RateLimit-Reset", s)
		if rl := parseRateLimit(h); rl != nil {
			if rl.Limit < 1 || rl.Remaining < 0 || rl.Remaining > rl.Limit || rl.Reset.Before(time.Unix(0, 0)) {
				t.Errorf("accepted %q %q %q as %+v", l, r, s, rl)
			}
		}
		if d := parseRetryAfter(ra, now); d < 0 {
			t.Errorf("parseRetryAfter(%q) = %v", ra, d)
		} else if n, err := strconv.ParseUint(ra, 10, 64); err == nil && d < time.Duration(min(n, uint64(maxDuration/time.Second)))*time.Second {
			t.Errorf("parseRetryAfter(%q) = %v, shorter than asked", ra, d)
		}
	})
}
