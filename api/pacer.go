package api

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// pacer spaces a Client's requests so that they meet Auth0's two
// rate-limit layers (FACTS.md §4) with few 429 answers: the user's own
// current_user bucket (10 requests per minute per user, burst 10) and the
// tenant's global Management API bucket, shared by every user and process.
//
// The algorithm: for each bucket the pacer keeps a mirror of the server's
// token bucket, a level that refills at a rate up to a size, from which each
// request this Client sends takes one token. A request goes when the mirror
// of every bucket it takes from holds a whole token; otherwise it waits
// until the mirrors say one is there. The mirrors differ in what they know:
//
//   - Per-user mirrors, one per token sub, start full at the size and rate
//     Auth0 documents (WithCurrentUserLimit changes them). Auth0 sends the
//     headers of a user's bucket only on the 429 that bucket causes, so the
//     mirror is the model: a Client that is the only one acting for a user
//     never meets that 429. The mirrors count every request but hold none
//     back until the Client knows the tenant rate-limits: an answer with
//     X-RateLimit-* headers, which Auth0 sends on every answer, arms them
//     all (WithCurrentUserLimit arms them from the start), and a user's
//     first 429 from that user's bucket arms that user's. A 429 from a
//     user's bucket otherwise means others act for the user too (another
//     process, another Client): the mirror is set to the level and reset
//     the 429 reports, and its rate is cut.
//   - The global mirror knows nothing before the first answer: until an
//     answer comes, one request is sent at a time, and then at most one
//     more than the answers received so far is in flight (TCP's slow
//     start: the window grows by one per answer), so that a
//     Client learns from answers whether others take from the bucket
//     before it has spent the burst. Every answer sets its size
//     (X-RateLimit-Limit) and level: X-RateLimit-Remaining, less this
//     Client's requests the server may have taken since it answered, which
//     are those still in flight and those answered while this one was out
//     (the server need not take requests in the order they were sent, and
//     answers overtake each other). An answer to a request during which
//     another came back is not the newest state seen: it may raise the
//     level, never lower it. An answer that shows the bucket empty holds
//     every request until its X-RateLimit-Reset: no token is added before.
//     The refill rate is measured from below: the rise of the level since
//     the bucket was last seen full (from when that request was sent, at
//     least a second before), plus this Client's requests since, less the
//     token of rounding and the requests that may have been counted twice,
//     measured only on answers that are the newest state seen; the highest
//     such bound is kept. The level and the rate are lower bounds, which
//     never send early, so a Client alone meets no 429. Until a rate is
//     measured, an empty mirror waits for X-RateLimit-Reset, the time Auth0
//     says a token is added.
//
// Where a bucket is shared with unknown others, the mirror does not count
// on the tokens it sees, which are others' as much as this Client's: it
// paces at this Client's share, a rate steered as TCP steers its window.
// The share starts at the bucket's rate as far as it is known (measured, or
// for the global bucket assumedRate) and follows additive increase and
// multiplicative decrease (AIMD): a sign of congestion halves it (once per
// share interval: requests sent together tell one thing), and every
// request the bucket let through adds a step to it, up to the bucket's
// rate as known. The signs of congestion are:
//
//   - a 429 the mirror did not predict (it held the token it took);
//   - for the global bucket, an answer whose level is below the mirror's
//     prediction (net of every request this Client sent, some of which
//     the answer may count) by the token of rounding and the refill while
//     the request was out, or more: others took tokens, which for a Client
//     alone never happens (as ECN marks a packet before a router drops
//     one). This is how a Client learns it is not alone; once the bucket
//     is shared it seldom comes, as the level a shared mirror holds is its
//     share's, at or below zero (ownShare);
//   - for a shared global bucket large enough to keep a reserve
//     (keepsReserve), an answer that shows it empty: the Clients sharing
//     it have spent the reserve they leave one another (see below).
//
// An answer that is the newest state seen, with no such sign, and shows
// the global bucket at growLevel of its size or more, counting this
// Client's requests in flight, shows that it refills faster than it is
// taken: the share doubles (once per share interval), and the rate known
// rises with it (TCP's slow start).
//
// Sends are jittered so that Clients that share a bucket do not line up. A
// shared mirror also takes, once per reset, the token Auth0 says it adds
// at the X-RateLimit-Reset of the latest answer: a Client whose share was
// cut low still comes back every second rather than every few, which
// keeps the bucket busy when others stop (it costs 429s when all come back
// at once: see the scenarios in goodput_test.go).
//
// What a shared global mirror's latest answer shows above a reserve (0.15
// of the bucket) is spent on top of the share, at a rate in proportion to
// it: Clients whose shares add up to the bucket's rate would otherwise
// leave the tokens they see unspent, and Clients together drain it faster
// the more of them there are, down to the reserve. On a bucket large
// enough to keep a reserve, that spending brings a Client back when others
// stop, and the reset's token is taken only while the latest answer showed
// the level at the reserve or above (comesBack).
//
// A bucket is taken as shared at the first sign of congestion, or after a
// first answer whose level shows others' requests (the mirror spends the
// level that answer shows: a fresh bucket's burst is there to be taken).
//
// Requests that wait take the global mirror's tokens in the order they
// came, among those whose user's mirror holds a token, until the bucket is
// taken as shared (see wait for why not after).
//
// No single pacing wait is longer than maxWait: a reset further away is read
// as maxWait away. (A reset a year away therefore costs maxWait, not a
// year; the answer to the request sent then corrects the mirror.)
//
// One pacer is shared by a Client and all its per-user views; it is safe for
// concurrent use.
type pacer struct {
	maxWait  time.Duration
	userSize float64 // per-user bucket size
	// armed: the per-user mirrors hold requests back. A Client arms them
	// when it learns the tenant rate-limits: an answer with X-RateLimit-*
	// headers (Auth0 sends them), or WithCurrentUserLimit.
	userRate float64 // per-user refill, tokens per second

	mu      sync.Mutex
	armed   bool
	users   map[string]*mirror
	global  mirror
	answers uint64        // attempts observed so far
	probe   bool          // a first request is out, before any answer
	changed chan struct{} // made by a wait that sleeps, closed by wake; nil when none sleeps
	// turns numbers the calls of wait in order; waiting holds those that
	// slept and have not returned, with their user's mirror (nil for none).
	turns   uint64
	waiting map[uint64]*mirror
	// deferred: a wait sleeps until those ahead of it take.
	deferred bool
}

