package bench_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// This file simulates separate clients on one token bucket, to tell
// whether issue 11's target for separate Clients (429s beyond the blind
// starts under 5% of requests, completion within 1.5× the bucket's
// minimum) can be reached, and by what. Two kinds of scheme:
//
//   - Idealized: the clients know what no real Client knows: how many they
//     are (K) and the bucket's exact rate, and in the slot-reservation
//     scheme which slots the others won.
//   - Observing: each client uses only what a real one observes of its own
//     answers (status, X-RateLimit-Limit, -Remaining, -Reset), its clock
//     and randomness (simClient).
//
// Answers are instant. Pure arithmetic, no network, no clock: each run is
// determined by its seed.
//
// What the runs show: on the Free plan (burst 2) no observing scheme meets
// the target in S5 (K=4 × 10, K=16 × 6), and even the idealized client
// that knows K and the rate but not the others' phases misses it (K=16 in
// the median, K=4 at the 95th percentile); only slot reservation, which
// knows the others' wins, meets it. An answer there tells a client one thing about the others:
// whether the bucket was full (Remaining 1 after a 200) or empty (429).
// X-RateLimit-Reset adds nothing about them: the level's fraction is the
// refill's phase, which requests (whole tokens) do not move. A client
// needs a few such answers to learn its share, and has 5 to 9 after its
// blind start; a first frame short enough for K=4 floods K=16, one long
// enough for K=16 makes K=4 finish late. With longer runs (X3, K=2 × 100)
// or a deeper bucket whose Remaining reads the level (Enterprise
// non-production, burst 10) the level-targeting frame (frameClient)
// meets the target. Sending on a shared wall-clock grid does not help, and
// hurts X3, once requests arrive up to a millisecond apart (simJitter):
// the grid locks the refill's phase to the instants at which everyone
// sends, so a request a moment early finds the token not yet there.

// simBucket is apitest's bucket: burst tokens, refilled continuously at
// rate tokens per second, starting full; a request takes a whole token or
// is refused (429).
type simBucket struct {
	burst, rate, tokens, last float64
}

