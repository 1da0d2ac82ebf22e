package proof

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api/apitest"
)

// The six current-user scopes, in the order whose bits make a scope subset.
var allScopes = []string{
	"read:current_user",
	"update:current_user_identities",
	"update:current_user_metadata",
	"create:current_user_metadata",
	"create:current_user_device_credentials",
	"delete:current_user_device_credentials",
}

// scopeSet returns the scopes of subset mask (bit i is allScopes[i]).
func scopeSet(mask int) []string {
	var out []string
	for i, s := range allScopes {
		if mask&(1<<i) != 0 {
			out = append(out, s)
		}
	}
	return out
}

func addUsers(t testing.TB, tn *apitest.Tenant, users ...apitest.User) {
	t.Helper()
	for _, u := range users {
		if err := tn.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
}

// accessToken mints an access token and records it for the leak scan.
func accessToken(tn *apitest.Tenant, sub string, scopes ...string) string {
	return leaks.token("access token", tn.AccessToken(sub, scopes...))
}

// idToken mints an ID token and records it for the leak scan.
func idToken(tn *apitest.Tenant, sub string) string {
	return leaks.token("ID token", tn.IDToken(sub))
}

func static(tok string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
}

// sentRequest is what a transport was asked to send.
type sentRequest struct {
	Method, Path, Auth string
	Body               []byte
}

// readRequest reads and closes req's body.
func readRequest(req *http.Request) (sentRequest, error) {
	s := sentRequest{Method: req.Method, Path: req.URL.EscapedPath(), Auth: req.Header.Get("Authorization")}
	if s.Method == "" {
		s.Method = http.MethodGet
	}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return s, err
		}
		s.Body = b
	}
	return s, nil
}

// recorder is a RoundTripper that records what it is asked to send, sends
// nothing and answers 204. It stands below the guard so that the guard's
// decision can be seen without touching the tenant.
type recorder struct {
	mu  sync.Mutex
	got []sentRequest
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	s, err := readRequest(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
	return &http.Response{
		StatusCode: http.StatusNoContent, Status: "204 No Content",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: http.NoBody, Request: req,
	}, nil
}

// take returns and forgets what was recorded.
func (r *recorder) take() []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// bearer is the guard bypass: it sends every request as it is, with the
// token attached, and records what it sent.
type bearer struct {
	token string
	base  http.RoundTripper
	last  *sentRequest // set by RoundTrip; not safe for concurrent use
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	s, err := readRequest(req)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer "+b.token)
	out.Body, out.ContentLength = nil, 0
	if len(s.Body) > 0 {
		out.Body = io.NopCloser(bytes.NewReader(s.Body))
		out.ContentLength = int64(len(s.Body))
	}
	s.Auth = "Bearer " + b.token
	b.last = &s
	return b.base.RoundTrip(out)
}