// Tuning, each with its unit and reason.
const (
	// window is the shortest span over which the global refill rate is
	// measured: X-RateLimit-Remaining is a whole number, so over shorter
	// spans the token of rounding the estimate allows for is too large a
	// share of it.
	window = time.Second
	// cut is the multiplicative decrease of a shared bucket's share after a
	// sign of congestion (a factor): TCP's one half.
	cut = 0.5
	// raise is the additive increase of a shared bucket's share per request
	// it let through, as a fraction of the bucket's own rate: 1/64, so a
	// share halved from the whole rate takes 32 requests to come back, and
	// 64 Clients at equal shares grow together by one rate's worth per
	// round of requests.
	raise = 1.0 / 64
	// growLevel is the level, as a fraction of the bucket's size, at or
	// above which an answer (counting this Client's requests in flight as
	// tokens) doubles a shared global mirror's share: 4/5, nearly full, so
	// the share is too small to hold the level down, and the fifth left is
	// room for the doubling to show in the level before the bucket is
	// empty.
	growLevel = 0.8
	// assumedRate is the global bucket's rate a shared mirror counts on
	// until it measures one, in tokens per second: 2, the slowest refill
	// FACTS.md §4 lists for a plan's global bucket (Free, Enterprise
	// non-production). The share starts there and is steered from it.
	assumedRate = 2.0
	// minShare is the smallest share, as a fraction of the bucket's rate
	// (1/256): a floor so that a burst of 429s cannot stall the Client.
	minShare = 1.0 / 256
	// margin is waited past a reset or a computed refill time (a duration):
	// the server's clock and ours tick apart, and a token a little late
	// costs a 429.
	margin = 10 * time.Millisecond
	// jitterFrac spreads each wait of a shared bucket by up to this fraction
	// of the share interval (0 to 1), so that Clients do not send together:
	// a quarter. The spread is added to each wait, so it also slows a
	// Client below its share, by half the fraction at the mean. At a half,
	// 16 Clients on Enterprise production (S6) took 1.14× the minimum; at
	// a quarter, 1.08× (80 runs with -race each), with no 429 either way.
	// Less spread sends Clients together: at a fifth, two Clients serving
	// 25 users each (X1) met 429s for up to 7% of requests (40 runs),
	// against 1.5%.
	jitterFrac = 0.25
	// reserve is the level, as a fraction of the bucket's size and at
	// least one token, that a shared mirror leaves to others: 0.15 (7.5 of
	// Enterprise production's 50 tokens), the room for the requests that
	// Clients spending the level above it send before their answers show
	// it gone. What is left of it at the end is not spent: with a fifth,
	// 16 Clients on Enterprise production (S6) took 1.08× the minimum and
	// 8 Clients (X4) 1.53×; with 0.15, 1.07× and 1.43× (150 runs each).
	// With a tenth S6 took 1.18× (60 runs): Clients spending down to it
	// met the bucket empty more often, which cuts their shares.
	reserve = 0.15
	// spendRate is how fast a shared mirror spends the level above the
	// reserve when that is the whole bucket, in tokens per second, and in
	// proportion below (see boost): 16, Enterprise production's refill.
	// Without it, Clients whose shares add up to the bucket's rate leave
	// what they see in the bucket unspent: 16 Clients on Enterprise
	// production took 1.25× the minimum, leaving about 30 of 50 tokens,
	// and 8 Clients 2.07×; with it, 1.14× and 1.54× (80 runs; 8 or 32
	// were no better over 20).
	spendRate = 16.0
	// maxUsers bounds the per-user mirrors kept; full ones are dropped
	// first, as a new mirror starts full anyway.
	maxUsers = 4096
)

