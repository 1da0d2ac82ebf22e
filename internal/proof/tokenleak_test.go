package proof

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

// suites are the suites whose error strings and log lines TestNoTokenLeaks
// scans. They run before it (go test runs this package's tests one after
// another, in file order); one left out by -run is run here.
var suites = []struct {
	name string
	run  func(*testing.T)
}{
	{"differential", TestDifferentialGating},
	{"faults", TestFaults},
	{"load", TestLoadNothingLost},
	{"bff", TestBFFAnswers},
}

// TestNoTokenLeaks scans every error string and log line the suites
// produced for any token apitest minted, and checks that redirects and
// requests for another host never carry the token there.
func TestNoTokenLeaks(t *testing.T) {
	for _, s := range suites {
		if !leaks.hasRun(s.name) {
			t.Run(s.name, s.run)
		}
	}
	t.Run("scanner finds a planted fragment", func(t *testing.T) {
		tn := apitest.New(t)
		c := &collector{secrets: map[string]string{}, ran: map[string]bool{}}
		tok := c.token("access token", tn.AccessToken("auth0|x", "read:current_user"))
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		c.add("planted", "the token is "+tok)
		c.add("planted", "part of its signature: "+sig[100:100+2*chunk-1]+"!")
		c.add("clean", "Authorization=[REDACTED] and a header part "+tok[:strings.IndexByte(tok, '.')])
		hits, _, _ := c.scan()
		if len(hits) != 2 || hits[0].source != "planted" || hits[1].source != "planted" {
			t.Errorf("hits %+v, want the two planted texts", hits)
		}
	})
	t.Run("redirects and other hosts", testForeignHosts)

	hits, texts, tokens := leaks.scan()
	for i, h := range hits {
		if i == 10 {
			t.Errorf("... %d hits in all", len(hits))
			break
		}
		t.Errorf("%s holds a %s", h.source, h.what)
	}
	perSource := map[string]int{}
	leaks.mu.Lock()
	for _, x := range leaks.texts {
		perSource[strings.SplitN(x.source, ":", 2)[0]]++
	}
	leaks.mu.Unlock()
	// The load suite ends without errors when it passes: its lines are logs.
	for _, s := range []string{"differential", "faults", "faults log", "load log", "redirect", "redirect log", "bff response", "bff log"} {
		if perSource[s] == 0 {
			t.Errorf("no texts from %q were collected: the scan would prove nothing about them", s)
		}
	}
	msg := fmt.Sprintf("token leaks: %d error strings and log lines scanned for %d tokens, %d hits", texts, tokens, len(hits))
	t.Log(msg)
	fmt.Println(msg)
}

// elsewhere is a server on another host that records what it receives.
type elsewhere struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // method, path and Authorization of each request
}

func newElsewhere(t *testing.T) *elsewhere {
	e := &elsewhere{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, fmt.Sprintf("%s %s Authorization=%q", r.Method, r.URL.Path, r.Header.Get("Authorization")))
		e.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *elsewhere) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

