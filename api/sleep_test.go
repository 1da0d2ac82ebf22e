package api

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// sleep returns at once for a wait of zero or less, and when its context
// has ended, with the context's cause; otherwise it waits the whole d.
func TestSleep(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for _, d := range []time.Duration{0, -time.Second} {
					if err := sleep(t.Context(), d); err != nil {
						t.Errorf("sleep(%v): %v", d, err)
					}
				}
			})
		}
		wg.Wait()
		if d := time.Since(start); d != 0 {
			t.Errorf("sleeps of zero took %v", d)
		}
		if err := sleep(t.Context(), 3*time.Second); err != nil || time.Since(start) != 3*time.Second {
			t.Errorf("sleep(3s) = %v after %v, want nil after 3s", err, time.Since(start))
		}
		cause := errors.New("stop")
		ctx, cancel := context.WithCancelCause(t.Context())
		cancel(cause)
		for _, d := range []time.Duration{0, time.Hour} {
			if err := sleep(ctx, d); !errors.Is(err, cause) {
				t.Errorf("sleep(%v) with an ended context = %v, want its cause", d, err)
			}
		}
	})
}