// mirror is the model of one server bucket.
type mirror struct {
	size  float64   // bucket size; 0 until known (global)
	full  float64   // the bucket's own refill as known, tokens/s; 0 until known (global)
	rate  float64   // refill counted on: full, or the share when shared
	level float64   // tokens at at, net of this Client's takes
	at    time.Time // when level was set
	reset time.Time // global: X-RateLimit-Reset of the last answer
	// empty is the X-RateLimit-Reset of the latest answer that showed the
	// bucket empty: no token is added before it. Zero when none.
	empty time.Time
	// resetTaken is the reset whose token a shared mirror has taken.
	resetTaken time.Time
	// inflight counts requests that took from the mirror and are not
	// answered yet.
	inflight int
	armed    bool // per-user: a 429 from this user's bucket was seen
	shared   bool
	// level0 is the level the latest answer showed (global).
	level0 float64
	// boost is added to a shared mirror's rate: the spending of the level
	// its latest answer showed above the reserve, in tokens per second.
	boost    float64
	lastCut  time.Time // when the share was last cut
	lastGrow time.Time // when the share was last doubled
	// The window of the rate measurement: level and time at its start, and
	// this Client's requests the bucket let through since.
	anchorLevel    float64
	anchorAt       time.Time
	anchorTook     int
	anchorInflight int
}

func newPacer(maxWait time.Duration, userBurst int, userPerMinute float64, armed bool) *pacer {
	return &pacer{
		armed:    armed,
		maxWait:  maxWait,
		userSize: float64(userBurst),
		userRate: userPerMinute / 60,
		users:    map[string]*mirror{},
		waiting:  map[uint64]*mirror{},
	}
}

// now returns the mirror's level at now. Without a measured rate the
// level rises only at X-RateLimit-Reset, by the one token Auth0 says is
// added then.
func (m *mirror) now(now time.Time) float64 {
	if m.rate <= 0 {
		if m.level < 1 && !m.reset.IsZero() && !now.Before(m.reset.Add(margin)) {
			return m.level + 1
		}
		return m.level
	}
	if !now.After(m.at) {
		return m.level
	}
	return min(m.size, m.level+(m.rate+m.boost)*now.Sub(m.at).Seconds())
}

// forever stands for "until an answer changes the mirror".
const forever = time.Duration(1<<63 - 1)