func (b *simBucket) take(now float64) bool {
	b.tokens = math.Min(b.burst, b.tokens+(now-b.last)*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// simAnswer is what a client observes of an answer: its status and
// X-RateLimit-* headers, as apitest sets them.
type simAnswer struct {
	ok        bool  // 200; otherwise 429
	limit     int   // X-RateLimit-Limit: the burst
	remaining int   // X-RateLimit-Remaining: whole tokens left after this request
	reset     int64 // X-RateLimit-Reset: the wall-clock second, rounded up, at which the next token is added
}

// answer is the answer to a request at now that the bucket let through
// (ok) or refused; clock is the wall clock at time 0.
func (b *simBucket) answer(ok bool, now, clock float64) simAnswer {
	next := now
	if b.tokens < b.burst {
		next += (math.Floor(b.tokens) + 1 - b.tokens) / b.rate
	}
	return simAnswer{ok: ok, limit: int(b.burst), remaining: int(b.tokens), reset: int64(math.Ceil(clock + next))}
}

// simCase is one scenario: k clients with n operations each (one request
// each when let through) on a bucket of burst at rate per second.
type simCase struct {
	name   string
	k, n   int
	burst  int
	rate   float64
	spread float64 // clients start at random times in [0, spread) seconds; 0: all at once
}

// minimum is the least time the bucket allows for all the requests.
func (c simCase) minimum() float64 {
	return math.Max(0, float64(c.k*c.n-c.burst)/c.rate)
}

// blind is issue 11's unavoidable 429s: one first request per client, of
// which only the burst can be let through.
func (c simCase) blind() int { return max(0, c.k-c.burst) }

// simRun is one run's outcome.
type simRun struct {
	requests, limited int
	ok                []int   // operations done, per client
	done              float64 // when the last operation was done, seconds
}

// simSend is one request a client means to send.
type simSend struct {
	at     float64
	tie    uint64 // random order among requests sent at the same time
	client int
}

func (s simSend) before(o simSend) bool {
	return s.at < o.at || s.at == o.at && s.tie < o.tie
}

// split sends each client's share of the burst at time 0 (perfect
// knowledge of K and the burst: burst/K each, fewer when that is more
// than its operations), as the idealized schemes do before pacing.
func split(c simCase, b *simBucket, r *simRun, rng *rand.Rand) {
	each := min(c.n, c.burst/c.k)
	order := rng.Perm(c.k)
	for range each {
		for _, i := range order {
			r.requests++
			if b.take(0) {
				r.ok[i]++
			} else {
				r.limited++
			}
		}
	}
}

// periodic: each client sends at rate/K, at a random phase within the
// period K/rate, after its share of the burst at time 0; a 429 is retried
// at the client's next period.
func periodic(c simCase, rng *rand.Rand) simRun {
	b := &simBucket{burst: float64(c.burst), rate: c.rate, tokens: float64(c.burst)}
	r := simRun{ok: make([]int, c.k)}
	split(c, b, &r, rng)
	period := float64(c.k) / c.rate
	next := make([]simSend, c.k)
	for i := range next {
		next[i] = simSend{at: rng.Float64() * period, tie: rng.Uint64(), client: i}
	}
	for {
		first := -1
		for i, s := range next {
			if r.ok[i] < c.n && (first < 0 || s.before(next[first])) {
				first = i
			}
		}
		if first < 0 {
			return r
		}
		s := next[first]
		r.requests++
		if b.take(s.at) {
			r.ok[first]++
			r.done = math.Max(r.done, s.at)
		} else {
			r.limited++
		}
		next[first] = simSend{at: s.at + period, tie: rng.Uint64(), client: first}
	}
}

// reservation is R-ALOHA: time is cut into slots of 1/rate (one token
// each) and frames of K slots. After its share of the burst, each client
// picks a random slot of the first frame; one whose request went through
// keeps its slot in the next frame; one answered 429 picks at random among
// the slots that no client won in the frame before, or whose winner has
// finished (perfect knowledge of the others' outcomes), or any slot if
// none is free.
func reservation(c simCase, rng *rand.Rand) simRun {
	b := &simBucket{burst: float64(c.burst), rate: c.rate, tokens: float64(c.burst)}
	r := simRun{ok: make([]int, c.k)}
	split(c, b, &r, rng)
	slot := make([]int, c.k)
	for i := range slot {
		slot[i] = rng.IntN(c.k)
	}
	won := make([]bool, c.k) // whether the client's request in its slot went through
	for frame := 0; ; frame++ {
		var sends []simSend
		for i := range c.k {
			if r.ok[i] < c.n {
				at := (float64(frame*c.k+slot[i]) + 0.5) / c.rate
				sends = append(sends, simSend{at: at, tie: rng.Uint64(), client: i})
			}
		}
		if len(sends) == 0 {
			return r
		}
		slices.SortFunc(sends, func(x, y simSend) int {
			if x.before(y) {
				return -1
			}
			return 1
		})
		taken := make([]bool, c.k) // slots won in this frame by a client that goes on
		for _, s := range sends {
			r.requests++
			won[s.client] = b.take(s.at)
			if won[s.client] {
				r.ok[s.client]++
				r.done = math.Max(r.done, s.at)
				if r.ok[s.client] < c.n {
					taken[slot[s.client]] = true
				}
			} else {
				r.limited++
			}
		}
		var free []int
		for s, t := range taken {
			if !t {
				free = append(free, s)
			}
		}
		for i := range c.k {
			if r.ok[i] < c.n && !won[i] {
				if len(free) > 0 {
					slot[i] = free[rng.IntN(len(free))]
				} else {
					slot[i] = rng.IntN(c.k)
				}
			}
		}
	}
}

// simClient is one client of a scheme that uses only what a real client
// observes: the answers to its own requests, its clock (the wall clock, in
// seconds) and randomness. It knows neither K nor the others' sends nor
// the rate (it assumes assumedRate until it measures one).
type simClient interface {
	// answered is told the answer to the request sent at now and returns
	// when to send the next (a time before now means now).
	answered(now float64, a simAnswer) float64
}

// assumedRate is the refill a client assumes: the slowest plan's, the Free
// plan's 2 tokens per second.
const assumedRate = 2.0

// observing runs a scheme whose clients each start at a random time in
// [0, c.spread) and then send when they say (each request reaching the
// bucket up to simJitter later), until each has done c.n operations. The
// wall clock's seconds tick at a random phase.
func observing(newClient func(simCase, *rand.Rand) simClient) func(simCase, *rand.Rand) simRun {
	return func(c simCase, rng *rand.Rand) simRun {
		b := &simBucket{burst: float64(c.burst), rate: c.rate, tokens: float64(c.burst)}
		r := simRun{ok: make([]int, c.k)}
		clock := rng.Float64()
		clients := make([]simClient, c.k)
		next := make([]simSend, c.k)
		for i := range clients {
			clients[i] = newClient(c, rng)
			next[i] = simSend{at: rng.Float64()*c.spread + rng.Float64()*simJitter, tie: rng.Uint64(), client: i}
		}
		for {
			first := -1
			for i, s := range next {
				if r.ok[i] < c.n && (first < 0 || s.before(next[first])) {
					first = i
				}
			}
			if first < 0 || next[first].at > simGiveUp {
				return r
			}
			s := next[first]
			r.requests++
			ok := b.take(s.at)
			if ok {
				r.ok[first]++
				r.done = math.Max(r.done, s.at)
			} else {
				r.limited++
			}
			at := clients[first].answered(clock+s.at, b.answer(ok, s.at, clock)) - clock
			next[first] = simSend{at: math.Max(s.at, at) + rng.Float64()*simJitter, tie: rng.Uint64(), client: first}
		}
	}
}

// simJitter is the most a request takes to reach the bucket after the time
// its client chose, in seconds (random, uniform): on a network no two
// requests arrive at the same instant, nor exactly when a client aimed.
const simJitter = 1e-3

// simGiveUp ends a run whose clients have stalled, in seconds.
const simGiveUp = 1e5

// headersClient trusts the headers as if it were alone (what a client
// library does): it sends at once while Remaining says a token is left,
// otherwise at Reset; after a 429 it waits a random time in a window that
// doubles with each 429 in a row (exponential backoff) and halves on a 200.
type headersClient struct {
	rng    *rand.Rand
	window float64 // seconds
}

func (h *headersClient) answered(now float64, a simAnswer) float64 {
	if !a.ok {
		h.window = min(64, 2*h.window)
		return float64(a.reset) + h.rng.Float64()*h.window
	}
	h.window = max(1, h.window/2)
	if a.remaining > 0 {
		return now
	}
	return float64(a.reset)
}

// spare reports whether an answer shows capacity going unused: a 200 that
// leaves the bucket at least half full (on the Free plan's burst of 2: it
// was full, so it had stopped refilling).
func spare(a simAnswer) bool {
	return a.ok && a.remaining >= max(1, a.limit/2)
}

// slot is the time one token takes at assumedRate, the unit in which the
// observing schemes count their periods.
const slot = 1 / assumedRate

// slotsClient is self-organizing slots: a client keeps a period and a
// phase. After a 200 it sends again exactly one period later (it keeps its
// slot), and a 200 that shows spare capacity shortens the period by a
// quarter; after a 429 it doubles the period (up to 64 s) and picks a new
// phase at random within it. It starts at one slot (assuming it is alone).
type slotsClient struct {
	rng    *rand.Rand
	period float64 // seconds
}

func (s *slotsClient) answered(now float64, a simAnswer) float64 {
	if !a.ok {
		s.period = min(64, 2*s.period)
		return now + s.rng.Float64()*s.period
	}
	if spare(a) {
		s.period = max(slot, s.period*0.75)
	}
	return now + s.period
}

// aimdClient steers its rate by the level (additive increase,
// multiplicative decrease on Remaining, not only on 429): a 200 that shows
// spare capacity raises the rate by a sixteenth of assumedRate, a 200 that
// shows none cuts it by 15%, a 429 halves it; the rate stays within
// [assumedRate/64, assumedRate]. Each send is jittered by ±half an
// interval so that clients do not line up.
type aimdClient struct {
	rng  *rand.Rand
	rate float64 // requests per second
}

func (m *aimdClient) answered(now float64, a simAnswer) float64 {
	switch {
	case !a.ok:
		m.rate /= 2
	case spare(a):
		m.rate += assumedRate / 16
	default:
		m.rate *= 0.85
	}
	m.rate = min(assumedRate, max(assumedRate/64, m.rate))
	return now + (0.5+m.rng.Float64())/m.rate
}

// alohaClient is slotted ALOHA with the sending probability learned from
// the answers: in each slot it sends with probability p (it waits a
// geometric number of slots); a 429 halves p, a 200 with spare capacity
// raises it by a quarter (up to 1), a 200 without cuts it by a tenth.
type alohaClient struct {
	rng *rand.Rand
	p   float64
}

func (c *alohaClient) answered(now float64, a simAnswer) float64 {
	switch {
	case !a.ok:
		c.p /= 2
	case spare(a):
		c.p = min(1, c.p*1.25)
	default:
		c.p *= 0.9
	}
	c.p = max(1.0/256, c.p)
	n := 1
	if c.p < 1 {
		n += int(math.Log(1-c.rng.Float64()) / math.Log(1-c.p))
	}
	return now + float64(n)*slot
}

// frameClient keeps a phase in a frame and steers the frame's length by
// the level (level-targeting slots). Its rules:
//
//   - The first request goes at once (blind). The frame is then
//     frameAfterWin slots if it was let through, frameAfter429 if not, and
//     the next request goes at a random time within the next frame.
//   - After a 200 the next request goes exactly one frame later (the
//     client keeps its phase). A 200 that shows spare capacity first
//     shortens the frame to frameShrink of itself (at least one slot); one
//     that does not lengthens it by frameGrow.
//   - After a 429 the frame grows by frame429 (up to 512 slots) and the
//     next request goes at a random time within the next frame.
//
// With grid set, every send goes at the start of a slot of the wall
// clock's grid (whole seconds and halves, which X-RateLimit-Reset shows
// every client), so that clients share slots: frames are whole slots and
// the random time is a random slot.
type frameClient struct {
	rng   *rand.Rand
	grid  bool
	frame float64 // slots; 0 before the first answer
}

const (
	frameAfterWin = 4    // slots (2 s at 2/s)
	frameAfter429 = 16   // slots: others are there, so that their second requests rarely meet
	frameShrink   = 0.75 // after a 200 with spare capacity
	frameGrow     = 1.1  // after a 200 without
	frame429      = 2    // after a 429
)

func (c *frameClient) answered(now float64, a simAnswer) float64 {
	next := func(slots float64) float64 { return now + slots*slot }
	if c.grid {
		next = func(slots float64) float64 {
			return (math.Floor(now/slot+1e-9) + math.Max(1, math.Round(slots))) * slot
		}
	}
	switch {
	case c.frame == 0 && a.ok:
		c.frame = frameAfterWin
	case c.frame == 0:
		c.frame = frameAfter429
	case !a.ok:
		c.frame = min(512, c.frame*frame429)
	case spare(a):
		c.frame = max(1, c.frame*frameShrink)
		return next(c.frame)
	default:
		c.frame *= frameGrow
		return next(c.frame)
	}
	if c.grid {
		return next(float64(1 + c.rng.IntN(int(math.Round(c.frame)))))
	}
	return next(c.rng.Float64() * c.frame)
}

// knownShareClient is idealized: it knows K and the rate, and sends
// periodically at knownShare of the bucket's rate, shared evenly, at a
// random phase, which it keeps while it gets 200s and picks again at
// random after a 429 (and after its blind first request). It does not
// know the others' phases.
type knownShareClient struct {
	rng     *rand.Rand
	period  float64 // seconds
	started bool
}

// knownShare is the share of the bucket's rate knownShareClient paces at:
// room for 1.25× completion, less than issue 11's 1.5×.
const knownShare = 0.8

func (c *knownShareClient) answered(now float64, a simAnswer) float64 {
	if !c.started || !a.ok {
		c.started = true
		return now + c.rng.Float64()*c.period
	}
	return now + c.period
}

// quantile returns the q-quantile of sorted xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	return xs[min(len(xs)-1, int(math.Ceil(q*float64(len(xs))))-1)]
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// TestSharedBucketSimulation runs each scheme 1000 times (seeds 1–1000) on
// issue 11's separate-Client scenarios and two more (the observing
// schemes on S5 also with starts spread over a second) and logs the medians and 95th percentiles
// of the 429s beyond the blind starts (as a share of the requests) and of
// completion ÷ the bucket's minimum. It asserts only the simulation's
// invariants: every operation is done exactly once, the requests are the
// operations plus the 429s, and no run beats the bucket's minimum.
func TestSharedBucketSimulation(t *testing.T) {
	t.Parallel()
	cases := []simCase{
		{name: "S5 K=4 × 10, Free (burst 2, 2/s)", k: 4, n: 10, burst: 2, rate: 2},
		{name: "S5 K=16 × 6, Free (burst 2, 2/s)", k: 16, n: 6, burst: 2, rate: 2},
		{name: "X3 K=2 × 100, Free (burst 2, 2/s)", k: 2, n: 100, burst: 2, rate: 2},
		{name: "K=4 × 40, Enterprise non-production (burst 10, 2/s)", k: 4, n: 40, burst: 10, rate: 2},
		// Beyond issue 11's scenarios: a client alone (which a scheme must
		// not slow down), and K between S5's two.
		{name: "K=1 × 40, Free (burst 2, 2/s)", k: 1, n: 40, burst: 2, rate: 2},
		{name: "K=8 × 10, Free (burst 2, 2/s)", k: 8, n: 10, burst: 2, rate: 2},
		{name: "S6 K=16 × 10, Enterprise production (burst 50, 16/s)", k: 16, n: 10, burst: 50, rate: 16},
	}
	for _, c := range cases[:2] { // S5, where the blind starts weigh most
		c.name += ", starts spread over 1 s"
		c.spread = 1
		cases = append(cases, c)
	}
	schemes := []struct {
		name string
		run  func(simCase, *rand.Rand) simRun
		// observing: the scheme runs on observing's clients, which model
		// start offsets; the others start all clients at 0.
		observing bool
	}{
		{"periodic at rate/K, random phase", periodic, false},
		{"slot reservation (R-ALOHA)", reservation, false},
		{"known K and rate: periodic at 0.8 of rate/K, random phase kept on 200", observing(func(c simCase, rng *rand.Rand) simClient {
			return &knownShareClient{rng: rng, period: float64(c.k) / (knownShare * c.rate)}
		}), true},
		{"observing: headers as if alone, exponential backoff", observing(func(_ simCase, rng *rand.Rand) simClient {
			return &headersClient{rng: rng, window: 1}
		}), true},
		{"observing: self-organizing slots", observing(func(_ simCase, rng *rand.Rand) simClient {
			return &slotsClient{rng: rng, period: slot}
		}), true},
		{"observing: AIMD on Remaining", observing(func(_ simCase, rng *rand.Rand) simClient {
			return &aimdClient{rng: rng, rate: assumedRate}
		}), true},
		{"observing: slotted ALOHA, p from answers", observing(func(_ simCase, rng *rand.Rand) simClient {
			return &alohaClient{rng: rng, p: 1}
		}), true},
		{"observing: level-targeting frame", observing(func(_ simCase, rng *rand.Rand) simClient {
			return &frameClient{rng: rng}
		}), true},
		{"observing: level-targeting frame on the wall clock's slot grid", observing(func(_ simCase, rng *rand.Rand) simClient {
			return &frameClient{rng: rng, grid: true}
		}), true},
	}
	for _, c := range cases {
		for _, sc := range schemes {
			if c.spread > 0 && !sc.observing || c.rate != assumedRate && sc.observing {
				// The observing clients assume the Free plan's rate; S6's
				// bucket is faster, and measuring a rate is not modelled.
				continue
			}
			shares, ratios := simulate(t, c, sc.name, sc.run)
			t.Logf("%s, %s: 429s beyond the blind starts %.1f%% mean, %.1f%% median, %.1f%% p95, %.1f%% max; completion %.2f× median, %.2f× p95, %.2f× max (%d runs)",
				c.name, sc.name, 100*mean(shares), 100*quantile(shares, 0.5), 100*quantile(shares, 0.95), 100*shares[len(shares)-1],
				quantile(ratios, 0.5), quantile(ratios, 0.95), ratios[len(ratios)-1], len(shares))
			// What the file concludes, on S5: only slot reservation meets
			// the target at the median; no scheme that only observes does.
			if !strings.HasPrefix(c.name, "S5") {
				continue
			}
			meets := meetsTarget(shares, ratios)
			switch {
			case sc.name == "slot reservation (R-ALOHA)" && !meets:
				t.Errorf("%s, %s: misses the target at the median, which the file says it meets", c.name, sc.name)
			case strings.HasPrefix(sc.name, "observing:") && meets:
				t.Errorf("%s, %s: meets the target at the median, which the file says no observing scheme does", c.name, sc.name)
			}
		}
	}
}

// TestSharedBucketKnownShare runs the idealized knownShareClient on S5 at
// shares of the rate from a half to all of it, to tell whether knowing K
// and the rate is enough: no share meets issue 11's target for K=16 in
// the median, nor for K=4 at the 95th percentile (see the log).
func TestSharedBucketKnownShare(t *testing.T) {
	t.Parallel()
	cases := []simCase{
		{name: "S5 K=4 × 10", k: 4, n: 10, burst: 2, rate: 2},
		{name: "S5 K=16 × 6", k: 16, n: 6, burst: 2, rate: 2},
	}
	for _, share := range []float64{0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1} {
		for _, c := range cases {
			name := fmt.Sprintf("known K and rate, periodic at %.2f of rate/K", share)
			shares, ratios := simulate(t, c, name, observing(func(c simCase, rng *rand.Rand) simClient {
				return &knownShareClient{rng: rng, period: float64(c.k) / (share * c.rate)}
			}))
			t.Logf("%s, %s: 429s beyond the blind starts %.1f%% median, %.1f%% p95; completion %.2f× median, %.2f× p95",
				c.name, name, 100*quantile(shares, 0.5), 100*quantile(shares, 0.95), quantile(ratios, 0.5), quantile(ratios, 0.95))
			if c.k == 16 && meetsTarget(shares, ratios) {
				t.Errorf("%s, %s: meets the target at the median, which the file says no share does for K=16", c.name, name)
			}
		}
	}
}

// meetsTarget reports whether the median run meets issue 11's target for
// separate Clients: 429s beyond the blind starts under 5% of requests,
// completion within 1.5× the minimum.
func meetsTarget(shares, ratios []float64) bool {
	return quantile(shares, 0.5) < 0.05 && quantile(ratios, 0.5) <= 1.5
}

// simulate runs a scheme on c 1000 times (seeds 1–1000), fails the test
// when a run breaks the simulation's invariants, and returns each run's
// 429s beyond the blind starts as a share of its requests, and its
// completion ÷ the bucket's minimum, both sorted.
func simulate(t *testing.T, c simCase, scheme string, run func(simCase, *rand.Rand) simRun) (shares, ratios []float64) {
	t.Helper()
	for seed := range uint64(1000) {
		r := run(c, rand.New(rand.NewPCG(seed+1, 0)))
		ops := 0
		for i, n := range r.ok {
			if n != c.n {
				t.Fatalf("%s, %s, seed %d: client %d did %d operations, want %d", c.name, scheme, seed+1, i, n, c.n)
			}
			ops += n
		}
		if r.requests != ops+r.limited {
			t.Fatalf("%s, %s, seed %d: %d requests, want %d operations + %d 429s", c.name, scheme, seed+1, r.requests, ops, r.limited)
		}
		if r.done < c.minimum()-1e-9 {
			t.Fatalf("%s, %s, seed %d: done at %.3f s, before the bucket's minimum %.3f s", c.name, scheme, seed+1, r.done, c.minimum())
		}
		shares = append(shares, float64(max(0, r.limited-c.blind()))/float64(r.requests))
		ratios = append(ratios, r.done/c.minimum())
	}
	slices.Sort(shares)
	slices.Sort(ratios)
	return shares, ratios
}
