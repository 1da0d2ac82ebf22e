// Package api is the client a Go program uses to act as the signed-in user
// on Auth0's Management API, with the user-scoped token Auth0 issues to
// single-page and native applications.
//
// # Quick start
//
//	ts := conf.TokenSource(ctx, token) // an *oauth2.Config from the user's sign-in
//	client, err := api.New("example.eu.auth0.com", ts)
//	if err != nil { ... }
//	me, err := client.Me(ctx)
//
// # Authentication
//
// A Client takes its access token from an oauth2.TokenSource on every
// attempt; refreshing is the source's job (use oauth2.ReuseTokenSource or an
// oauth2.Config's TokenSource). TokenSource.Token takes no context, so a slow
// source is not cancelled by the call's context. The token goes only to the
// tenant's host, over https (plain http only to a loopback address, for
// tests), and never appears in an error or a log line.
//
// The token must be one Auth0 issued for the user: its sub is the user, its
// aud includes https://{domain}/api/v2/. Client-credentials (admin) tokens
// are refused; they belong with Auth0's own SDK, github.com/auth0/go-auth0.
//
// # Scopes
//
// Each method needs one scope, or one of two:
//
//	Me, Enrollments            read:current_user
//	LinkIdentity, UnlinkIdentity  update:current_user_identities
//	UpdateMetadata             update:current_user_metadata or create:current_user_metadata
//	CreateDeviceCredential     create:current_user_device_credentials
//	DeleteDeviceCredential     delete:current_user_device_credentials
//
// A call the token does not allow is refused by the guard
// (github.com/auth0me/auth0me/scopeguard) before anything is sent:
// errors.Is(err, api.ErrInsufficientScope), and errors.As with
// *api.ScopeError for the scopes that would do and those granted. Methods
// always act on
// the token's own user; arguments Auth0 would refuse (a metadata key with '.'
// or '$', a device id that is not hex, an ID token Auth0 could not link) are
// refused with ErrInvalidArgument or ErrInvalidIDToken, also before sending.
//
// # Types
//
// User, Identity and Enrollment are the types generated from the spec
// (package gen), under Go names. Their fields are plain values, never
// pointers: Auth0 does not tell a null field from an absent one in these
// answers, so an absent field reads as its zero value (the zero time.Time
// for a date never set) and is left out when the value is encoded to JSON
// again. user_metadata and app_metadata are maps holding everything Auth0
// sent; other keys Auth0 adds that the spec does not name are not kept.
// Identity.UserID is a string (gen.UserID) whether Auth0 sent a string or a
// number; a number keeps its digits exactly and encodes back as a string.
// An answer that is not the JSON object or array of objects the operation
// returns (null included) is ErrBadResponse, never a zero value.
//
// # Errors
//
// Errors work with errors.Is and errors.As, never by their text, and never
// contain the access token (text an answer echoes of it is redacted).
// Refusals by the guard match the same values as scopeguard's sentinels
// (api.ErrInsufficientScope == scopeguard.ErrInsufficientScope), and
// *api.ScopeError is *scopeguard.ScopeError, so code written for either
// package works. Every error of a call is one of:
//
//	sentinel (errors.Is)   typed (errors.As)     sent?  meaning, what to do
//	ErrInsufficientScope   *ScopeError           no     sign in again asking for ScopeError.AnyOf
//	ErrTokenSource         —                     no     the token source failed (its error is wrapped)
//	ErrMalformedToken      —                     no     not a JWT (a trailing newline included); sign in again
//	ErrTokenExpired        —                     no     refresh the token, or sign in again
//	ErrAudience            —                     no     the token is for another tenant or API
//	ErrAdminToken          —                     no     a client-credentials token; use go-auth0
//	ErrSubjectMismatch     *SubjectError         no     (only through the guard used directly)
//	ErrInvalidParameter    *ParamError           no     an id would not stay one path segment
//	ErrInvalidArgument     *ValidationError      no     fix the argument (Field, Reason)
//	ErrInvalidIDToken      *IDTokenError         no     LinkIdentity's ID token would be refused
//	ErrUnauthorized        *Error (401)          yes    the token is no longer accepted; sign in again
//	ErrNotFound            *Error (404)          yes    nothing to act on
//	ErrNotFound            *MaybeDeletedError    yes    a retried delete found nothing; the first try may have deleted it
//	ErrRateLimited         *Error (429)          yes    the bucket stayed empty through every retry
//	—                      *Error (other)        yes    read StatusCode, Code and Message
//	ErrBadResponse         *ResponseError        yes    the answer could not be read or decoded
//	ErrBodyTooLarge        *ResponseError        yes    the answer exceeded WithMaxBodySize
//	ErrConnection          *ConnectionError      maybe  network failure; a POST or PATCH may have acted
//	context.Canceled, context.DeadlineExceeded   maybe  the call's context ended
//
// New fails with an error matching ErrOption for any invalid option,
// domain, base URL or guard option; a configuration error is never a
// refusal. Only the statuses callers branch on have a sentinel; for any
// other status read *Error's StatusCode. Redirects are never followed (the
// Management API does not redirect, and the token must not follow one): a
// 3xx answer is an *Error.
//
//	var apiErr *api.Error
//	var scopeErr *api.ScopeError
//	switch {
//	case errors.As(err, &scopeErr):
//		// ask the user to sign in again with one of scopeErr.AnyOf
//	case errors.Is(err, api.ErrTokenExpired), errors.Is(err, api.ErrUnauthorized):
//		// sign in again
//	case errors.As(err, &apiErr) && apiErr.Code == "inexistent_user":
//		// the user was deleted
//	case errors.Is(err, api.ErrRateLimited):
//		// the tenant's bucket stayed empty through every retry
//	}
//
// # Retries and rate limits
//
// A 429 answer is retried, never sooner than Retry-After asks; without it
// the pacing (below) holds the retry until its model of the bucket has a
// token, or, with WithoutPacing, the retry waits for X-RateLimit-Reset. A
// 429 is retried while retries are left, and one that says when to come
// back also after that, until five wait bounds (WithMaxWait, default
// DefaultMaxWait) have passed since the call's first 429. GET and DELETE are
// also retried after 5xx answers and connection errors, with exponential
// backoff and jitter. POST and PATCH are retried only after a 429 or a
// connection that failed before reaching the server: never after a failure
// where the server may have acted. WithMaxRetries bounds the retries
// (default DefaultMaxRetries); every wait ends when the context does, and
// no single wait is longer than the wait bound, whatever the server says.
//
// Auth0 applies two rate limits to a user-scoped token: the user's own
// current_user bucket (10 requests per minute per user, burst 10) and the
// tenant's global bucket, shared by every user and process. A Client paces
// its requests for both: it keeps a mirror of each bucket (one per user,
// one global) and sends when every mirror holds a token. A user's mirror
// starts full at Auth0's size (WithCurrentUserLimit changes it), so one
// user's empty bucket never slows another user's calls. It holds calls
// back once the Client knows the tenant rate-limits: from the first answer
// with X-RateLimit-* headers (Auth0 sends them on every answer), for one
// user from that user's first current_user 429, or from the start with
// WithCurrentUserLimit. The global mirror
// reads each answer's X-RateLimit-* headers and measures the refill; where
// a 429, or a level lower than the mirror predicted, shows that others take
// from the bucket too, the Client paces at a share of it, steered as TCP
// steers its window (slow start, then AIMD). Until then, calls that wait
// for the global bucket take its tokens in the order they were made, among
// those whose user's bucket lets them go: the users of one Client progress
// evenly, and none is held up by another user's empty bucket. The pacing
// runs below the guard, so a call the guard refuses is refused at once.
//
// Separate Clients, such as several processes acting for users of one
// tenant, see each other only through the global bucket. On a small one
// they meet many 429s, though no call fails for it: 16 processes on the
// Free plan (burst 2, 2 a second) send about four requests per write.
// Enterprise production's bucket (burst 50) shows each Client the others'
// takes before it is empty: 16 processes met 429s for at most 0.6% of
// their requests in 80 runs, spending what they saw above 0.15 of the
// bucket on top of their shares; on Enterprise non-production (burst 10)
// 4 processes met 429s for about 5% of theirs. Many processes that start
// at once meet 429s until those cut their shares: 32 on Enterprise
// production, or 8 on non-production, for about a fifth of their
// requests. (goodput_test.go runs these scenarios but the last, which
// bench/scenario-notes.md gives; bench/RESULTS.md, section 3, sets S1–S6
// beside go-auth0.) One Client with a view per user (ForToken) paces all
// its users from one model, and met no 429 in any of the one-Client
// scenarios measured there: prefer it where the calls come from one
// process. The algorithm, its constants and their reasons are in
// pacer.go. WithRateLimit adds a client-side limit
// (golang.org/x/time/rate); WithoutPacing turns pacing off.
//
// # Coalescing
//
// Concurrent UpdateMetadata calls for the same user that wait while one of
// the user's PATCHes is being sent go as one PATCH, their maps merged in
// call order at the first level (a later value wins, nil deletes): the
// result of sending them one after another. An empty map (remove every key)
// is never merged with the calls before or after it; a merged body stays
// under Auth0's 1 MB limit. Each caller gets the resulting profile, or the
// merged request's error. Concurrent Me or Enrollments calls for the same
// user share one GET. Calls are merged only when made through the same
// Client or view (the same token source); different users never share a
// request. WithoutCoalescing turns this off.
//
// # Many users
//
// ForToken returns a per-user view of a Client: it shares the connection
// pool, the pacing model, the retry settings and the guard's bounded claims
// cache, and costs a few hundred bytes.
//
// # Testing
//
// Package github.com/auth0me/auth0me/api/apitest runs an in-process Auth0
// tenant, as httptest runs a server:
//
//	tn := apitest.New(t, apitest.WithUsers(apitest.User{ID: "auth0|abc"}))
//	client, err := api.New(tn.Domain(), tn.TokenSource("auth0|abc", "read:current_user"),
//		api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client()))
//
// See the examples, which run against one.
package api