// delay is how long until the mirror holds a token; 0 when it does now.
func (m *mirror) delay(now time.Time) time.Duration {
	if m.size == 0 {
		return 0
	}
	var d time.Duration
	lv := m.now(now)
	switch {
	case m.holdsToken(now):
	case m.rate > 0:
		d = seconds((1-lv)/(m.rate+m.boost)) + margin
	case m.reset.IsZero() || !now.Before(m.reset.Add(margin)):
		if m.inflight > 0 {
			return forever // the reset's token is spent: wait for an answer
		}
		// Nothing will answer: a request finds out.
	default:
		d = m.reset.Add(margin).Sub(now) // a token is added at the reset
	}
	if !m.empty.IsZero() {
		// No token comes before the reset of a bucket seen empty.
		d = max(d, m.empty.Add(margin).Sub(now))
	}
	if d <= 0 {
		return 0
	}
	if m.shared && m.rate > 0 {
		d += seconds(jitterFrac / (m.rate + m.boost) * rand.Float64())
		if m.reset.After(now) && !m.reset.Equal(m.resetTaken) {
			// The reset's token (see resetDue), if sooner, spread over
			// the second after it.
			d = min(d, m.reset.Add(margin).Sub(now)+seconds(rand.Float64()))
		}
	}
	return max(d, time.Millisecond)
}

// holdsToken reports whether the mirror holds a token a request may take
// now: a whole one in its level, or the reset's (resetDue).
func (m *mirror) holdsToken(now time.Time) bool { return m.now(now) >= 1 || m.resetDue(now) }

// resetDue reports whether a shared mirror may take the token Auth0 says
// it adds at the reset of the latest answer: once per reset.
func (m *mirror) resetDue(now time.Time) bool {
	return m.shared && m.rate > 0 && m.comesBack() && !m.reset.IsZero() && !m.reset.Equal(m.resetTaken) && !now.Before(m.reset.Add(margin))
}

// comesBack reports whether a shared mirror takes the token of a reset
// (see resetDue). On a bucket too small to keep a reserve (the Free plan's
// 2 tokens) nothing else brings back a Client whose share was cut low. On a
// larger one, only while the latest answer showed the level at the reserve
// or above: below it the level is others' to spend, and the spending of
// what an answer shows above it brings a Client back as well. (Coming back
// at every reset regardless, 4 Clients × 10 users on Enterprise
// non-production met 429s for 47% of their requests; this way 8.6%.)
func (m *mirror) comesBack() bool {
	return !m.keepsReserve() || m.level0 >= reserve*m.size
}

// keepsReserve reports whether the mirror's bucket is large enough to keep
// a reserve of a whole token (7 tokens or more): Enterprise plans' global
// buckets (10 and 50 tokens), not the Free plan's (2), which is empty in
// full use.
func (m *mirror) keepsReserve() bool { return reserve*m.size >= 1 }

// take takes a token from the mirror.
func (m *mirror) take(now time.Time) {
	if m.size == 0 {
		return
	}
	if m.resetDue(now) {
		m.resetTaken = m.reset
	}
	if m.rate <= 0 && m.now(now) > m.level {
		m.reset = time.Time{} // the reset's token is taken
		m.level++
	}
	m.level, m.at = m.now(now)-1, now
	m.inflight++
}

// ticket is one request's claim on the mirrors, returned to observe.
type ticket struct {
	user *mirror // nil: no per-user bucket (no sub)
	took bool    // took from the global mirror (size known when sent)
	// counted: the global mirror held the token it took (a 429 then is
	// one the mirror did not predict).
	counted bool
	// answers is the pacer's count of attempts observed when it was sent;
	// sent is when.
	answers uint64
	sent    time.Time
}

