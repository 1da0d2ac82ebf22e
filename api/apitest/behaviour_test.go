package apitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/auth0me/auth0me/api/apitest"
)

// Rule 9: every error body has Auth0's shape and content type.
func TestRule9ErrorShape(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers, apitest.WithRateLimit(1000, 1000))
	read := tn.AccessToken(alice, "read:current_user")
	idt := tn.AccessToken(alice, "update:current_user_identities")
	cases := []struct {
		method, path, token, body string
		status                    int
		code                      string // "" = no errorCode
	}{
		{"GET", userPath(alice), "", "", 401, ""},
		{"GET", userPath(alice), "x", "", 400, "Bearer"},
		{"GET", userPath(alice), tn.AccessToken(alice), "", 403, "insufficient_scope"},
		{"GET", userPath(bob), read, "", 403, "unowned_resource"},
		{"GET", userPath("auth0|none"), tn.AccessToken("auth0|none", "read:current_user"), "", 404, "inexistent_user"},
		{"GET", "/api/v2/nothing", read, "", 404, ""},
		{"PATCH", userPath(alice), tn.AccessToken(alice, "update:current_user_metadata"), `[]`, 400, "invalid_body"},
		{"POST", userPath(alice) + "/identities", idt, `{"link_with":"` + tn.IDToken(alice) + `"}`, 400, ""},
		{"DELETE", "/api/v2/device-credentials/dcr_none", tn.AccessToken(alice, "delete:current_user_device_credentials"), "", 404, "inexistent_device_credential"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s %d", c.method, c.path, c.status), func(t *testing.T) {
			r := call(t, tn, c.method, c.path, c.token, c.body)
			checkErrorShape(t, r, c.status, c.code)
		})
	}
}

func checkErrorShape(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	for k := range body {
		switch k {
		case "statusCode", "error", "message", "errorCode":
		case "attributes":
			if status != 401 {
				t.Errorf("attributes on a %d", status)
			}
		default:
			t.Errorf("unexpected key %q", k)
		}
	}
	if body["statusCode"] != float64(status) || body["error"] != http.StatusText(status) {
		t.Errorf("statusCode/error = %v/%v", body["statusCode"], body["error"])
	}
	if m, _ := body["message"].(string); m == "" {
		t.Error("empty message")
	}
	got, _ := body["errorCode"].(string)
	if got != code {
		t.Errorf("errorCode = %q, want %q", got, code)
	}
}