// testForeignHosts drives the api client and the guarded generated client
// at a tenant host that redirects to another host, and builds requests for
// another host: the token never arrives there.
func testForeignHosts(t *testing.T) {
	signer := apitest.New(t)
	other := newElsewhere(t)
	otherURL, _ := url.Parse(other.srv.URL)
	var mu sync.Mutex
	var tenantAuth []string
	for _, target := range []string{
		other.srv.URL,                         // another port of 127.0.0.1
		"http://localhost:" + otherURL.Port(), // another host name
	} {
		for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
			redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				tenantAuth = append(tenantAuth, r.Header.Get("Authorization"))
				mu.Unlock()
				http.Redirect(w, r, target+r.URL.RequestURI(), code)
			}))
			defer redir.Close()
			host := strings.TrimPrefix(redir.URL, "http://")
			claims := signer.AccessTokenClaims("auth0|alice", allScopes...)
			claims["aud"] = []string{"https://" + host + "/api/v2/", "https://" + host + "/userinfo"}
			tok, err := signer.SignToken(claims)
			if err != nil {
				t.Fatal(err)
			}
			leaks.token("access token", tok)
			c, err := api.New(host, static(tok), api.WithBaseURL(redir.URL+"/api/v2/"),
				api.WithHTTPClient(redir.Client()), api.WithLogger(leaks.logger("redirect")))
			if err != nil {
				t.Fatal(err)
			}
			idt := idToken(signer, "github|sec")
			for _, m := range []struct {
				name string
				call func(context.Context) error
			}{
				{"Me", func(ctx context.Context) error { _, err := c.Me(ctx); return err }},
				{"Enrollments", func(ctx context.Context) error { _, err := c.Enrollments(ctx); return err }},
				{"UpdateMetadata", func(ctx context.Context) error {
					_, err := c.UpdateMetadata(ctx, map[string]any{"k": "v"})
					return err
				}},
				{"LinkIdentity", func(ctx context.Context) error { _, err := c.LinkIdentity(ctx, idt); return err }},
				{"UnlinkIdentity", func(ctx context.Context) error { _, err := c.UnlinkIdentity(ctx, "github", "sec"); return err }},
				{"CreateDeviceCredential", func(ctx context.Context) error {
					_, err := c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: "d", DeviceID: "ab", Value: "v"})
					return err
				}},
				{"DeleteDeviceCredential", func(ctx context.Context) error { return c.DeleteDeviceCredential(ctx, "dcr_1") }},
			} {
				err := m.call(t.Context())
				leaks.err("redirect", err)
				// The api client follows no redirect: the 3xx is its
				// answer. (The guard would refuse the other host anyway,
				// as the generated client below shows.)
				var apiErr *api.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != code {
					t.Errorf("%d to %s, %s: error %v, want an *api.Error with status %d", code, target, m.name, err, code)
				}
			}

			// The guarded generated client, on its own.
			guard, err := scopeguard.New(redir.URL+"/api/v2/", static(tok))
			if err != nil {
				t.Fatal(err)
			}
			hc := &http.Client{Transport: guard}
			g, _ := gen.NewClient(redir.URL+"/api/v2/", gen.WithHTTPClient(hc))
			_, err = g.GetUsersByID(t.Context(), scopeguard.Me, nil)
			leaks.err("redirect", err)
			if !errors.Is(err, scopeguard.ErrForeignHost) {
				t.Errorf("%d to %s, guarded gen client: error %v, want ErrForeignHost", code, target, err)
			}

			// Requests built for the other host: by the generated client
			// with another server, and by hand with the Host header.
			g2, _ := gen.NewClient(target+"/api/v2/", gen.WithHTTPClient(hc))
			_, err = g2.GetUsersByID(t.Context(), scopeguard.Me, nil)
			leaks.err("redirect", err)
			if !errors.Is(err, scopeguard.ErrForeignHost) {
				t.Errorf("request for %s: error %v, want ErrForeignHost", target, err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, redir.URL+"/api/v2/users/me", nil)
			req.Host = strings.TrimPrefix(target, "http://")
			_, err = hc.Do(req)
			leaks.err("redirect", err)
			if !errors.Is(err, scopeguard.ErrForeignHost) {
				t.Errorf("request with Host %s: error %v, want ErrForeignHost", req.Host, err)
			}
			guard.CloseIdleConnections()
		}
	}
	// The tenant host received the token (so the calls were made), the
	// other host nothing at all.
	mu.Lock()
	defer mu.Unlock()
	if len(tenantAuth) == 0 {
		t.Error("the redirecting tenant received no request")
	}
	for _, a := range tenantAuth {
		if !strings.HasPrefix(a, "Bearer ey") {
			t.Errorf("the redirecting tenant received Authorization %q", a)
		}
	}
	if got := other.requests(); len(got) != 0 {
		t.Errorf("the other host received %d requests: %q", len(got), got)
	}
}
