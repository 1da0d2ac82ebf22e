package apitest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
)

// TestNewClosesWhenTheTestEnds: the tenant New starts serves during the
// test and is closed by its cleanup.
func TestNewClosesWhenTheTestEnds(t *testing.T) {
	t.Parallel()
	var tn *apitest.Tenant
	t.Run("inner", func(t *testing.T) {
		tn = apitest.New(t, testUsers)
		if r := call(t, tn, "GET", userPath(alice), tn.AccessToken(alice, "read:current_user"), ""); r.status != http.StatusOK {
			t.Fatalf("status %d during the test", r.status)
		}
	})
	if _, err := tn.Client().Get(tn.BaseURL()); err == nil {
		t.Error("the tenant still answers after the test ended")
	}
}

// fatalTB records Fatal instead of ending the goroutine.
type fatalTB struct {
	testing.TB
	fatal []any
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Fatal(args ...any) { f.fatal = append(f.fatal, args...) }
func (f *fatalTB) Cleanup(func())    { f.fatal = append(f.fatal, "cleanup registered") }

// TestNewFailsTheTest: an option or user Start refuses fails the test with
// the error, and nothing is left to clean up.
func TestNewFailsTheTest(t *testing.T) {
	t.Parallel()
	f := &fatalTB{TB: t}
	if tn := apitest.New(f, apitest.WithUsers(apitest.User{ID: "no-provider"})); tn != nil {
		t.Error("New returned a tenant")
	}
	if len(f.fatal) != 1 || !errors.Is(f.fatal[0].(error), apitest.ErrInvalidUser) {
		t.Errorf("Fatal got %v, want one ErrInvalidUser", f.fatal)
	}
}

// TestTokenSource: its tokens are the tenant's, for sub with exactly the
// scopes; one is reused until it expires, then a new one is minted.
func TestTokenSource(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Now().Add(-48 * time.Hour)}
	tn := apitest.New(t, testUsers, apitest.WithClock(clock.Now), apitest.WithTokenLifetimes(time.Hour, time.Hour))
	ts := tn.TokenSource(alice, "read:current_user")
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, tn, "GET", userPath(alice), tok.AccessToken, ""); r.status != http.StatusOK {
		t.Errorf("GET with the token: %d", r.status)
	}
	if r := call(t, tn, "PATCH", userPath(alice), tok.AccessToken, `{"user_metadata":{}}`); r.status != http.StatusForbidden {
		t.Errorf("PATCH without the scope: %d, want 403", r.status)
	}
	// The tenant's clock is two days behind: by the real clock the token
	// has expired, so each call mints afresh, at the tenant's time.
	clock.Advance(time.Minute)
	again, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken == tok.AccessToken {
		t.Error("an expired token was reused")
	}
	live := apitest.New(t, testUsers).TokenSource(bob)
	a, _ := live.Token()
	b, _ := live.Token()
	if a.AccessToken != b.AccessToken || a.Expiry.Before(time.Now().Add(23*time.Hour)) {
		t.Errorf("a live token was not reused until its expiry %v", a.Expiry)
	}
}