// wait blocks until the mirrors let a request of user sub ("" for none) go,
// or until ctx ends, and takes its tokens. Each wait it computes is at most
// maxWait, as no mirror expects a token later than that (see horizon).
//
// Until the global bucket is taken as shared, waiting requests take the
// global mirror's tokens in the order they called wait, among those whose
// own user's mirror lets them go: a request whose user's bucket is empty
// does not hold up other users', and a user whose calls wait longest is
// served first. (Served at random instead, the users of one Client
// progress unevenly: a user left behind keeps a full bucket whose refill
// is lost, and finishes late.) A shared mirror's requests go at their
// jittered times, in no set order: served in turn, two Clients serving 25
// users each on Enterprise production (goodput_test.go's X1) met 429s for
// 4.3% of requests at the median instead of 1.0% (16.7% instead of 2.9% at
// most, 40 runs with -race). Why is not known: drawing each request's
// jitter once, or waking the first in turn when a token is there, did not
// change it.
func (p *pacer) wait(ctx context.Context, sub string) (ticket, error) {
	p.mu.Lock()
	turn := p.turns
	p.turns++
	for {
		now := time.Now()
		u := p.user(sub, now)
		d := p.global.delay(now)
		if p.global.size == 0 && p.probe && p.answers == 0 {
			d = forever // one request at a time until the first answer
		}
		if p.global.size > 0 && uint64(p.global.inflight) > p.answers {
			d = forever // one request more in flight per answer
		}
		if u != nil && p.holds(u) {
			d = max(d, u.delay(now))
		}
		if d <= 0 && !p.global.shared && p.queued(turn, now) {
			d = forever // the global tokens are those ahead's: wait until one takes
			p.deferred = true
		}
		if d <= 0 {
			t := ticket{user: u, took: p.global.size > 0, counted: p.global.holdsToken(now), answers: p.answers, sent: now}
			p.global.take(now)
			if u != nil {
				u.take(now)
			}
			if p.global.size == 0 {
				p.probe = true
			}
			p.leave(turn)
			p.mu.Unlock()
			return t, nil
		}
		p.waiting[turn] = u
		if p.changed == nil {
			p.changed = make(chan struct{})
		}
		changed := p.changed
		p.mu.Unlock()
		timer := time.NewTimer(min(d, p.maxWait))
		select {
		case <-timer.C:
		case <-changed:
			timer.Stop()
		case <-ctx.Done():
			timer.Stop()
			p.mu.Lock()
			p.leave(turn)
			p.mu.Unlock()
			return ticket{}, context.Cause(ctx)
		}
		p.mu.Lock()
	}
}

// leave removes turn from the waiting requests, waking those that wait
// for the requests ahead of them.
func (p *pacer) leave(turn uint64) {
	if _, ok := p.waiting[turn]; !ok {
		return
	}
	delete(p.waiting, turn)
	if p.deferred {
		p.deferred = false
		p.wake()
	}
}

// holds reports whether user mirror u holds requests back: once the Client
// knows the tenant rate-limits, or u's bucket answered 429.
func (p *pacer) holds(u *mirror) bool { return p.armed || u.armed }

// queued reports whether requests that called wait before turn, and that
// their users' mirrors let go now, need every whole token the global
// mirror holds. Only asked while the global bucket is not taken as shared,
// so there is no reset's token to count (resetDue).
func (p *pacer) queued(turn uint64, now time.Time) bool {
	if p.global.size == 0 {
		return false
	}
	ahead := 0
	for t, u := range p.waiting {
		if t < turn && (u == nil || !p.holds(u) || u.delay(now) <= 0) {
			ahead++
		}
	}
	if ahead == 0 {
		return false
	}
	return math.Floor(p.global.now(now)) < float64(ahead+1)
}

// wake wakes every wait that sleeps: the mirrors or the queue changed.
func (p *pacer) wake() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// user returns sub's mirror, made full on first use; nil for "".
func (p *pacer) user(sub string, now time.Time) *mirror {
	if sub == "" {
		return nil
	}
	if m := p.users[sub]; m != nil {
		return m
	}
	if len(p.users) >= maxUsers {
		for s, m := range p.users {
			if m.inflight == 0 && m.now(now) >= m.size {
				delete(p.users, s)
			}
		}
	}
	m := &mirror{size: p.userSize, full: p.userRate, rate: p.userRate, level: p.userSize, at: now}
	p.users[sub] = m
	return m
}

// answer is what the pacer reads from one attempt's outcome.
type answer struct {
	got       bool       // an answer came (false: the attempt failed)
	limited   bool       // status 429
	userLimit bool       // a 429 from the per-user bucket
	rl        *RateLimit // the headers, nil when absent
}

