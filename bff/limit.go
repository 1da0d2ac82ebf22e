package bff

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per user in an LRU bounded by max users.
// It is safe for concurrent use.
type limiters struct {
	limit rate.Limit
	burst int
	max   int

	mu    sync.Mutex
	order *list.List               // of *userBucket, most recently used first
	byKey map[string]*list.Element // sub -> element of order
}

type userBucket struct {
	sub string
	lim *rate.Limiter
}

func newLimiters(limit rate.Limit, burst, max int) *limiters {
	return &limiters{limit: limit, burst: burst, max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// bucket returns sub's bucket, making it (and forgetting the least recently
// used user when full) if needed.
func (l *limiters) bucket(sub string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byKey[sub]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*userBucket).lim
	}
	if l.order.Len() >= l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.byKey, oldest.Value.(*userBucket).sub)
	}
	b := &userBucket{sub: sub, lim: rate.NewLimiter(l.limit, l.burst)}
	l.byKey[sub] = l.order.PushFront(b)
	return b.lim
}

// take takes one token from sub's bucket at now. When the bucket is empty
// it takes nothing and returns how long until a token is there.
func (l *limiters) take(sub string, now time.Time) (time.Duration, bool) {
	r := l.bucket(sub).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// users returns how many users' buckets are held.
func (l *limiters) users() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
