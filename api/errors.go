package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinels for errors.Is. An *Error matches the one of its status class;
// the other sentinels mark refusals made before anything is sent.
var (
	ErrBadRequest   = errors.New("api: bad request (400)")
	ErrUnauthorized = errors.New("api: unauthorized (401)")
	ErrForbidden    = errors.New("api: forbidden (403)")
	ErrNotFound     = errors.New("api: not found (404)")
	ErrConflict     = errors.New("api: conflict (409)")
	ErrRateLimited  = errors.New("api: rate limited (429)")
	ErrServer       = errors.New("api: server error (5xx)")

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
	// ErrOption: an Option was given an invalid value.
	ErrOption = errors.New("api: invalid option")
)

// Error is a non-2xx answer from the Management API. Use errors.As to read it
// and errors.Is with the sentinels (ErrNotFound, ErrRateLimited, ...) to
// classify it.
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
	// RetryAfter is the wait the Retry-After header asked for, or zero.
	RetryAfter time.Duration
	// Attempts is how many times the call was sent.
	Attempts int

	// uncertain: an earlier attempt of the call failed where the server may
	// have acted on it.
	uncertain bool
}

// RateLimit is what an answer's X-RateLimit-* headers said.
type RateLimit struct {
	Limit     int       // the bucket size (burst)
	Remaining int       // requests left in the bucket
	Reset     time.Time // when the next request is added to the bucket
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

// Unwrap returns the sentinel of the status class, if any.
func (e *Error) Unwrap() error {
	switch {
	case e.StatusCode == http.StatusBadRequest:
		return ErrBadRequest
	case e.StatusCode == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.StatusCode == http.StatusForbidden:
		return ErrForbidden
	case e.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case e.StatusCode == http.StatusConflict:
		return ErrConflict
	case e.StatusCode == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.StatusCode >= 500:
		return ErrServer
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

// parseRateLimit reads the X-RateLimit-* headers; nil when absent or
// malformed.
func parseRateLimit(h http.Header) *RateLimit {
	l, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	r, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	s, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || l < 0 || r < 0 || s < 0 {
		return nil
	}
	return &RateLimit{Limit: l, Remaining: r, Reset: time.Unix(s, 0)}
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
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
