package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/auth0me/auth0me/gen"
)

func TestNewErrorReadsAuth0Bodies(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   Error
		is     error
	}{
		{
			name: "insufficient scope", status: 403,
			body: `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users,read:current_user","errorCode":"insufficient_scope"}`,
			want: Error{Operation: "op", StatusCode: 403, Code: "insufficient_scope", Message: "Insufficient scope, expected any of: read:users,read:current_user", Reason: "Forbidden"},
		},
		{
			name: "401 without errorCode", status: 401,
			body: `{"statusCode":401,"error":"Unauthorized","message":"Invalid token","attributes":{"error":"Invalid token"}}`,
			want: Error{Operation: "op", StatusCode: 401, Message: "Invalid token", Reason: "Unauthorized"},
			is:   ErrUnauthorized,
		},
		{
			name: "429 with headers", status: 429,
			header: http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1700000001"}, "Retry-After": {"2"}},
			body:   `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`,
			want: Error{Operation: "op", StatusCode: 429, Code: "too_many_requests", Message: "Global limit has been reached", Reason: "Too Many Requests",
				RateLimit: &RateLimit{Limit: 10, Remaining: 0, Reset: time.Unix(1700000001, 0)}, RetryAfter: 2 * time.Second},
			is: ErrRateLimited,
		},
		{
			name: "not JSON", status: 502, body: "<html>bad gateway</html>",
			want: Error{Operation: "op", StatusCode: 502},
		},
		{
			name: "older 429 without message", status: 429, body: `{"statusCode":429,"error":"Too Many Requests"}`,
			want: Error{Operation: "op", StatusCode: 429, Reason: "Too Many Requests"}, is: ErrRateLimited,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			got := newError("op", &http.Response{StatusCode: tc.status, Header: h}, []byte(tc.body), now, func(s string) string { return s })
			if diff := cmp.Diff(&tc.want, got, cmpopts.IgnoreUnexported(Error{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Unwrap() != tc.is {
				t.Errorf("%v unwraps to %v, want %v", got, got.Unwrap(), tc.is)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	e := &Error{Operation: gen.OpGetUsersByID, StatusCode: 404, Code: "inexistent_user", Message: "The user does not exist."}
	if got, want := e.Error(), "api: get_users_by_id: 404 inexistent_user: The user does not exist."; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	e = &Error{Operation: "op", StatusCode: 503}
	if got, want := e.Error(), "api: op: 503: Service Unavailable"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func FuzzNewError(f *testing.F) {
	f.Add(403, `{"statusCode":403,"error":"Forbidden","message":"m","errorCode":"unowned_resource"}`, "10", "0", "1700000001", "3")
	f.Add(429, `{"statusCode":"429"}`, "x", "-1", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(500, `[1,2`, "", "", "", "")
	f.Add(400, `{"message":`+`"`+strings.Repeat("a", 5000)+`"}`, "1", "1", "1", "-5")
	f.Fuzz(func(t *testing.T, status int, body, limit, remaining, reset, retryAfter string) {
		h := http.Header{}
		h.Set("X-RateLimit-Limit", limit)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset", reset)
		h.Set("Retry-After", retryAfter)
		e := newError("op", &http.Response{StatusCode: status, Header: h}, []byte(body), time.Unix(1700000000, 0), func(s string) string { return s })
		if e.StatusCode != status {
			t.Fatalf("status %d, want %d", e.StatusCode, status)
		}
		if len(e.Message) > maxErrorText+len("…") || len(e.Code) > maxErrorText+len("…") {
			t.Fatalf("unbounded error text: %d bytes", len(e.Message))
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative Retry-After %v", e.RetryAfter)
		}
		if rl := e.RateLimit; rl != nil && (rl.Limit < 0 || rl.Remaining < 0) {
			t.Fatalf("negative rate limit %+v", rl)
		}
		_ = e.Error()
	})
}
