package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/ratescenario"
)

// Scenario is one of issue 11's rate-limit scenarios (package
// ratescenario). With Clients == 1 one client serves every user: auth0me's
// per-user views, one go-auth0 v3 client given the token per call, and for
// go-auth0 v1, which has neither, a Management per user. Separate clients
// here each serve one user (Clients == Users).
type Scenario = ratescenario.Scenario

// Scenarios are issue 11's S1–S6.
var Scenarios = ratescenario.Issue11

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
	if s.Clients > 1 && s.Clients != s.Users {
		return Outcome{}, fmt.Errorf("bench: %s: separate clients serve one user each here", s.Name)
	}
	ids, tokens, err := s.AddUsers(tn)
	if err != nil {
		return Outcome{}, err
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
	writes := make([]ratescenario.Write, len(clients))
	for i, c := range clients {
		writes[i] = c.UpdateMetadata
	}
	r := s.Run(ctx, tn, writes)
	o := Outcome{Scenario: s.Name, Lib: string(lib), Elapsed: r.Elapsed, Minimum: s.Minimum(), Ops: s.Ops(),
		Requests: r.Requests, TooMany: r.TooMany, Beyond: r.Beyond(s), Failed: r.Failed}
	return o, nil
}
