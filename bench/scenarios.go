package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
)

// Scenario is one of issue 11's rate-limit scenarios: metadata writes
// against a tenant with Auth0's per-user buckets (10 a minute, burst 10)
// and, when Plan is set, that plan's global bucket.
type Scenario struct {
	Name string
	Plan *apitest.Plan
	// Clients separate Clients (standing for processes), each for
	// Users/Clients users; with Clients == 1 one Client serves every user
	// (auth0me: per-user views; go-auth0 v3: one client, the token given
	// per call; go-auth0 v1, which has neither, a Management per user).
	Clients, Users int
	// Each user makes Writes writes from Goroutines goroutines at once.
	Writes, Goroutines int
	// Uncoalesced turns auth0me's coalescing off (the peers have none).
	Uncoalesced bool
}

// The plans the scenarios name.
var (
	planFree          = apitest.PlanFree
	planNonProduction = apitest.PlanEnterpriseNonProduction
	planProduction    = apitest.PlanEnterpriseProduction
)

// Scenarios are issue 11's S1–S6. S2 runs twice for auth0me: with its
// coalescing (the default) and without. S1 and S2 name no global bucket;
// they run with Enterprise production's, which they never fill, as every
// Auth0 tenant has one.
var Scenarios = []Scenario{
	{Name: "S1", Plan: &planProduction, Clients: 1, Users: 1, Writes: 40, Goroutines: 1},
	{Name: "S2", Plan: &planProduction, Clients: 1, Users: 1, Writes: 40, Goroutines: 8},
	{Name: "S2-uncoalesced", Plan: &planProduction, Clients: 1, Users: 1, Writes: 40, Goroutines: 8, Uncoalesced: true},
	{Name: "S3", Plan: &planFree, Clients: 1, Users: 20, Writes: 5, Goroutines: 1},
	{Name: "S4", Plan: &planNonProduction, Clients: 1, Users: 50, Writes: 4, Goroutines: 1},
	{Name: "S5-K4", Plan: &planFree, Clients: 4, Users: 4, Writes: 10, Goroutines: 1},
	{Name: "S5-K16", Plan: &planFree, Clients: 16, Users: 16, Writes: 6, Goroutines: 1},
	{Name: "S6", Plan: &planProduction, Clients: 16, Users: 16, Writes: 10, Goroutines: 1},
}

// Describe says what the scenario runs, for the report.
func (s Scenario) Describe() string {
	who := "one Client"
	if s.Clients > 1 {
		who = fmt.Sprintf("%d separate Clients", s.Clients)
	}
	work := fmt.Sprintf("%d users × %d writes", s.Users, s.Writes)
	if s.Goroutines > 1 {
		work = fmt.Sprintf("%d users × %d goroutines × %d writes", s.Users, s.Goroutines, s.Writes/s.Goroutines)
	}
	plan := "per-user buckets only"
	if s.Plan != nil {
		plan = s.Plan.Name + " plan"
	}
	if s.Uncoalesced {
		plan += ", auth0me coalescing off"
	}
	return fmt.Sprintf("%s, %s, %s", who, work, plan)
}

// Minimum is the least time the buckets allow for the scenario's requests
// without coalescing: the later of the global bucket's and the busiest
// user's.
func (s Scenario) Minimum() time.Duration {
	perUser := apitest.DefaultCurrentUserPerMinute / 60
	sec := math.Max(0, float64(s.Writes-apitest.DefaultCurrentUserBurst)/perUser)
	if s.Plan != nil {
		sec = math.Max(sec, float64(s.Users*s.Writes-s.Plan.Burst)/s.Plan.PerSecond)
	}
	return time.Duration(sec * float64(time.Second))
}

// BlindStarts is how many 429s separate Clients cannot avoid: each sends
// its first request knowing nothing, and only the global burst takes them
// all: max(0, K − burst).
func (s Scenario) BlindStarts() int {
	if s.Plan == nil || s.Clients == 1 {
		return 0
	}
	return max(0, s.Clients-s.Plan.Burst)
}

// TenantOptions are the options of the scenario's tenant.
func (s Scenario) TenantOptions() []apitest.Option {
	opts := []apitest.Option{apitest.WithCurrentUserLimit(apitest.DefaultCurrentUserBurst, apitest.DefaultCurrentUserPerMinute)}
	if s.Plan != nil {
		opts = append(opts, apitest.WithPlan(*s.Plan))
	}
	return opts
}

// Outcome is what one run of a scenario measured.
type Outcome struct {
	Scenario, Lib string
	Elapsed       time.Duration
	Minimum       time.Duration
	Ops, Requests int
	// TooMany are the requests answered 429; Beyond those past the blind
	// starts.
	TooMany, Beyond int
	Failed          int
}

// Ratio is Elapsed ÷ Minimum.
func (o Outcome) Ratio() float64 { return o.Elapsed.Seconds() / o.Minimum.Seconds() }

// RunScenario runs s for lib against tn, a tenant started with
// s.TenantOptions() and reached through hc: every user's writes as fast as
// the library lets them, with its default retry settings. Requests and
// 429s are counted at the tenant. Run it in a synctest bubble on apitest's
// memory network and the buckets' waits take no real time.
func RunScenario(ctx context.Context, lib Library, s Scenario, tn *apitest.Tenant, hc *http.Client) (Outcome, error) {
	cfg := Config{Domain: tn.Domain(), BaseURL: tn.BaseURL(), HTTPClient: hc, Retries: true, Uncoalesced: s.Uncoalesced}
	tokens := make([]string, s.Users)
	ids := make([]string, s.Users)
	for i := range ids {
		ids[i] = fmt.Sprintf("auth0|scenario%03d", i)
		if err := tn.AddUser(apitest.User{ID: ids[i], Email: fmt.Sprintf("scenario%03d@example.com", i)}); err != nil {
			return Outcome{}, err
		}
		tokens[i] = tn.AccessToken(ids[i], "update:current_user_metadata")
	}
	clients := make([]Client, s.Users)
	var users *Users
	for i := range clients {
		var err error
		switch {
		case s.Clients > 1:
			c := cfg
			c.Token, c.UserID = tokens[i], ids[i]
			clients[i], err = New(lib, c)
		default:
			if users == nil {
				l := lib
				if lib == V3 {
					l = V3PerCall
				}
				if users, err = NewUsers(l, cfg, 0); err != nil {
					return Outcome{}, err
				}
			}
			clients[i], err = users.User(tokens[i], ids[i])
		}
		if err != nil {
			return Outcome{}, err
		}
	}
	tn.ResetRequests()
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range clients {
		var next atomic.Int64
		for g := range s.Goroutines {
			wg.Go(func() {
				for w := next.Add(1); w <= int64(s.Writes); w = next.Add(1) {
					// Each write its own map: go-auth0 v1 decodes the
					// answer into the request's User, and so into the map.
					if err := c.UpdateMetadata(ctx, map[string]any{fmt.Sprintf("g%d", g): w}); err != nil {
						failed.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	o := Outcome{Scenario: s.Name, Lib: string(lib), Elapsed: time.Since(start), Minimum: s.Minimum(),
		Ops: s.Users * s.Writes, Failed: int(failed.Load())}
	for _, r := range tn.Requests() {
		if r.Method == http.MethodPatch {
			o.Requests++
			if r.Status == http.StatusTooManyRequests {
				o.TooMany++
			}
		}
	}
	o.Beyond = max(0, o.TooMany-s.BlindStarts())
	return o, nil
}
