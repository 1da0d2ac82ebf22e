package bff

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/auth0me/auth0me/api"
)

// Error is the body of every refusal: {"error": code, "message": text},
// with "key" for metadata refusals and "scopes" for insufficient_scope. The
// codes are listed in the package doc. A Go client of the Handler can
// decode answers into it.
type Error struct {
	Status  int      `json:"-"`
	Code    string   `json:"error"`
	Message string   `json:"message"`
	Key     string   `json:"key,omitempty"`    // the user_metadata key refused
	Scopes  []string `json:"scopes,omitempty"` // any one of them would do

	retryAfter time.Duration
}

func (e *Error) Error() string { return "bff: " + e.Code + ": " + e.Message }

var (
	errNotFound     = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such route"}
	errUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "sign in first"}
	errCrossOrigin  = &Error{Status: http.StatusForbidden, Code: "cross_origin", Message: "cross-origin requests may not change anything"}
)

func invalidRequest(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg}
}

// upstream maps the status class of Auth0's answers to the answer given in
// their place; Auth0's text is never passed on.
var upstream = map[int]*Error{
	http.StatusBadRequest:      {Status: http.StatusBadRequest, Code: "invalid_request", Message: "Auth0 refused the request"},
	http.StatusUnauthorized:    {Status: http.StatusUnauthorized, Code: "unauthorized", Message: "Auth0 refused the session's token; sign in again"},
	http.StatusForbidden:       {Status: http.StatusForbidden, Code: "forbidden", Message: "Auth0 refused the request"},
	http.StatusNotFound:        {Status: http.StatusNotFound, Code: "not_found", Message: "Auth0 found nothing to act on"},
	http.StatusConflict:        {Status: http.StatusConflict, Code: "conflict", Message: "that already exists"},
	http.StatusTooManyRequests: {Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "Auth0's rate limit is reached; retry later"},
}

var errUpstream = &Error{Status: http.StatusBadGateway, Code: "upstream_error", Message: "Auth0 failed or could not be reached"}

// toError maps an error of a route to the answer: an *Error as it is, the
// guard's and api's refusals and Auth0's answers by class. Only the texts of
// refusals made in this process (which never hold a token) are passed on.
func toError(err error) *Error {
	var (
		e      *Error
		scope  *api.ScopeError
		valErr *api.ValidationError
		idErr  *api.IDTokenError
		apiErr *api.Error
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &scope):
		return &Error{Status: http.StatusForbidden, Code: "insufficient_scope",
			Message: "the sign-in did not grant a scope this needs", Scopes: scope.AnyOf}
	case errors.As(err, &valErr):
		return invalidRequest("invalid " + valErr.Field + ": " + valErr.Reason)
	case errors.As(err, &idErr):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_id_token", Message: idErr.Reason}
	case errors.Is(err, api.ErrInvalidParameter):
		return invalidRequest("invalid path parameter")
	case errors.Is(err, api.ErrTokenSource), errors.Is(err, api.ErrMalformedToken),
		errors.Is(err, api.ErrTokenExpired), errors.Is(err, api.ErrAudience),
		errors.Is(err, api.ErrAdminToken):
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "the session's token cannot be used; sign in again"}
	case errors.As(err, &apiErr):
		m, ok := upstream[apiErr.StatusCode]
		if !ok {
			return errUpstream
		}
		out := *m
		if out.Status == http.StatusTooManyRequests {
			out.retryAfter = apiRetryAfter(apiErr)
		}
		return &out
	case errors.Is(err, api.ErrConnection), errors.Is(err, api.ErrBadResponse):
		return errUpstream
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "internal error"}
}

// apiRetryAfter is how long Auth0's 429 asked to wait.
func apiRetryAfter(e *api.Error) time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	if e.RateLimit != nil {
		return time.Until(e.RateLimit.Reset)
	}
	return 0
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusTooManyRequests {
		secs := max(1, int64(math.Ceil(e.retryAfter.Seconds())))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSON(w, e.Status, e)
}

// writeJSON answers status with v as JSON; a nil v is an empty body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal_error","message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// jsonReason describes a decoding error without quoting the input.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "malformed JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return "field " + typ.Field + " must be a JSON " + typ.Type.Kind().String()
		}
		return "wrong JSON type"
	}
	// Unknown fields: "json: unknown field \"x\"", the name being input
	// of the client's own.
	return err.Error()
}
