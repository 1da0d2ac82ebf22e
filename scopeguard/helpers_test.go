package scopeguard_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/scopeguard"
)

const (
	testBase = "https://tenant.eu.auth0.com/api/v2/"
	testAud  = "https://tenant.eu.auth0.com/api/v2/"
	testSub  = "auth0|abc"
)

// now is the fixed instant test tokens and clocks are built around.
var now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// claims are the payload of a test token; nil values are left out.
type claims map[string]any

// userClaims returns the claims of a valid user token for testBase with
// the given scopes.
func userClaims(scope string) claims {
	return claims{
		"iss":   "https://tenant.eu.auth0.com/",
		"sub":   testSub,
		"aud":   []string{testAud, "https://tenant.eu.auth0.com/userinfo"},
		"azp":   "client123",
		"iat":   now.Add(-time.Hour).Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"scope": scope,
	}
}

func (c claims) with(kv ...any) claims {
	out := maps.Clone(c)
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

// mint signs c with alg (RS256 when empty) and returns the compact token.
func mint(tb testing.TB, c claims) string {
	tb.Helper()
	return mintAlg(tb, jose.RS256, rsaKey(), c)
}

func mintAlg(tb testing.TB, alg jose.SignatureAlgorithm, key any, c claims) string {
	tb.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatalf("NewSigner: %v", err)
	}
	tok, err := jwt.Signed(signer).Claims(map[string]any(c)).Serialize()
	if err != nil {
		tb.Fatalf("Serialize: %v", err)
	}
	return tok
}

// received is what the recorder saw of one request.
type received struct {
	Method, Path, RawQuery, Auth string
	Header                       http.Header
}

// recorder is an in-memory base RoundTripper that records what it receives
// and answers 200 with an empty JSON object.
type recorder struct {
	mu   sync.Mutex
	reqs []received
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, received{
		Method:   req.Method,
		Path:     req.URL.EscapedPath(),
		RawQuery: req.URL.RawQuery,
		Auth:     req.Header.Get("Authorization"),
		Header:   req.Header.Clone(),
	})
	r.mu.Unlock()
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader("{}")),
		Request:    req,
	}, nil
}

func (r *recorder) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// body is a request body that records whether it was closed.
type body struct {
	io.Reader
	closed atomic.Bool
}

func newBody(s string) *body { return &body{Reader: strings.NewReader(s)} }

func (b *body) Close() error {
	b.closed.Store(true)
	return nil
}

// errSource is a TokenSource that fails.
type errSource struct{ err error }

func (s errSource) Token() (*oauth2.Token, error) { return nil, s.err }

// funcSource adapts a function to oauth2.TokenSource.
type funcSource func() (*oauth2.Token, error)

func (f funcSource) Token() (*oauth2.Token, error) { return f() }

func static(tok string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"})
}

// newGuard returns a guard for testBase over a fresh recorder.
func newGuard(tb testing.TB, tok string, opts ...scopeguard.Option) (*scopeguard.Transport, *recorder) {
	tb.Helper()
	rec := &recorder{}
	opts = append([]scopeguard.Option{scopeguard.WithBase(rec), scopeguard.WithClock(clock)}, opts...)
	g, err := scopeguard.New(testBase, static(tok), opts...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return g, rec
}

// sentinels lists every sentinel error; a refusal matches exactly one.
var sentinels = []error{
	scopeguard.ErrTokenSource, scopeguard.ErrMalformedToken, scopeguard.ErrTokenExpired,
	scopeguard.ErrAudience, scopeguard.ErrAdminToken, scopeguard.ErrUnknownOperation,
	scopeguard.ErrInvalidParameter, scopeguard.ErrSubjectMismatch, scopeguard.ErrInsufficientScope,
	scopeguard.ErrForeignHost, scopeguard.ErrBaseURL, scopeguard.ErrOption,
}

// checkRefusal asserts err is a well-formed refusal matching want.
func checkRefusal(t *testing.T, err, want error, token string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want errors.Is %v", err, want)
	}
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("err %v matches %d sentinels, want 1", err, n)
	}
	fromNew := want == scopeguard.ErrBaseURL || want == scopeguard.ErrOption
	if scopeguard.Refused(err) == fromNew {
		t.Errorf("Refused(%v) = %v, want %v", err, !fromNew, fromNew)
	}
	// http.Client's *url.Error quotes the request URL, which is the
	// caller's; the guard's own message is the wrapped error's.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "scopeguard: ") {
		t.Errorf("message %q does not start with %q", msg, "scopeguard: ")
	}
	if token != "" && strings.Contains(msg, token) {
		t.Errorf("message contains the token: %q", msg)
	}
	for part := range strings.SplitSeq(token, ".") {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("message contains part %q of the token: %q", part, msg)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
