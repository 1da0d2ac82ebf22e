package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/auth0me/auth0me/scopeguard"
)

// Sentinels for errors.Is; the package documentation has the full table.
// A sentinel exists only where callers branch on it: the status of an
// *Error is in its StatusCode, and only the statuses that call for their own
// handling have one.
var (
	// ErrUnauthorized: Auth0 answered 401; the token is no longer accepted
	// (revoked, or signed by a key the tenant no longer trusts), and the
	// user must sign in again.
	ErrUnauthorized = errors.New("api: unauthorized (401)")
	// ErrNotFound: Auth0 answered 404 (a *MaybeDeletedError matches it too).
	ErrNotFound = errors.New("api: not found (404)")
	// ErrRateLimited: Auth0 answered 429 through every retry the client
	// allowed.
	ErrRateLimited = errors.New("api: rate limited (429)")

	// ErrInvalidArgument: an argument breaks a rule Auth0 would enforce; the
	// call was not sent. A *ValidationError carries the detail.
	ErrInvalidArgument = errors.New("api: invalid argument")
	// ErrInvalidIDToken: the ID token given to LinkIdentity would be refused
	// by Auth0; the call was not sent. An *IDTokenError carries the reason.
	ErrInvalidIDToken = errors.New("api: invalid ID token for linking")
	// ErrBodyTooLarge: a response body exceeded the client's size cap.
	ErrBodyTooLarge = errors.New("api: response body too large")
	// ErrConnection: the exchange failed at the network level (refused,
	// reset, closed before an answer). A *ConnectionError carries the cause.
	ErrConnection = errors.New("api: connection failed")
	// ErrBadResponse: a response could not be read or decoded (truncated,
	// malformed JSON, or a status the operation does not document with a
	// body).
	ErrBadResponse = errors.New("api: bad response")
	// ErrOption: New was given an invalid Option, domain, base URL or guard
	// option. It is a configuration error, never a refusal of a call.
	ErrOption = errors.New("api: invalid option")
)

// The guard's refusals: the call was not sent. These are the values of
// package scopeguard, so errors.Is matches them whichever package a caller
// names; api users need not import scopeguard.
var (
	// ErrInsufficientScope: the token holds none of the operation's scopes;
	// a *ScopeError says which would do.
	ErrInsufficientScope = scopeguard.ErrInsufficientScope
	// ErrSubjectMismatch: the request names a user other than the token's
	// subject (a *SubjectError).
	ErrSubjectMismatch = scopeguard.ErrSubjectMismatch
	// ErrInvalidParameter: a path parameter would not stay one path segment
	// (a *ParamError).
	ErrInvalidParameter = scopeguard.ErrInvalidParameter
	// ErrTokenSource: the token source failed or gave no bearer token.
	ErrTokenSource = scopeguard.ErrTokenSource
	// ErrMalformedToken: the access token is not a readable JWT (a token
	// with a trailing newline included).
	ErrMalformedToken = scopeguard.ErrMalformedToken
	// ErrTokenExpired: the access token's exp, plus the leeway, has passed.
	ErrTokenExpired = scopeguard.ErrTokenExpired
	// ErrAudience: the access token is not for this tenant's Management API.
	ErrAudience = scopeguard.ErrAudience
	// ErrAdminToken: the access token has no user subject (client
	// credentials); use Auth0's own SDK, github.com/auth0/go-auth0.
	ErrAdminToken = scopeguard.ErrAdminToken
)

// The details of the guard's refusals, for errors.As; aliases of
// scopeguard's types, so errors.As with either name works.
type (
	// ScopeError names the operation, the scopes any one of which would do
	// (AnyOf) and the scopes the token grants (Granted).
	ScopeError = scopeguard.ScopeError
	// SubjectError names the token's subject and the user requested.
	SubjectError = scopeguard.SubjectError
	// ParamError names the path parameter refused and why.
	ParamError = scopeguard.ParamError
)

// Error is a non-2xx answer from the Management API. Use errors.As to read it
// (StatusCode, Auth0's Code and Message) and errors.Is with ErrUnauthorized,
// ErrNotFound or ErrRateLimited for the statuses that have a sentinel.
type Error struct {
	// Operation is the operation ID, e.g. "get_users_by_id".
	Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Auth0's errorCode, e.g. "insufficient_scope"; it is often
	// empty, notably on 401s.
	Code string
	// Message is Auth0's message.
	Message string
	// Reason is Auth0's error field, the HTTP reason phrase.
	Reason string
	// RateLimit holds the X-RateLimit-* headers when the answer had them.
	RateLimit *RateLimit
	// RetryAfter is the wait the Retry-After header asked for, or zero;
	// a wait too long for a Duration is the longest Duration.
	RetryAfter time.Duration
	// Attempts is how many times the call was sent.
	Attempts int

	// uncertain: an earlier attempt of the call failed where the server may
	// have acted on it.
	uncertain bool
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Reason
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if e.Code != "" {
		return fmt.Sprintf("api: %s: %d %s: %s", e.Operation, e.StatusCode, e.Code, msg)
	}
	return fmt.Sprintf("api: %s: %d: %s", e.Operation, e.StatusCode, msg)
}

