package bench_test

import (
	"context"
	"testing"

	"github.com/auth0me/auth0me/bench"
)

// BenchmarkOp runs each of the seven operations with each library, retries
// off, against the tenant helper over loopback (net=loopback) and against
// the recorded answers in memory (net=memory), which leaves only the
// client's own CPU and allocations.
//
// Over loopback, link and device-credential operations need their inverse
// between iterations (a linked account can be linked again only once
// unlinked; a device holds one public key); the inverse runs with the
// timer stopped. In memory no inverse is needed.
func BenchmarkOp(b *testing.B) {
	b.Run("net=loopback", func(b *testing.B) {
		r := loopback(b)
		for _, op := range bench.Ops {
			b.Run("op="+string(op), func(b *testing.B) {
				for _, lib := range bench.Libraries {
					b.Run("lib="+string(lib), func(b *testing.B) {
						if err := r.reset(); err != nil {
							b.Fatal(err)
						}
						c, err := bench.New(lib, r.f.Config())
						if err != nil {
							b.Fatal(err)
						}
						runOp(b, c, r.f, op, true)
					})
				}
			})
		}
	})
	b.Run("net=memory", func(b *testing.B) {
		m := memory(b)
		for _, op := range bench.Ops {
			b.Run("op="+string(op), func(b *testing.B) {
				for _, lib := range bench.Libraries {
					b.Run("lib="+string(lib), func(b *testing.B) {
						cfg := m.f.Config()
						cfg.HTTPClient = m.client()
						c, err := bench.New(lib, cfg)
						if err != nil {
							b.Fatal(err)
						}
						runOp(b, c, m.f, op, false)
					})
				}
			})
		}
	})
}

// runOp times b.N calls of op. With inverse, the operation's inverse (or
// precondition) runs between timed calls with the timer stopped.
func runOp(b *testing.B, c bench.Client, f bench.Fixture, op bench.Op, inverse bool) {
	ctx := context.Background()
	md := bench.Metadata()
	dev := f.Device()
	link := func() error { return c.LinkIdentity(ctx, f.SecondaryIDToken) }
	unlink := func() error { return c.UnlinkIdentity(ctx, f.SecondaryProvider, f.SecondaryUserID) }
	credID := ""
	create := func() (err error) { credID, err = c.CreateDeviceCredential(ctx, dev); return err }
	del := func() error { return c.DeleteDeviceCredential(ctx, credID) }
	if !inverse {
		credID = "test_credential"
	}
	var timed, before, after func() error
	switch op {
	case bench.OpMe:
		timed = func() error { return c.Me(ctx) }
	case bench.OpEnrollments:
		timed = func() error { return c.Enrollments(ctx) }
	case bench.OpUpdate:
		timed = func() error { return c.UpdateMetadata(ctx, md) }
	case bench.OpLink:
		timed, after = link, unlink
	case bench.OpUnlink:
		timed, before = unlink, link
	case bench.OpCreateDevice:
		timed, after = create, del
	case bench.OpDeleteDevice:
		timed, before = del, create
	}
	if !inverse {
		before, after = nil, nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if before != nil {
			b.StopTimer()
			if err := before(); err != nil {
				b.Fatalf("%s before: %v", op, err)
			}
			b.StartTimer()
		}
		if err := timed(); err != nil {
			b.Fatalf("%s: %v", op, err)
		}
		if after != nil {
			b.StopTimer()
			if err := after(); err != nil {
				b.Fatalf("%s after: %v", op, err)
			}
			b.StartTimer()
		}
	}
}
