package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/scopeguard"
)

// Regression tests for the hardening of issue 12: each case was let through
// or misclassified before.

func TestNestedMetadataKeysRefused(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, allScopes)
	for name, md := range map[string]map[string]any{
		"dot in nested key":    {"prefs": map[string]any{"ui.theme": "dark"}},
		"dollar in nested key": {"prefs": map[string]any{"$set": 1}},
		"deep":                 {"a": map[string]any{"b": map[string]any{"c": map[string]any{"d.e": 1}}}},
		"in an array":          {"list": []any{map[string]any{"ok": 1}, map[string]any{"x$": 2}}},
		"typed map":            {"prefs": map[string]string{"ui.theme": "dark"}},
		"struct with a json tag": {"prefs": struct {
			V int `json:"a.b"`
		}{1}},
	} {
		_, err := c.UpdateMetadata(t.Context(), md)
		var ve *api.ValidationError
		if !errors.Is(err, api.ErrInvalidArgument) || !errors.As(err, &ve) {
			t.Errorf("%s: error %v, want *api.ValidationError", name, err)
		}
	}
	if n := len(tn.Requests()); n != 0 {
		t.Errorf("tenant received %d requests, want 0", n)
	}
	// Dots in values, and nested keys without them, are fine.
	if _, err := c.UpdateMetadata(t.Context(), map[string]any{"prefs": map[string]any{"theme": "a.b$c"}, "list": []any{"x.y"}}); err != nil {
		t.Errorf("valid nested metadata: %v", err)
	}
}

func TestUnencodableMetadataIsInvalidArgument(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, allScopes)
	for name, v := range map[string]any{
		"NaN":         math.NaN(),
		"+Inf":        math.Inf(1),
		"-Inf":        math.Inf(-1),
		"channel":     make(chan int),
		"func":        func() {},
		"complex":     complex(1, 2),
		"nested NaN":  map[string]any{"x": []any{math.NaN()}},
		"marshal err": failingMarshaler{},
	} {
		_, err := c.UpdateMetadata(t.Context(), map[string]any{"k": v})
		if !errors.Is(err, api.ErrInvalidArgument) || errors.Is(err, api.ErrConnection) {
			t.Errorf("%s: error %v, want ErrInvalidArgument and not ErrConnection", name, err)
		}
	}
	if n := len(tn.Requests()); n != 0 {
		t.Errorf("tenant received %d requests, want 0", n)
	}
}

type failingMarshaler struct{}

func (failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("cannot") }

// countingSource counts the calls to Token.
type countingSource struct {
	tok string
	n   atomic.Int32
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.n.Add(1)
	return &oauth2.Token{AccessToken: s.tok}, nil
}