// Rule 10: the token bucket and its headers under a fake clock.
func TestRule10RateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 12:00:00.000, a whole second
	t0 := clock.Now().Unix()
	tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now), apitest.WithRateLimit(2, 2))
	tok := tn.AccessToken(alice, "read:current_user")
	steps := []struct {
		advance   time.Duration
		token     string
		status    int
		remaining int
		reset     int64 // relative to t0
	}{
		{0, tok, 200, 1, 1},                      // 2 → 1 token; the 2nd is back at +0.5s → second 1
		{0, tok, 200, 0, 1},                      // 1 → 0; next at +0.5s
		{0, tok, 429, 0, 1},                      // empty
		{250 * time.Millisecond, tok, 429, 0, 1}, // 0.5 tokens; next at +0.5s
		{250 * time.Millisecond, tok, 200, 0, 1}, // 1 → 0 at +0.5s; next at exactly +1.0s
		{500 * time.Millisecond, "", 401, 0, 2},  // +1.0s: refused requests take a token too; next at +1.5s → 2
		{10 * time.Second, tok, 200, 1, 12},      // capped at 2 → 1; next at +11.5s → 12
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		r := call(t, tn, "GET", userPath(alice), s.token, "")
		if r.status != s.status {
			t.Fatalf("step %d: status %d, want %d: %s", i, r.status, s.status, r.body)
		}
		got := [3]string{r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"), r.header.Get("X-RateLimit-Reset")}
		want := [3]string{"2", strconv.Itoa(s.remaining), strconv.FormatInt(t0+s.reset, 10)}
		if got != want {
			t.Errorf("step %d: headers (limit, remaining, reset) = %v, want %v", i, got, want)
		}
		if s.status == 429 {
			if d := cmp.Diff(errBody(429, "Too Many Requests", "Global limit has been reached", "too_many_requests"), r.json(t)); d != "" {
				t.Errorf("step %d: 429 body (-want +got):\n%s", i, d)
			}
		}
	}

	t.Run("slow refill", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now), apitest.WithRateLimit(3, 0.5))
		r := call(t, tn, "GET", "/api/v2/anything", "", "")
		if r.header.Get("X-RateLimit-Remaining") != "2" || r.header.Get("X-RateLimit-Reset") != strconv.FormatInt(clock.Now().Unix()+2, 10) {
			t.Errorf("headers = %v", r.header)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		for range 20 {
			r := call(t, tn, "GET", userPath(alice), "", "")
			if r.status != 401 || r.header.Get("X-RateLimit-Limit") != "" {
				t.Fatalf("status %d, headers %v", r.status, r.header)
			}
		}
	})
	t.Run("not on well-known", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers, apitest.WithRateLimit(1, 1), apitest.WithClock(newFakeClock().Now))
		for range 3 {
			if r := call(t, tn, "GET", "/.well-known/jwks.json", "", ""); r.status != 200 {
				t.Fatalf("jwks status %d", r.status)
			}
		}
	})
	t.Run("real clock in a synctest bubble", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn, err := apitest.Start(apitest.WithMemoryNetwork(), apitest.WithRateLimit(1, 1))
			if err != nil {
				t.Fatal(err)
			}
			defer tn.Close()
			if err := tn.AddUser(apitest.User{ID: alice}); err != nil {
				t.Fatal(err)
			}
			tok := tn.AccessToken(alice, "read:current_user")
			for i, want := range []int{200, 429} {
				if r := call(t, tn, "GET", userPath(alice), tok, ""); r.status != want {
					t.Fatalf("request %d: status %d, want %d", i, r.status, want)
				}
			}
			time.Sleep(time.Second)
			if r := call(t, tn, "GET", userPath(alice), tok, ""); r.status != 200 {
				t.Fatalf("after 1s: status %d", r.status)
			}
		})
	})
}

// noReuse is a client that opens a connection per request, so that the
// transport never retries a request on a dropped, reused connection.
func noReuse(tn *apitest.Tenant) *http.Client {
	tr := tn.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr}
}

