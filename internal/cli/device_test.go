package cli_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// pollFaults answers the first device-code polls of /oauth/token with
// canned OAuth errors instead of passing them to the tenant.
type pollFaults struct {
	base http.RoundTripper
	mu   sync.Mutex
	errs []cannedError
}

type cannedError struct {
	status int
	code   string
}

func (p *pollFaults) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/oauth/token" && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		p.mu.Lock()
		var e *cannedError
		if form.Get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code" && len(p.errs) > 0 {
			e = &p.errs[0]
			p.errs = p.errs[1:]
		}
		p.mu.Unlock()
		if e != nil {
			return &http.Response{
				StatusCode: e.status,
				Header:     http.Header{"Content-Type": {"application/json"}},
				Body:       io.NopCloser(strings.NewReader(`{"error":"` + e.code + `","error_description":"canned ` + e.code + `"}`)),
				Request:    req,
			}, nil
		}
	}
	return p.base.RoundTrip(req)
}

// TestDeviceLogin runs the device flow end to end against an in-memory
// tenant in a synctest bubble, so the 5-second polls take no real time.
func TestDeviceLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		ttl         time.Duration
		canned      []cannedError
		action      string // "approve", "deny" or ""
		after       time.Duration
		clientID    string // default the tenant's
		interactive bool
		wantCode    int
		wantStderr  []string
		wantElapsed time.Duration
		golden      string
	}{
		{
			name: "approved after two pending polls", ttl: time.Minute, action: "approve", after: 12 * time.Second,
			wantStderr:  []string{"Waiting for approval (the code expires in 1m0s) ...", "Approved."},
			wantElapsed: 15 * time.Second, golden: "login_device",
		},
		{
			name: "slow_down widens the interval", ttl: time.Minute, canned: []cannedError{{http.StatusTooManyRequests, "slow_down"}}, action: "approve",
			wantStderr:  []string{"The server asked to slow down; polling every 10s.", "Approved."},
			wantElapsed: 15 * time.Second,
		},
		{
			name: "denied", ttl: time.Minute, action: "deny", wantCode: cli.ExitLogin,
			wantStderr: []string{"auth0me: the sign-in was denied on the other device"}, wantElapsed: 5 * time.Second,
		},
		{
			name: "expired_token from the server", ttl: time.Minute, canned: []cannedError{{http.StatusForbidden, "expired_token"}}, wantCode: cli.ExitLogin,
			wantStderr: []string{"the code expired before the sign-in was approved (run 'auth0me login --device' again)"}, wantElapsed: 5 * time.Second,
		},
		{
			name: "invalid_grant", ttl: time.Minute, canned: []cannedError{{http.StatusForbidden, "invalid_grant"}}, wantCode: cli.ExitLogin,
			wantStderr: []string{"the device code is no longer valid", "invalid_grant"}, wantElapsed: 5 * time.Second,
		},
		{
			name: "unknown error", ttl: time.Minute, canned: []cannedError{{http.StatusBadRequest, "server_error"}}, wantCode: cli.ExitLogin,
			wantStderr: []string{"device sign-in failed", "server_error"}, wantElapsed: 5 * time.Second,
		},
		{
			name: "code expires while pending", ttl: 20 * time.Second, wantCode: cli.ExitLogin,
			wantStderr: []string{"the code expired before the sign-in was approved"}, wantElapsed: 20 * time.Second,
		},
		{
			name: "device grant refused", ttl: time.Minute, clientID: "someone-else", wantCode: cli.ExitLogin,
			wantStderr: []string{"cannot start the device sign-in", "invalid_client", "Device Code grant enabled"},
		},
		{
			name: "spinner on a terminal", ttl: time.Minute, action: "approve", after: time.Second, interactive: true,
			wantStderr:  []string{"\r⠋ Waiting for approval: 1:00 left, polling every 5s ", "\r⠙ Waiting for approval: 1:00 left", "0:55 left", "\r\x1b[KApproved."},
			wantElapsed: 5 * time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				tn := apitest.New(t, testUsers, apitest.WithMemoryNetwork(), apitest.WithTLS(), apitest.WithDeviceCodeTiming(tc.ttl, 5*time.Second))
				h := newHarness(t, tn)
				h.client = &http.Client{Transport: &pollFaults{base: tn.Client().Transport, errs: tc.canned}}
				h.interact = tc.interactive
				clientID := tc.clientID
				if clientID == "" {
					clientID = tn.ClientID()
				}
				start := time.Now()
				done := make(chan result, 1)
				go func() { done <- h.run("login", "--device", "--client-id", clientID) }()
				synctest.Wait() // login waits for its first poll
				if tc.action != "" {
					codes := tn.PendingUserCodes()
					if len(codes) != 1 {
						t.Fatalf("pending user codes = %v", codes)
					}
					time.Sleep(tc.after)
					var err error
					if tc.action == "approve" {
						err = tn.ApproveDevice(codes[0], userAda)
					} else {
						err = tn.DenyDevice(codes[0])
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				res := <-done
				if res.code != tc.wantCode {
					t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %q", res.code, tc.wantCode, res.stdout, res.stderr)
				}
				for _, want := range tc.wantStderr {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("stderr lacks %q:\n%q", want, res.stderr)
					}
				}
				if got := time.Since(start); tc.wantElapsed != 0 && got != tc.wantElapsed {
					t.Errorf("took %v of fake time, want %v", got, tc.wantElapsed)
				}
				if tc.wantCode == 0 {
					h.checkModes()
					if tf := h.readTokenFile(); tf.RefreshToken == "" || tf.Domain != tn.Domain() {
						t.Errorf("token file: domain %q, refresh token set %v", tf.Domain, tf.RefreshToken != "")
					}
					if res := h.run("me"); res.code != 0 || !strings.Contains(res.stdout, userAda) {
						t.Errorf("me after device login: %+v", res)
					}
				}
				if tc.golden != "" {
					golden(t, tc.golden, h.render(res))
				}
			})
		})
	}
}