func TestTokenWithLineBreakIsMalformedAndNotRetried(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	for _, suffix := range []string{"\n", "\r\n", " "} {
		src := &countingSource{tok: tn.AccessToken(alice, allScopes...) + suffix}
		c, err := api.New(tn.Domain(), src, api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client()), api.WithBackoff(time.Millisecond, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Me(t.Context())
		if !errors.Is(err, scopeguard.ErrMalformedToken) || errors.Is(err, api.ErrConnection) {
			t.Errorf("token + %q: error %v, want ErrMalformedToken", suffix, err)
		}
		if n := src.n.Load(); n != 1 {
			t.Errorf("token + %q: %d attempts, want 1 (no retry)", suffix, n)
		}
	}
	if n := len(tn.Requests()); n != 0 {
		t.Errorf("tenant received %d requests, want 0", n)
	}
}

func TestServerEchoedTokenIsRedacted(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	var tok string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		parts := strings.Split(got, ".")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-RateLimit-Remaining", got) // logged at debug level
		switch r.Method {
		case http.MethodGet:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"statusCode":503,"error":"upstream %s","message":"upstream rejected %s","errorCode":"%s"}`, parts[2], got, parts[1])
		default:
			w.WriteHeader(http.StatusOK)
			fmt.Fprintf(w, `{"user_id":"auth0|alice","identities":[{"provider":"auth0","user_id":{"%s":1}}]}`, parts[0])
		}
	}))
	t.Cleanup(srv.Close)
	claims := tn.AccessTokenClaims(alice, allScopes...)
	claims["aud"] = "https://" + srv.Listener.Addr().String() + "/api/v2/"
	tok, err := tn.SignToken(claims)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := api.New("example.auth0.com", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}),
		api.WithBaseURL(srv.URL+"/api/v2/"), api.WithLogger(logger),
		api.WithMaxRetries(1), api.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, meErr := c.Me(t.Context())
	var ae *api.Error
	if !errors.As(meErr, &ae) || ae.StatusCode != 503 {
		t.Fatalf("Me: %v, want a 503 *api.Error", meErr)
	}
	_, patchErr := c.UpdateMetadata(t.Context(), map[string]any{"a": 1})
	texts := map[string]string{
		"Error()":         meErr.Error(),
		"Message":         ae.Message,
		"Code":            ae.Code,
		"Reason":          ae.Reason,
		"log":             logs.String(),
		"ResponseError()": fmt.Sprint(patchErr),
	}
	if !strings.Contains(ae.Message, "upstream rejected [REDACTED]") {
		t.Errorf("Message %q, want the token replaced by [REDACTED]", ae.Message)
	}
	for name, s := range texts {
		if strings.Contains(s, tok) {
			t.Errorf("%s contains the token: %q", name, s)
		}
		for _, part := range strings.Split(tok, ".") {
			if strings.Contains(s, part) {
				t.Errorf("%s contains a part of the token: %q", name, s)
			}
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry was logged: %s", logs.String())
	}
}

func TestLinkIdentityReadsExactClaimNames(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tn := apitest.New(t, testUsers, apitest.WithSigningKey(key))
	c := newClient(t, tn, alice, allScopes)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Raw payloads keep their key order: with case-insensitive matching
	// the last of two spellings would win.
	sign := func(claims string) string {
		payload := fmt.Sprintf(`{"iss":%q,"iat":%d,"exp":%d,%s}`, tn.Issuer(), time.Now().Unix(), time.Now().Add(time.Hour).Unix(), claims)
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	azp := tn.ClientID()
	if _, err := c.LinkIdentity(t.Context(), sign(fmt.Sprintf(`"sub":%q,"aud":%q`, carol, azp))); err != nil {
		t.Fatalf("a valid raw ID token is refused: %v", err)
	}
	n := len(tn.Requests())
	for name, claims := range map[string]string{
		"aud another, Aud the azp":  fmt.Sprintf(`"sub":%q,"aud":"other","Aud":%q`, bob, azp),
		"no aud, AUD the azp":       fmt.Sprintf(`"sub":%q,"AUD":%q`, bob, azp),
		"sub the caller, Sub other": fmt.Sprintf(`"sub":%q,"Sub":%q,"aud":%q`, alice, bob, azp),
		"no sub, SUB set":           fmt.Sprintf(`"SUB":%q,"aud":%q`, bob, azp),
	} {
		_, err := c.LinkIdentity(t.Context(), sign(claims))
		if !errors.Is(err, api.ErrInvalidIDToken) {
			t.Errorf("%s: error %v, want ErrInvalidIDToken", name, err)
		}
	}
	if got := len(tn.Requests()); got != n {
		t.Errorf("tenant received %d more requests, want 0", got-n)
	}
}

func TestIDTokenErrorClipsQuotedValues(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, allScopes)
	claims := tn.IDTokenClaims(carol)
	claims["aud"] = strings.Repeat("a", 1<<20)
	tok, err := tn.SignToken(claims)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.LinkIdentity(t.Context(), tok)
	if !errors.Is(err, api.ErrInvalidIDToken) {
		t.Fatalf("error %v, want ErrInvalidIDToken", err)
	}
	if n := len(err.Error()); n > 4096 {
		t.Errorf("error text is %d bytes, want at most 4096", n)
	}
}

func TestInvalidOptionsMatchErrOption(t *testing.T) {
	t.Parallel()
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})
	for name, opt := range map[string]api.Option{
		"http to a remote host":   api.WithBaseURL("http://tenant.example.com/api/v2/"),
		"ftp":                     api.WithBaseURL("ftp://tenant.example.com/api/v2/"),
		"user info":               api.WithBaseURL("https://u:p@tenant.example.com/api/v2/"),
		"query":                   api.WithBaseURL("https://tenant.example.com/api/v2/?x=1"),
		"fragment":                api.WithBaseURL("https://tenant.example.com/api/v2/#x"),
		"no host":                 api.WithBaseURL("https:///api/v2/"),
		"dot segment":             api.WithBaseURL("https://tenant.example.com/api/../v2/"),
		"guard leeway of an hour": api.WithGuardOptions(scopeguard.WithLeeway(time.Hour)),
		"guard cache size 0":      api.WithGuardOptions(scopeguard.WithCacheSize(0)),
		"guard nil clock":         api.WithGuardOptions(scopeguard.WithClock(nil)),
		"rate NaN":                api.WithRateLimit(math.NaN(), 1),
		"rate +Inf":               api.WithRateLimit(math.Inf(1), 1),
		"rate -Inf":               api.WithRateLimit(math.Inf(-1), 1),
		"rate 0":                  api.WithRateLimit(0, 1),
		"burst 0":                 api.WithRateLimit(1, 0),
	} {
		c, err := api.New("tenant.example.com", ts, opt)
		if c != nil || !errors.Is(err, api.ErrOption) {
			t.Errorf("%s: New = %v, %v; want an error matching api.ErrOption", name, c, err)
		}
		if scopeguard.Refused(err) {
			t.Errorf("%s: %v is classified as a refusal", name, err)
		}
	}
	if _, err := api.New("tenant.example.com", ts, api.WithBaseURL("http://localhost:8080/api/v2/"), api.WithRateLimit(10, 1)); err != nil {
		t.Errorf("loopback http and a finite rate: %v", err)
	}
}

func TestDeleteAfterUncertainAttemptIsNotSuccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		drop  apitest.DropMode
		owned bool
	}{
		{"first attempt deleted it", apitest.DropAfterAct, true},
		{"id never existed", apitest.DropBeforeAct, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bubble(t, nil, func(t *testing.T, tn *apitest.Tenant) {
				c := newClient(t, tn, alice, allScopes)
				id := "dcr_neverexisted"
				if tc.owned {
					var err error
					id, err = tn.AddDeviceCredential(apitest.DeviceCredential{UserID: alice, DeviceName: "d", DeviceID: "ab", Type: "public_key", Value: "v"})
					if err != nil {
						t.Fatal(err)
					}
				}
				tn.InjectFault(apitest.OpDeleteDeviceCredential, apitest.Fault{Drop: tc.drop, Times: 1})
				err := c.DeleteDeviceCredential(context.Background(), id)
				var me *api.MaybeDeletedError
				if !errors.Is(err, api.ErrNotFound) || !errors.As(err, &me) || me.ID != id {
					t.Fatalf("error %v, want a *api.MaybeDeletedError for %q matching ErrNotFound", err, id)
				}
				if !strings.Contains(err.Error(), "may have deleted") {
					t.Errorf("error text %q does not say the first attempt may have deleted it", err)
				}
			})
		})
	}
}

func TestRefusalSentinelsAreTheGuards(t *testing.T) {
	t.Parallel()
	for a, s := range map[error]error{
		api.ErrInsufficientScope: scopeguard.ErrInsufficientScope,
		api.ErrSubjectMismatch:   scopeguard.ErrSubjectMismatch,
		api.ErrInvalidParameter:  scopeguard.ErrInvalidParameter,
		api.ErrTokenSource:       scopeguard.ErrTokenSource,
		api.ErrMalformedToken:    scopeguard.ErrMalformedToken,
		api.ErrTokenExpired:      scopeguard.ErrTokenExpired,
		api.ErrAudience:          scopeguard.ErrAudience,
		api.ErrAdminToken:        scopeguard.ErrAdminToken,
	} {
		if a != s {
			t.Errorf("api's %v is not scopeguard's value", a)
		}
	}
	tn := apitest.New(t, testUsers)
	c := newClient(t, tn, alice, []string{"openid"})
	_, err := c.Me(t.Context())
	var se *api.ScopeError
	var sge *scopeguard.ScopeError
	if !errors.Is(err, api.ErrInsufficientScope) || !errors.As(err, &se) || !errors.As(err, &sge) {
		t.Fatalf("error %v, want api.ErrInsufficientScope with *api.ScopeError and *scopeguard.ScopeError", err)
	}
	if len(se.AnyOf) == 0 || len(se.Granted) != 1 || se.Granted[0] != "openid" {
		t.Errorf("ScopeError = %+v, want AnyOf and Granted [openid]", se)
	}
	// A DELETE whose id would leave its segment is the guard's refusal too.
	if err := c.DeleteDeviceCredential(t.Context(), "a/../b"); !errors.Is(err, api.ErrInvalidParameter) {
		t.Errorf("DeleteDeviceCredential(a/../b) = %v, want api.ErrInvalidParameter", err)
	}
}

func TestGuardWithBaseCannotBypassTheClient(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	var bypassed atomic.Bool
	other := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		bypassed.Store(true)
		return tn.Client().Transport.RoundTrip(r)
	})
	c := newClient(t, tn, alice, allScopes, api.WithGuardOptions(scopeguard.WithBase(other)), api.WithMaxBodySize(1024))
	if _, err := c.Me(t.Context()); err != nil && !errors.Is(err, api.ErrBodyTooLarge) {
		t.Fatal(err)
	}
	if bypassed.Load() {
		t.Error("scopeguard.WithBase replaced the client's transport")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