// Unwrap returns ErrUnauthorized, ErrNotFound or ErrRateLimited for those
// statuses, else nil.
func (e *Error) Unwrap() error {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return nil
}

// errorBody is Auth0's error shape.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

// maxErrorText bounds how much of an error body's text lands in an *Error.
const maxErrorText = 1024

// newError turns a non-2xx answer into an *Error. The body need not be JSON.
// redact removes the call's tokens from the server's text before it is
// clipped.
func newError(op string, resp *http.Response, body []byte, now time.Time, redact func(string) string) *Error {
	e := &Error{
		Operation:  op,
		StatusCode: resp.StatusCode,
		RateLimit:  parseRateLimit(resp.Header),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code, e.Message, e.Reason = clip(redact(eb.ErrorCode)), clip(redact(eb.Message)), clip(redact(eb.Error))
	}
	return e
}

func clip(s string) string {
	if len(s) > maxErrorText {
		return strings.ToValidUTF8(s[:maxErrorText], "") + "…"
	}
	return s
}

// ValidationError reports an argument the API would refuse; nothing was
// sent. It matches ErrInvalidArgument.
type ValidationError struct {
	Operation string
	Field     string
	Reason    string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("api: %s: invalid %s: %s", e.Operation, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidArgument.
func (e *ValidationError) Unwrap() error { return ErrInvalidArgument }

// MaybeDeletedError reports a DeleteDeviceCredential whose retry found no
// credential after an earlier attempt failed where the server may have
// acted: the first attempt may have deleted it, or the id may never have
// named one of the user's credentials. It matches ErrNotFound, through Err.
type MaybeDeletedError struct {
	ID  string // the credential id
	Err *Error // the 404 answer to the retry
}

func (e *MaybeDeletedError) Error() string {
	return fmt.Sprintf("api: %s: credential %q not found on retry; the first attempt, whose answer was lost, may have deleted it",
		e.Err.Operation, clip(e.ID))
}

// Unwrap returns the 404 *Error.
func (e *MaybeDeletedError) Unwrap() error { return e.Err }

// IDTokenError reports why LinkIdentity refused an ID token before sending
// it. It matches ErrInvalidIDToken. It never contains the token, and each
// value it quotes is clipped to 1 KiB, as *Error clips server text.
type IDTokenError struct {
	Reason string
}

func (e *IDTokenError) Error() string { return "api: post_identities: " + e.Reason }

// Unwrap returns ErrInvalidIDToken.
func (e *IDTokenError) Unwrap() error { return ErrInvalidIDToken }

// ResponseError reports an answer that could not be read or decoded. It
// matches ErrBadResponse and, when the body was over the cap,
// ErrBodyTooLarge.
type ResponseError struct {
	Operation  string
	StatusCode int // 0 when no status was read
	Err        error
	read       bool        // the body could not be read (as opposed to decoded)
	tokens     *sentTokens // the call's, redacted from the cause's text
}

func (e *ResponseError) Error() string {
	cause := e.tokens.redact(strings.TrimPrefix(e.Err.Error(), "api: "))
	if e.StatusCode == 0 {
		return fmt.Sprintf("api: %s: bad response: %s", e.Operation, cause)
	}
	return fmt.Sprintf("api: %s: bad response (status %d): %s", e.Operation, e.StatusCode, cause)
}

// Unwrap returns ErrBadResponse and the cause.
func (e *ResponseError) Unwrap() []error { return []error{ErrBadResponse, e.Err} }

// ConnectionError reports an exchange that failed at the network level; for
// POST and PATCH the server may or may not have acted. It matches
// ErrConnection and the cause.
type ConnectionError struct {
	Operation string
	Err       error
	tokens    *sentTokens // the call's, redacted from the cause's text
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("api: %s: connection failed: %s", e.Operation, e.tokens.redact(e.Err.Error()))
}

// Unwrap returns ErrConnection and the cause.
func (e *ConnectionError) Unwrap() []error { return []error{ErrConnection, e.Err} }