func send(ctx context.Context, c *http.Client, tn *apitest.Tenant, method, path, token, body string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, tn.URL()+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// Rule 11: faults per operation, the clock, inspection.
func TestRule11Faults(t *testing.T) {
	t.Parallel()
	patch := `{"user_metadata":{"touched":true}}`
	touched := func(tn *apitest.Tenant) bool {
		u, _ := tn.User(alice)
		return u.UserMetadata["touched"] == true
	}
	t.Run("status once", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		tn.InjectFault(apitest.OpGetUser, apitest.Fault{Status: 503, Times: 1})
		tok := tn.AccessToken(alice, "read:current_user")
		r := call(t, tn, "GET", userPath(alice), tok, "")
		if d := cmp.Diff(errBody(503, "Service Unavailable", "Service Unavailable", ""), r.json(t)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if r := call(t, tn, "GET", userPath(alice), tok, ""); r.status != 200 {
			t.Errorf("second call: %d", r.status)
		}
	})
	t.Run("only the named operation, until cleared", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Status: 500})
		tok := tn.AccessToken(alice, "read:current_user", "update:current_user_metadata")
		for range 3 {
			if r := call(t, tn, "PATCH", userPath(alice), tok, patch); r.status != 500 {
				t.Fatalf("patch: %d", r.status)
			}
			if r := call(t, tn, "GET", userPath(alice), tok, ""); r.status != 200 {
				t.Fatalf("get: %d", r.status)
			}
		}
		if touched(tn) {
			t.Error("a status fault acted")
		}
		tn.ClearFaults()
		if r := call(t, tn, "PATCH", userPath(alice), tok, patch); r.status != 200 || !touched(tn) {
			t.Errorf("after ClearFaults: %d", r.status)
		}
	})
	t.Run("drop before act", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Drop: apitest.DropBeforeAct, Times: 1})
		_, _, err := send(t.Context(), noReuse(tn), tn, "PATCH", userPath(alice), tn.AccessToken(alice, "update:current_user_metadata"), patch)
		if err == nil {
			t.Fatal("no error from a dropped connection")
		}
		if touched(tn) {
			t.Error("DropBeforeAct acted")
		}
	})
	t.Run("drop after act", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Drop: apitest.DropAfterAct, Times: 1})
		_, _, err := send(t.Context(), noReuse(tn), tn, "PATCH", userPath(alice), tn.AccessToken(alice, "update:current_user_metadata"), patch)
		if err == nil {
			t.Fatal("no error from a dropped connection")
		}
		if !touched(tn) {
			t.Error("DropAfterAct did not act")
		}
	})
	t.Run("truncate", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		tn.InjectFault(apitest.OpPatchUser, apitest.Fault{Truncate: true, Times: 1})
		res, b, err := send(t.Context(), noReuse(tn), tn, "PATCH", userPath(alice), tn.AccessToken(alice, "update:current_user_metadata"), patch)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want unexpected EOF", err)
		}
		if res.StatusCode != 200 || res.ContentLength != int64(2*len(b)) && res.ContentLength != int64(2*len(b)+1) {
			t.Errorf("status %d, Content-Length %d, got %d bytes", res.StatusCode, res.ContentLength, len(b))
		}
		if !touched(tn) {
			t.Error("Truncate did not act")
		}
	})
	t.Run("oversize", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		tn.InjectFault(apitest.OpGetEnrollments, apitest.Fault{Oversize: 3 << 20})
		res, b, err := send(t.Context(), tn.Client(), tn, "GET", userPath(alice)+"/enrollments", tn.AccessToken(alice, "read:current_user"), "")
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || len(b) != 3<<20 || !json.Valid(b) {
			t.Errorf("status %d, %d bytes, valid %v", res.StatusCode, len(b), json.Valid(b))
		}
	})
	t.Run("delay", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn, err := apitest.Start(apitest.WithMemoryNetwork())
			if err != nil {
				t.Fatal(err)
			}
			defer tn.Close()
			tn.AddUser(apitest.User{ID: alice})
			tok := tn.AccessToken(alice, "read:current_user")
			tn.InjectFault(apitest.OpGetUser, apitest.Fault{Delay: 5 * time.Second, Times: 2})
			start := time.Now()
			res, _, err := send(t.Context(), tn.Client(), tn, "GET", userPath(alice), tok, "")
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("delayed call: %v", err)
			}
			if d := time.Since(start); d != 5*time.Second {
				t.Errorf("took %v, want 5s", d)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			if _, _, err := send(ctx, tn.Client(), tn, "GET", userPath(alice), tok, ""); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want deadline exceeded", err)
			}
		})
	})
	t.Run("inspection", func(t *testing.T) {
		t.Parallel()
		tn := apitest.New(t, testUsers)
		tn.ResetRequests()
		tok := tn.AccessToken(alice, "update:current_user_metadata")
		call(t, tn, "PATCH", userPath(alice), tok, patch)
		reqs := tn.Requests()
		if len(reqs) != 1 || reqs[0].Method != "PATCH" || string(reqs[0].Body) != patch || reqs[0].Header.Get("Content-Type") != "application/json" {
			t.Fatalf("requests = %+v", reqs)
		}
		reqs[0].Body[0] = 'X'
		if tn.Requests()[0].Body[0] != '{' {
			t.Error("Requests returned shared memory")
		}
		u, _ := tn.User(alice)
		u.UserMetadata["touched"] = "mutated"
		if !touched(tn) {
			t.Error("User returned shared memory")
		}
	})
}