// readAnswer classifies an answer: a 429 whose message names the
// current_user limit comes from the user's bucket, and its headers describe
// that bucket; every other answer's headers describe the global bucket.
func readAnswer(resp *http.Response, body []byte) answer {
	if resp == nil {
		return answer{}
	}
	a := answer{got: true, limited: resp.StatusCode == http.StatusTooManyRequests, rl: parseRateLimit(resp.Header)}
	if a.limited {
		var eb errorBody
		if json.Unmarshal(body, &eb) == nil {
			a.userLimit = isUserLimit(eb.Message)
		}
	}
	return a
}

// isUserLimit reports whether a 429's message is Auth0's for the per-user
// bucket ("The current_user scope limit has been reached").
func isUserLimit(message string) bool {
	return strings.Contains(strings.ToLower(message), "current_user")
}

// observe updates the mirrors from the answer to a request wait let go. It
// must be called once for every such request.
func (p *pacer) observe(t ticket, a answer, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wake() // the mirrors change
	// Attempts observed since this one was sent: the server may have
	// taken them after it.
	overtaken := p.answers - t.answers
	p.answers++
	armedBefore := p.armed
	if a.rl != nil && !a.userLimit {
		p.armed = true // the global bucket's headers: the tenant rate-limits
	}
	g := &p.global
	if t.took && g.inflight > 0 {
		g.inflight--
	}
	if u := t.user; u != nil {
		if u.inflight > 0 {
			u.inflight--
		}
		switch {
		case a.userLimit && !armedBefore && !u.armed:
			// The first sign of the user's bucket: the mirror learns its
			// level, and paces from now on.
			u.armed = true
			p.sync(u, a.rl, now)
		case a.userLimit:
			p.limited(u, a.rl, now)
		case a.limited:
			// The global bucket refused it, and Auth0 checks that one
			// first: the user's bucket was not charged.
			u.level = min(u.size, u.level+1)
		case a.got && !a.limited && u.shared:
			u.rate = min(u.full, u.rate+raise*u.full)
		}
	}
	if !a.got || a.userLimit || a.rl == nil {
		// The request may still have taken a global token; the next answer
		// with headers tells.
		if a.userLimit {
			g.anchorTook++
		}
		return
	}
	p.observeGlobal(t, overtaken, a, now)
}

// sync sets a mirror to the level and reset a 429 from its bucket reports.
func (p *pacer) sync(m *mirror, rl *RateLimit, now time.Time) {
	level := 0.0
	if rl != nil {
		rl = p.horizon(rl, now)
		level = float64(rl.Remaining)
		if m.full > 0 {
			// The next token comes by the reset, so the part of it
			// already refilled is at least what the time left does not
			// cover.
			level += max(0, 1-m.full*rl.Reset.Sub(now).Seconds())
		}
	}
	m.level, m.at = level-float64(m.inflight), now
}

// limited corrects a mirror after a 429 from its bucket: the level and reset
// the answer reports, and a cut share.
func (p *pacer) limited(m *mirror, rl *RateLimit, now time.Time) {
	p.sync(m, rl, now)
	m.congested(now)
}

