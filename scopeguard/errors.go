package scopeguard

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Each refusal of RoundTrip (nothing was sent) matches
// exactly one of the first ten with errors.Is, also after http.Client has
// wrapped it in a *url.Error; Refused tells a refusal from any other error.
// New's errors match ErrBaseURL or ErrOption and are never refusals. An
// error of the base transport or of a response passes through RoundTrip
// unchanged and matches none of them. No error message of this package
// ever contains the access token.
var (
	// ErrTokenSource: the TokenSource failed or returned no usable bearer token.
	ErrTokenSource = errors.New("scopeguard: token source")
	// ErrMalformedToken: the access token is not a JWS-compact JWT whose
	// claims can be read.
	ErrMalformedToken = errors.New("scopeguard: malformed token")
	// ErrTokenExpired: the token's exp, plus the leeway, is in the past.
	ErrTokenExpired = errors.New("scopeguard: token expired")
	// ErrAudience: the token's aud does not include the Management API
	// audience https://{host}/api/v2/ of the base URL's host.
	ErrAudience = errors.New("scopeguard: token audience does not match the base URL")
	// ErrAdminToken: the token has no user subject (a client-credentials
	// token, or no sub at all).
	ErrAdminToken = errors.New("scopeguard: token has no user subject; admin (client-credentials) tokens belong with Auth0's own SDK, github.com/auth0/go-auth0")
	// ErrUnknownOperation: method and path match no operation of gen.Operations.
	ErrUnknownOperation = errors.New("scopeguard: request matches no known operation")
	// ErrInvalidParameter: a path parameter is empty, "." or "..", or would
	// not stay one path segment.
	ErrInvalidParameter = errors.New("scopeguard: invalid path parameter")
	// ErrSubjectMismatch: the acting-user path parameter is neither Me nor
	// the token's sub.
	ErrSubjectMismatch = errors.New("scopeguard: user to be acted on does not match the token subject")
	// ErrInsufficientScope: the token holds none of the operation's scopes.
	ErrInsufficientScope = errors.New("scopeguard: insufficient scope")
	// ErrForeignHost: the request is not for the base URL's scheme and host
	// (a redirect to another host included); the token was not sent.
	ErrForeignHost = errors.New("scopeguard: request is not for the base URL's host")
	// ErrBaseURL (from New): the base URL is neither https nor plain http to
	// a loopback host, cannot be parsed, or has parts a base URL must not
	// have (user info, query, fragment, a path that needs escaping).
	ErrBaseURL = errors.New("scopeguard: invalid base URL")
	// ErrOption (from New): an Option was given an invalid value.
	ErrOption = errors.New("scopeguard: invalid option")
)

// refusals are the sentinels of RoundTrip's refusals.
var refusals = []error{
	ErrTokenSource, ErrMalformedToken, ErrTokenExpired, ErrAudience, ErrAdminToken,
	ErrUnknownOperation, ErrInvalidParameter, ErrSubjectMismatch, ErrInsufficientScope,
	ErrForeignHost,
}

// Refused reports whether err, or an error it wraps, is a refusal by a
// Transport's RoundTrip: the request was not sent. Callers use it to tell a
// refusal, which no retry can change, from a failure of the exchange.
func Refused(err error) bool {
	for _, s := range refusals {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// ScopeError reports that the token holds none of the scopes an operation
// accepts. It matches ErrInsufficientScope.
type ScopeError struct {
	Operation string   // operation ID, e.g. "get_users_by_id"
	AnyOf     []string // scopes of which any one would do
	Granted   []string // scopes the token holds
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("scopeguard: insufficient scope for %s: need any of [%s], token grants [%s]",
		e.Operation, strings.Join(e.AnyOf, " "), strings.Join(e.Granted, " "))
}

// Unwrap returns ErrInsufficientScope.
func (e *ScopeError) Unwrap() error { return ErrInsufficientScope }

// SubjectError reports that a request names a user other than the token's
// subject. It matches ErrSubjectMismatch.
type SubjectError struct {
	Operation string // operation ID
	Subject   string // the token's sub
	Requested string // the decoded user id of the request path
}

func (e *SubjectError) Error() string {
	return fmt.Sprintf("scopeguard: %s: user %q to be acted on does not match the token subject %q",
		e.Operation, e.Requested, e.Subject)
}

// Unwrap returns ErrSubjectMismatch.
func (e *SubjectError) Unwrap() error { return ErrSubjectMismatch }

// ParamError reports a path parameter the guard refuses to send. It matches
// ErrInvalidParameter.
type ParamError struct {
	Operation string // operation ID
	Param     string // parameter name from the path template, e.g. "id"
	Value     string // the decoded value
	Reason    string // why it is refused
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("scopeguard: invalid path parameter %s of %s: %q %s",
		e.Param, e.Operation, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidParameter.
func (e *ParamError) Unwrap() error { return ErrInvalidParameter }

// HostError reports a request for a scheme or host other than the base
// URL's. It matches ErrForeignHost.
type HostError struct {
	Scheme string // the request's scheme
	Host   string // the request's host (the URL's, or Request.Host when it differs)
	Want   string // scheme://host of the base URL
}

func (e *HostError) Error() string {
	return fmt.Sprintf("scopeguard: request for %s://%s is not for the base URL's host %s; token not sent",
		e.Scheme, e.Host, e.Want)
}

// Unwrap returns ErrForeignHost.
func (e *HostError) Unwrap() error { return ErrForeignHost }

// TokenSourceError wraps the error of the TokenSource. It matches
// ErrTokenSource and, through Unwrap, the source's own error.
type TokenSourceError struct {
	Err error // the source's error; nil when the source returned no token
}

func (e *TokenSourceError) Error() string {
	if e.Err == nil {
		return "scopeguard: token source returned no bearer token"
	}
	return "scopeguard: token source: " + e.Err.Error()
}

// Unwrap returns ErrTokenSource and the source's error.
func (e *TokenSourceError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrTokenSource}
	}
	return []error{ErrTokenSource, e.Err}
}

// guardError is an error with a fixed message and a sentinel.
type guardError struct {
	msg string
	err error
}

func (e *guardError) Error() string { return e.msg }
func (e *guardError) Unwrap() error { return e.err }