// Rule 12: concurrent use under -race, and Close leaves no goroutine.
func TestRule12Concurrency(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := tn.AccessToken(alice, "read:current_user", "update:current_user_metadata", "create:current_user_device_credentials")
			ctx := context.Background()
			if res, b, err := send(ctx, tn.Client(), tn, "PATCH", userPath(alice), tok, fmt.Sprintf(`{"user_metadata":{"k%d":%d}}`, i, i)); err != nil || res.StatusCode != 200 {
				errs <- fmt.Errorf("patch %d: %v %s", i, err, b)
			}
			if res, _, err := send(ctx, tn.Client(), tn, "GET", userPath(alice), tok, ""); err != nil || res.StatusCode != 200 {
				errs <- fmt.Errorf("get %d: %v", i, err)
			}
			body := fmt.Sprintf(`{"device_name":"d","type":"public_key","value":"QQ==","device_id":"%x"}`, i+10)
			if res, _, err := send(ctx, tn.Client(), tn, "POST", "/api/v2/device-credentials", tok, body); err != nil || res.StatusCode != 201 {
				errs <- fmt.Errorf("create %d: %v", i, err)
			}
			tn.InjectFault(apitest.OpGetEnrollments, apitest.Fault{Status: 500, Times: 1})
			tn.User(alice)
			tn.Requests()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	u, _ := tn.User(alice)
	if len(u.UserMetadata) != n+1 {
		t.Errorf("%d metadata keys, want %d (a lost update)", len(u.UserMetadata), n+1)
	}
	if c := len(tn.DeviceCredentials(alice)); c != n {
		t.Errorf("%d credentials, want %d", c, n)
	}
}

// Close leaves no goroutine behind, with idle keep-alive connections open,
// on every kind of listener.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	// Not parallel: goleak compares against the goroutines present now.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, opts := range [][]apitest.Option{nil, {apitest.WithTLS()}, {apitest.WithMemoryNetwork()}, {apitest.WithMemoryNetwork(), apitest.WithTLS()}} {
		tn, err := apitest.Start(opts...)
		if err != nil {
			t.Fatal(err)
		}
		tn.AddUser(apitest.User{ID: alice})
		tok := tn.AccessToken(alice, "read:current_user")
		for range 2 {
			if res, _, err := send(t.Context(), tn.Client(), tn, "GET", userPath(alice), tok, ""); err != nil || res.StatusCode != 200 {
				t.Fatalf("%d options: get: %v", len(opts), err)
			}
		}
		tn.Close()
		tn.Close() // twice is fine
	}
}

// Close releases a request held by a Delay fault: the client sees the
// connection closed, and no time passes.
func TestCloseReleasesDelayedRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := apitest.New(t, apitest.WithMemoryNetwork(), testUsers)
		tok := tn.AccessToken(alice, "read:current_user")
		tn.InjectFault(apitest.OpGetUser, apitest.Fault{Delay: time.Hour})
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, _, err := send(context.Background(), tn.Client(), tn, "GET", userPath(alice), tok, "")
			done <- err
		}()
		synctest.Wait() // the request is parked in the Delay
		tn.Close()
		if err := <-done; err == nil {
			t.Error("request held by Delay succeeded after Close")
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Close waited %v", d)
		}
		if len(tn.Requests()) != 1 {
			t.Errorf("requests = %d", len(tn.Requests()))
		}
	})
}

func BenchmarkGetUser(b *testing.B) {
	tn, err := apitest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer tn.Close()
	tn.AddUser(apitest.User{ID: alice, Email: "alice@example.com"})
	tok := tn.AccessToken(alice, "read:current_user")
	for b.Loop() {
		res, _, err := send(context.Background(), tn.Client(), tn, "GET", userPath(alice), tok, "")
		if err != nil || res.StatusCode != 200 {
			b.Fatal(err)
		}
	}
}

func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		tn, err := apitest.Start()
		if err != nil {
			b.Fatal(err)
		}
		tn.Close()
	}
}
