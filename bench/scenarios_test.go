package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bench"
)

// scenariosOut, when set, names the file TestScenarios writes its outcomes
// to, one JSON object a line, for benchreport. scenarioRuns sets how many
// times each scenario runs per library (default 1).
const (
	scenariosOut = "AUTH0ME_BENCH_SCENARIOS"
	scenarioRuns = "AUTH0ME_BENCH_SCENARIO_RUNS"
)

// TestScenarios runs issue 11's scenarios S1–S6 for auth0me and both
// peers, each in a synctest bubble on apitest's memory network, so that
// minutes of bucket time cost no real time. It checks only that auth0me
// failed no operation; the figures go to RESULTS.md (make bench), and
// api's TestRateLimitScenarios asserts auth0me's targets.
func TestScenarios(t *testing.T) {
	runs := 1
	if n, err := strconv.Atoi(os.Getenv(scenarioRuns)); err == nil && n > 0 {
		runs = n
	}
	var mu sync.Mutex
	var out []bench.Outcome
	for _, s := range bench.Scenarios {
		for _, lib := range bench.Libraries {
			if s.Uncoalesced && lib != bench.Auth0me {
				continue // the peers never coalesce: S2 is their row
			}
			t.Run(s.Name+"/"+string(lib), func(t *testing.T) {
				t.Parallel()
				for range runs {
					o := runScenario(t, lib, s)
					t.Logf("%s %s: %.3f× the minimum %v, %d requests for %d ops, %d answered 429 (%d beyond the blind starts), %d failed",
						s.Name, lib, o.Ratio(), o.Minimum, o.Requests, o.Ops, o.TooMany, o.Beyond, o.Failed)
					if lib == bench.Auth0me && o.Failed > 0 {
						t.Errorf("auth0me failed %d operations", o.Failed)
					}
					mu.Lock()
					out = append(out, o)
					mu.Unlock()
				}
			})
		}
	}
	t.Cleanup(func() {
		name := os.Getenv(scenariosOut)
		if name == "" {
			return
		}
		f, err := os.Create(name)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		enc := json.NewEncoder(f)
		for _, o := range out {
			if err := enc.Encode(o); err != nil {
				t.Error(err)
			}
		}
	})
}

func runScenario(t *testing.T, lib bench.Library, s bench.Scenario) bench.Outcome {
	var o bench.Outcome
	synctest.Test(t, func(t *testing.T) {
		opts := append([]apitest.Option{apitest.WithMemoryNetwork(), apitest.WithTLS()}, s.TenantOptions()...)
		tn, err := apitest.Start(opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer tn.Close()
		tr := tn.Client().Transport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		defer tr.CloseIdleConnections()
		// A bound in bubble time, far past any library's finish.
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		o, err = bench.RunScenario(ctx, lib, s, tn, &http.Client{Transport: tr})
		if err != nil {
			t.Fatal(fmt.Errorf("%s %s: %w", s.Name, lib, err))
		}
	})
	return o
}
