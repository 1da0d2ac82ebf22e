package api

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

// Coalescing (on unless WithoutCoalescing): a user's calls that wait for
// one another share requests, which matters when each user may make 10
// requests a minute.
//
//   - UpdateMetadata: a user's PATCHes go one at a time. Calls made while
//     one is being sent (paced, sent, retried) wait in a batch and then go
//     as one PATCH whose user_metadata is their maps merged in call order at
//     the first level: a later value wins, nil deletes. That is what sending
//     them one after another would leave. An empty map, which removes every
//     key, is a barrier: it goes alone, never merged with the calls before
//     or after it. A batch is closed when its merged body would pass Auth0's
//     1 MB request limit. Every caller of a batch gets the profile the PATCH
//     returned, or its error; a caller whose context ends before its batch
//     is sent leaves the batch and its map is not sent.
//   - Me and Enrollments: concurrent calls share one GET, sent by the
//     first of them (see shareGet).
//
// Calls are merged only when made through the same Client or view (the
// same token source), so that the token the shared request is sent with is
// the token each of them would have been sent with.
type coalescer struct {
	mu      sync.Mutex
	patches map[*scopeguard.Transport]*patchQueue // by view
	flights map[flightKey]*flight
}

func newCoalescer() *coalescer {
	return &coalescer{patches: map[*scopeguard.Transport]*patchQueue{}, flights: map[flightKey]*flight{}}
}

// maxMergedBody keeps a merged PATCH body under Auth0's 1 MB request limit,
// with room for the envelope {"user_metadata":...}.
const maxMergedBody = 1<<20 - 1024

// patchQueue is one token's PATCHes not yet answered, oldest first; the
// first is being sent by the queue's driver.
type patchQueue struct {
	batches []*batch
}

// batch is the calls that go as one PATCH.
type batch struct {
	calls   []*patchCall
	size    int  // the sum of the calls' JSON sizes: a bound of the merged size
	barrier bool // an empty map: nothing joins it
	ctx     context.Context
	cancel  context.CancelFunc // ends ctx: every caller left, or sent
	send    func(context.Context, map[string]any) (exchange, error)
	waiting int // callers still waiting
	done    chan struct{}
	// Set once sent:
	ex  exchange
	err error
}

type patchCall struct {
	md   map[string]any
	left bool // the caller's context ended before the batch was sent
}

// shareGet runs get once for concurrent callers of operation op through
// the same view.
//
// The first caller (the leader) runs the shared GET in its own goroutine,
// with its own context, as an unshared call would; callers that come while
// it is out (followers) wait for its result or for their own context. When
// the leader's context ends before the GET does, the GET ends with it, and
// followers whose context is still live start over: a GET is idempotent,
// and nobody waits on a context that is not theirs.
//
// Issue 11 asked for golang.org/x/sync/singleflight here, and it served
// until stop 18. It does not fit this contract: Group.Do waits without a
// context, so a follower could not leave; Group.DoChan runs every call in
// a new goroutine (≈60% of Enrollments' CPU in memory) and crashes the
// process when the call panics; and the map of leaders that Do for the
// leader and DoChan for the followers needed beside the Group let a caller
// join a call run with another caller's context, or leave an entry whose
// GET never ran. One map of flights, each closed when its GET returns,
// does it all (TestSharedGetCallersLeave, TestSharedGetLeaderPanics).
func (c *Client) shareGet(ctx context.Context, op string, get func(context.Context) (exchange, error)) (exchange, error) {
	if !c.coalesce {
		return get(ctx)
	}
	co := c.coalescer
	key := flightKey{op, c.guard}
	for {
		co.mu.Lock()
		f, following := co.flights[key]
		if !following {
			f = &flight{ctx: ctx, done: make(chan struct{})}
			co.flights[key] = f
		}
		co.mu.Unlock()
		if !following {
			return co.lead(key, f, get)
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return exchange{}, fmt.Errorf("api: %s: %w", op, context.Cause(ctx))
		}
		if f.err != nil && f.ctx.Err() != nil && ctx.Err() == nil {
			continue // the leader left, and took the GET with it
		}
		return f.ex, f.err
	}
}

