package bff

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestLimitersBoundedLRU: at most max users are held; the least recently
// used one is forgotten first, and a remembered user keeps their bucket.
func TestLimitersBoundedLRU(t *testing.T) {
	t.Parallel()
	l := newLimiters(rate.Every(time.Minute), 1, 3)
	now := time.Unix(1e9, 0)
	for _, sub := range []string{"a", "b", "c"} {
		if _, ok := l.take(sub, now); !ok {
			t.Fatalf("%s: first call refused", sub)
		}
	}
	if _, ok := l.take("a", now); ok { // a is now the most recent
		t.Fatal("a: second call within the minute allowed")
	}
	for i := range 10 {
		l.take(fmt.Sprint("new", i), now) // each evicts the least recent
		if n := l.users(); n > 3 {
			t.Fatalf("%d users held, max 3", n)
		}
		if i == 0 {
			if wait, ok := l.take("a", now); ok || wait <= 0 {
				t.Fatalf("a was evicted before b and c: ok %v, wait %v", ok, wait)
			}
		}
	}
	// a was evicted in the end, and starts again with a full bucket.
	if _, ok := l.take("a", now); !ok {
		t.Error("a evicted but still limited")
	}
}
