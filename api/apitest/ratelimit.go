package apitest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/auth0me/auth0me/internal/auth0limits"
	"github.com/auth0me/auth0me/internal/bearer"
)

// Plan is a tenant's global Management API bucket, as Auth0 sizes it per
// subscription plan (../shared/auth0/FACTS.md §4, "Management API limits by
// plan").
type Plan struct {
	Name      string
	Burst     int     // bucket size
	PerSecond float64 // sustained rate, tokens per second
}

// The plans Auth0 documents a Management API bucket for.
var (
	// PlanFree: burst 2, 2 per second.
	PlanFree = Plan{Name: "Free", Burst: 2, PerSecond: 2}
	// PlanEssentials: Essentials and Professional have no global row; their
	// "All other Endpoints Combined" bucket is burst 10, 150 per minute.
	PlanEssentials = Plan{Name: "Essentials/Professional", Burst: 10, PerSecond: 150.0 / 60}
	// PlanEnterpriseProduction: burst 50, 16 per second.
	PlanEnterpriseProduction = Plan{Name: "Enterprise production", Burst: 50, PerSecond: 16}
	// PlanEnterpriseNonProduction: burst 10, 2 per second.
	PlanEnterpriseNonProduction = Plan{Name: "Enterprise non-production", Burst: 10, PerSecond: 2}
	// PlanPrivateCloudDevelopment: Tier Dev Private Cloud, burst 20, 20 per
	// second.
	PlanPrivateCloudDevelopment = Plan{Name: "Private Cloud development", Burst: 20, PerSecond: 20}
)

// Auth0's per-user limit for calls made with current_user scopes: 10 per
// minute, which is also the burst.
const (
	DefaultCurrentUserBurst     = auth0limits.CurrentUserBurst
	DefaultCurrentUserPerMinute = auth0limits.CurrentUserPerMinute
)

// The messages of the two kinds of 429. The per-user one is the description
// Auth0 logs for it; the global one is a body seen from Auth0.
const (
	MessageGlobalLimit      = "Global limit has been reached"
	MessageCurrentUserLimit = "The current_user scope limit has been reached"
)

// WithRateLimit turns on the tenant's global bucket for /api/v2: it holds
// burst tokens and refills continuously at perSecond tokens per second of
// the tenant clock. It leaves the per-user bucket as it is (off unless
// WithCurrentUserLimit or WithPlan turns it on).
func WithRateLimit(burst int, perSecond float64) Option {
	return func(c *config) error {
		if burst < 1 || !(perSecond > 0) || math.IsInf(perSecond, 0) {
			return fmt.Errorf("apitest: rate limit needs burst >= 1 and a finite perSecond > 0, got %d and %v", burst, perSecond)
		}
		c.burst, c.perSecond = burst, perSecond
		return nil
	}
}

// WithCurrentUserLimit turns on the per-user bucket, one per token sub,
// holding burst tokens and refilled at perMinute tokens per minute of the
// tenant clock. Auth0's is DefaultCurrentUserBurst at
// DefaultCurrentUserPerMinute.
func WithCurrentUserLimit(burst int, perMinute float64) Option {
	return func(c *config) error {
		if burst < 1 || !(perMinute > 0) || math.IsInf(perMinute, 0) {
			return fmt.Errorf("apitest: current_user limit needs burst >= 1 and a finite perMinute > 0, got %d and %v", burst, perMinute)
		}
		c.userBurst, c.userPerMinute = burst, perMinute
		return nil
	}
}

// WithPlan sizes the global bucket as Auth0 does for plan and, as Auth0
// does for every plan, turns on the per-user bucket at Auth0's size unless
// WithCurrentUserLimit sets another (in either order).
func WithPlan(p Plan) Option {
	return func(c *config) error {
		if err := WithRateLimit(p.Burst, p.PerSecond)(c); err != nil {
			return err
		}
		c.plan = true
		return nil
	}
}

// bucket is a token bucket refilled continuously from the tenant clock.
// The tenant's mutex guards it.
type bucket struct {
	burst  float64
	rate   float64 // tokens per second
	tokens float64
	last   time.Time
}

func newBucket(burst int, perSecond float64, now time.Time) *bucket {
	return &bucket{burst: float64(burst), rate: perSecond, tokens: float64(burst), last: now}
}

// refill adds the tokens earned since the last call.
func (b *bucket) refill(now time.Time) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.burst, b.tokens+dt*b.rate)
		b.last = now
	}
}

// take takes one token if there is one.
func (b *bucket) take() bool {
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// full reports whether the bucket holds every token it can at now.
func (b *bucket) full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.burst
}

// setHeaders writes the bucket's X-RateLimit-* headers: its size, the whole
// tokens left, and the epoch second, rounded up, at which the next token is
// added (now when the bucket is full).
func (b *bucket) setHeaders(h http.Header, now time.Time) {
	next := now
	if b.tokens < b.burst {
		need := math.Floor(b.tokens) + 1 - b.tokens
		next = now.Add(time.Duration(need / b.rate * float64(time.Second)))
	}
	reset := next.Unix()
	if next.After(time.Unix(reset, 0)) {
		reset++
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(b.burst)))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(int(math.Floor(b.tokens))))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
}

// maxUserBuckets bounds how many per-user buckets the tenant keeps; full
// ones are forgotten first, as they hold nothing a new bucket would not.
const maxUserBuckets = 4096

// rateLimit takes a token from the global bucket, then from the bucket of
// the token's user, sets the X-RateLimit-* headers and, when either is
// empty, answers 429 and returns false. As Auth0 checks the global bucket
// first, a request refused by the per-user bucket has spent a global token.
func (t *Tenant) rateLimit(w http.ResponseWriter, r *http.Request) bool {
	if t.bucket == nil && t.userPerSecond == 0 {
		return true
	}
	sub := ""
	if t.userPerSecond > 0 {
		// An invalid token has no bucket: it is refused with 401 anyway.
		if c, err := t.authenticate(bearer.FromHeader(r.Header)); err == nil {
			sub = c.Subject
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if g := t.bucket; g != nil {
		g.refill(now)
		ok := g.take()
		g.setHeaders(w.Header(), now)
		if !ok {
			writeError(w, http.StatusTooManyRequests, MessageGlobalLimit, codeTooManyRequests)
			return false
		}
	}
	if sub == "" {
		return true
	}
	u := t.userBuckets[sub]
	if u == nil {
		if len(t.userBuckets) >= maxUserBuckets {
			for s, b := range t.userBuckets {
				if b.full(now) {
					delete(t.userBuckets, s)
				}
			}
		}
		u = newBucket(t.cfg.userBurst, t.userPerSecond, now)
		t.userBuckets[sub] = u
	}
	u.refill(now)
	if u.take() {
		return true
	}
	u.setHeaders(w.Header(), now)
	writeError(w, http.StatusTooManyRequests, MessageCurrentUserLimit, codeTooManyRequests)
	return false
}