// lead runs a flight's GET with its leader's context and hands the result
// to the followers. The flight is forgotten before they read it, so that a
// call made after the answer sends a GET of its own.
func (co *coalescer) lead(key flightKey, f *flight, get func(context.Context) (exchange, error)) (exchange, error) {
	defer func() {
		co.mu.Lock()
		delete(co.flights, key)
		co.mu.Unlock()
		close(f.done)
	}()
	f.err = errNoAnswer // what the followers get if get panics
	f.ex, f.err = get(f.ctx)
	return f.ex, f.err
}

var errNoAnswer = errors.New("api: the shared request ended without an answer")

// patch sends md, whose JSON body is size bytes, as a PATCH of
// user_metadata, merged with the calls of the same view that wait with it.
// send makes the call: with a nil map it sends md's own body, else the
// merged map.
func (c *Client) patch(ctx context.Context, md map[string]any, size int, send func(context.Context, map[string]any) (exchange, error)) (exchange, error) {
	if !c.coalesce {
		return send(ctx, nil)
	}
	key := c.guard // the view: its PATCHes queue together
	co := c.coalescer
	co.mu.Lock()
	q := co.patches[key]
	if q == nil {
		// Nothing is queued for the view: the call is sent now, from this
		// goroutine and with its own context, and the calls made while it
		// is out queue behind it (nothing joins the batch being sent).
		q = &patchQueue{batches: []*batch{{}}}
		co.patches[key] = q
		co.mu.Unlock()
		ex, err := send(ctx, nil)
		co.mu.Lock()
		q.batches = q.batches[1:]
		if len(q.batches) == 0 {
			delete(co.patches, key)
		} else {
			go co.drive(key, q)
		}
		co.mu.Unlock()
		return ex, err
	}
	call := &patchCall{md: md}
	barrier := len(md) == 0
	var b *batch
	// The last batch takes the call unless it is being sent (the first),
	// is a barrier, or would pass the size limit.
	if n := len(q.batches); n > 1 && !barrier {
		if last := q.batches[n-1]; !last.barrier && last.size+size <= maxMergedBody {
			b = last
		}
	}
	if b == nil {
		bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		b = &batch{barrier: barrier, ctx: bctx, cancel: cancel, send: send, done: make(chan struct{})}
		q.batches = append(q.batches, b)
	}
	b.calls = append(b.calls, call)
	b.size += size
	b.waiting++
	co.mu.Unlock()

	select {
	case <-b.done:
		return b.ex, b.err
	case <-ctx.Done():
	}
	co.mu.Lock()
	select {
	case <-b.done:
		co.mu.Unlock()
		return b.ex, b.err
	default:
	}
	call.left = true
	if b.waiting--; b.waiting == 0 {
		b.cancel()
	}
	co.mu.Unlock()
	return exchange{}, fmt.Errorf("api: %s: %w", gen.OpPatchUsersByID, context.Cause(ctx))
}

// drive sends the queue's batches one after another, each once the one
// before it is answered, and ends when the queue is empty. It runs in a
// goroutine of its own, started when the call sent at once is answered
// and others wait behind it.
func (co *coalescer) drive(key *scopeguard.Transport, q *patchQueue) {
	for {
		co.mu.Lock()
		if len(q.batches) == 0 {
			delete(co.patches, key)
			co.mu.Unlock()
			return
		}
		b := q.batches[0]
		merged := map[string]any{}
		n := 0
		for _, call := range b.calls {
			if !call.left {
				n++
				for k, v := range call.md {
					merged[k] = v
				}
			}
		}
		if n == 1 && !b.calls[0].left {
			merged = nil // the first call alone: its own body
		}
		co.mu.Unlock()
		if n > 0 {
			b.ex, b.err = b.send(b.ctx, merged)
		}
		b.cancel()
		co.mu.Lock()
		q.batches = q.batches[1:]
		close(b.done)
		co.mu.Unlock()
	}
}

// flightKey names a shared GET: its operation, and the view (guard) it is
// sent through.
type flightKey struct {
	op   string
	view *scopeguard.Transport
}

// flight is one shared GET: it runs with its leader's context, and its
// result is set before done is closed.
type flight struct {
	ctx  context.Context
	done chan struct{}
	ex   exchange
	err  error
}