// observeGlobal updates the global mirror from an answer's headers;
// overtaken attempts were observed between the request's sending and its
// answer.
func (p *pacer) observeGlobal(t ticket, overtaken uint64, a answer, now time.Time) {
	g := &p.global
	rl := p.horizon(a.rl, now)
	obs := float64(rl.Remaining)
	g.level0 = obs
	if obs < 1 {
		g.empty = rl.Reset
	} else if rl.Reset.After(g.empty) {
		g.empty = time.Time{}
	}
	if g.size == 0 || !t.took {
		first := g.size == 0
		g.size, g.reset = float64(rl.Limit), rl.Reset
		g.level, g.at = obs-float64(g.inflight), now
		g.anchor(obs, t.sent)
		// A fresh bucket is full: a first answer that shows fewer tokens
		// than our requests took shows others' requests.
		if first && obs < g.size-1-float64(g.inflight) && !a.limited {
			g.share()
		}
		return
	}
	g.size, g.reset = float64(rl.Limit), rl.Reset
	if a.limited {
		g.boost = 0
		p.sync(g, rl, now)
		if g.full > 0 || t.counted {
			g.congested(now) // a 429 the mirror did not predict
		}
		return
	}
	g.anchorTook++
	if g.shared {
		g.rate = min(g.full, g.rate+raise*g.full)
	}
	// Others took tokens since the mirror last saw the bucket when the
	// level answered is below the prediction (net of every request this
	// Client sent, some of which the answer may count) by the token of
	// rounding and the refill while the request was out, or more: for a
	// Client alone it never is.
	predicted := g.now(now)
	others := predicted-obs >= 1+g.rate*now.Sub(t.sent).Seconds()
	// On a bucket large enough to keep a reserve, an answer that is the
	// newest state seen and shows a shared bucket empty is a sign too: the
	// Clients sharing it have spent the reserve they leave one another, and
	// the next request is likely to meet a 429.
	emptied := g.shared && overtaken == 0 && obs < 1 && g.keepsReserve()
	if others || emptied {
		g.congested(now)
	}
	// The server may have taken other requests after this one: those
	// still in flight, and those answered since it was sent (the server
	// need not take requests in the order they were sent, and answers
	// overtake each other). Each may have taken a token since.
	lb := obs - float64(g.inflight) - float64(overtaken)
	if overtaken > 0 {
		// Not the newest state the Client has seen: it may only add to
		// what the mirror knows.
		if lb > predicted {
			g.level, g.at = lb, now
		}
		g.ownShare()
		return
	}
	g.level, g.at = lb, now
	if !others && g.shared && obs+1+float64(g.inflight) >= growLevel*g.size && now.Sub(g.lastGrow) >= seconds(1/g.rate) {
		// The bucket was (nearly) full but for this Client's requests:
		// it refills faster than the share takes (slow start).
		g.rate *= 2
		g.full = max(g.full, g.rate)
		g.lastGrow = now
	}
	if g.shared {
		// Tokens above the reserve are nobody's yet: spend them on top of
		// the share, faster the more there are.
		g.boost = spendRate * max(0, obs-max(1, reserve*g.size)) / g.size
	}
	g.ownShare()
	if obs >= g.size {
		// A full bucket hides its refill: measure from here, from when
		// the request was sent (the server took it later).
		g.anchor(obs, t.sent)
		return
	}
	// The refill since the anchor, counted low: the anchor's level may
	// have been up to a token more than its whole number, and requests in
	// flight then may have been counted in it already.
	span := now.Sub(g.anchorAt)
	if span < window {
		return
	}
	if r := (obs - g.anchorLevel - 1 - float64(g.anchorInflight) + float64(g.anchorTook)) / span.Seconds(); r > g.full {
		g.full = r
		if !g.shared {
			g.rate = g.full
		}
	}
}

// share marks the mirror's bucket as shared with unknown others: from now
// on the mirror's rate is this Client's share, which starts at the
// bucket's rate as far as known (assumedRate when not measured).
func (m *mirror) share() {
	if m.shared {
		return
	}
	if m.full <= 0 {
		m.full = assumedRate
	}
	m.shared, m.rate = true, m.full
}

// congested reacts to a sign that others take from the mirror's bucket:
// the share is cut, once per share interval (requests sent together tell
// one thing).
func (m *mirror) congested(now time.Time) {
	m.share()
	if now.Sub(m.lastCut) >= seconds(1/m.rate) {
		m.rate = max(m.rate*cut, minShare*m.full)
		m.lastCut = now
	}
}

// ownShare keeps a shared mirror from counting on the tokens it sees: they
// are others' as much as this Client's, which paces at its share.
func (m *mirror) ownShare() {
	if m.shared {
		m.level = min(m.level, 0)
	}
}

// anchor starts a new measurement window at level obs, seen no sooner
// than at.
func (m *mirror) anchor(obs float64, at time.Time) {
	m.anchorLevel, m.anchorAt, m.anchorTook, m.anchorInflight = obs, at, 0, m.inflight
}

// horizon returns rl with its reset no further than maxWait from now.
func (p *pacer) horizon(rl *RateLimit, now time.Time) *RateLimit {
	if limit := now.Add(p.maxWait); rl.Reset.After(limit) {
		c := *rl
		c.Reset = limit
		return &c
	}
	return rl
}

func seconds(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

// sleep waits for d or until ctx ends. A d of zero or less returns at
// once, with ctx's cause if it has ended: no timer is made (a zero timer in
// a select crashed synctest bubbles under -race with Go 1.26.8).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
