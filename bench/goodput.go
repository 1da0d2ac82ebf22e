package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
)

// GoodputConfig is one rate-limit goodput scenario.
type GoodputConfig struct {
	Lib Library
	// N writes (metadata updates) shared out among K clients.
	N, K int
	// The tenant's bucket.
	Burst     int
	PerSecond float64
	// Timeout bounds the whole scenario; calls still running then fail.
	Timeout time.Duration
}

// GoodputResult is what a scenario measured.
type GoodputResult struct {
	Elapsed time.Duration
	// Minimum is the bucket's theoretical minimum for N requests:
	// (N - Burst) / PerSecond.
	Minimum time.Duration
	// Requests the tenant received and how many of them were answered 429.
	Requests, TooMany int
	// Failed is the number of the N operations that returned an error.
	Failed int
}

// Ratio is Elapsed / Minimum.
func (r GoodputResult) Ratio() float64 { return r.Elapsed.Seconds() / r.Minimum.Seconds() }

// TooManyShare is TooMany / Requests.
func (r GoodputResult) TooManyShare() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.TooMany) / float64(r.Requests)
}

// counting is a RoundTripper that counts the answers with status 429.
type counting struct {
	base    http.RoundTripper
	tooMany *atomic.Int64
}

func (c counting) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		c.tooMany.Add(1)
	}
	return resp, err
}

// Goodput runs one scenario on a fresh loopback tenant: K separate
// clients of cfg.Lib (each with its own connection pool, standing for K
// processes sharing the tenant), with the library's default retry
// settings, make cfg.N metadata updates between them as fast as the
// library lets them. Requests are counted at the tenant (its request
// log), 429 answers as they come back.
func Goodput(cfg GoodputConfig) (GoodputResult, error) {
	if cfg.N <= cfg.Burst || cfg.K < 1 || cfg.PerSecond <= 0 {
		return GoodputResult{}, errors.New("bench: goodput needs N > Burst, K >= 1 and a rate")
	}
	tn, err := apitest.Start(apitest.WithRateLimit(cfg.Burst, cfg.PerSecond))
	if err != nil {
		return GoodputResult{}, fmt.Errorf("bench: %w", err)
	}
	defer tn.Close()
	f, err := Seed(tn)
	if err != nil {
		return GoodputResult{}, err
	}
	// Seeding sent nothing over HTTP; the bucket is full.
	var tooMany atomic.Int64
	clients := make([]Client, cfg.K)
	transports := make([]*http.Transport, cfg.K)
	for i := range clients {
		transports[i] = http.DefaultTransport.(*http.Transport).Clone()
		c := f.Config()
		c.Retries = true
		c.HTTPClient = &http.Client{Transport: counting{base: transports[i], tooMany: &tooMany}}
		if clients[i], err = New(cfg.Lib, c); err != nil {
			return GoodputResult{}, err
		}
	}
	defer func() {
		for _, t := range transports {
			t.CloseIdleConnections()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range clients {
		wg.Go(func() {
			// Each client its own map: go-auth0 v1 decodes the answer into
			// the request's User, and so into this map.
			md := Metadata()
			for next.Add(1) <= int64(cfg.N) {
				if err := c.UpdateMetadata(ctx, md); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return GoodputResult{
		Elapsed:  elapsed,
		Minimum:  time.Duration(float64(cfg.N-cfg.Burst) / cfg.PerSecond * float64(time.Second)),
		Requests: len(tn.Requests()),
		TooMany:  int(tooMany.Load()),
		Failed:   int(failed.Load()),
	}, nil
}
