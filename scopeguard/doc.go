// Package scopeguard is an http.RoundTripper that lets a user-scoped Auth0
// Management API token through only to the operations it allows.
//
// A Transport wraps the generated client of package gen:
//
//	guard, err := scopeguard.New("https://tenant.eu.auth0.com/api/v2/",
//		oauth2.ReuseTokenSource(nil, src))
//	c, err := gen.NewClientWithResponses(base, gen.WithHTTPClient(&http.Client{Transport: guard}))
//	res, err := c.GetUsersByIDWithResponse(ctx, scopeguard.Me, nil)
//
// # Rules, in the order they are checked
//
// For each request the Transport checks, and refuses with the first error
// that applies (nothing is sent, the body is closed):
//
//  1. Host: the request's scheme, host and port must be the base URL's
//     (host names compare without case; a default port may be written or
//     left out), and Request.Host, when set, must name the same host and
//     port. Otherwise ErrForeignHost, before a token is even taken. This
//     applies to every redirect that http.Client follows too, so another
//     host never sees the token.
//  2. Token: TokenSource.Token must return a Bearer token, else
//     ErrTokenSource (a *TokenSourceError that also wraps the source's error).
//  3. Claims: sub, scope, aud, azp, iss, exp, iat and gty are read with
//     go-jose, without verifying the signature (the server does that), else
//     ErrMalformedToken: a token with any byte outside the JWS compact form
//     (a trailing newline included) is malformed. Scopes split on U+0020
//     only. See ParseClaims.
//  4. Token sanity, which no request could pass: a token without a user
//     subject (gty "client-credentials", sub ending in "@clients", or no
//     sub) fails with ErrAdminToken: admin tokens belong with Auth0's own
//     SDK, github.com/auth0/go-auth0. A token whose exp plus the leeway
//     (WithLeeway, DefaultLeeway 30s) is before the clock (WithClock) fails
//     with ErrTokenExpired; a token without exp is not refused. A token
//     whose aud (string or array) does not include https://{host}/api/v2/,
//     host being the base URL's host and port (without a written :443),
//     compared exactly as Auth0 compares it, fails with ErrAudience; the
//     scheme of the audience is https even when the base URL is loopback
//     http.
//  5. Route: the method and the request's escaped path below the base path
//     must match a template of gen.Operations segment by segment (literal
//     segments exactly, in escaped form); otherwise ErrUnknownOperation.
//     The guard fails closed: a path it does not know is never sent.
//  6. Path parameters: each decoded parameter must be non-empty, not "." or
//     "..", and stay one segment: it may contain '/' (sent as %2F, as
//     Auth0's own SDK does for user ids that contain one), but no part
//     around a '/' or '\' may be empty, "." or "..". Otherwise
//     ErrInvalidParameter (*ParamError). In the acting-user parameter
//     (Operation.UserParam), Me stands for the token's sub and is checked
//     as sub.
//  7. Subject, once every path parameter has passed rule 6: the
//     acting-user parameter must be Me or decode to exactly the token's
//     sub; otherwise ErrSubjectMismatch (*SubjectError). This
//     comes before the scope check because the Management API answers a
//     request for another user with 403 unowned_resource whatever the
//     scopes. The secondary identity's {user_id} of the unlink operation is
//     never substituted nor compared.
//  8. Scopes: the token must hold at least one of the operation's scopes
//     (any-of), else ErrInsufficientScope (*ScopeError, naming the
//     operation, the acceptable scopes and the granted ones).
//
// A request that passes is copied, with a URL and a header map of its own
// (the caller's request is never modified): any Authorization header of the
// caller's is dropped, "Authorization: Bearer <token>" is set, Me is
// replaced in the copy by url.PathEscape(sub) (auth0|abc becomes
// auth0%7Cabc, with URL.Path and URL.RawPath set to match), and the copy
// goes to the base transport. Its error is returned unchanged, and its
// response with Request set to the caller's request (not the copy, which
// holds the token); a status is never turned into an error.
//
// # Errors
//
// Each refusal matches one sentinel with errors.Is, also through the
// *url.Error that http.Client wraps it in, and Refused reports whether an
// error is a refusal; the detailed ones are typed for errors.As. Errors of
// the base transport pass through unchanged and match no sentinel. Messages
// start with "scopeguard: " and never contain the token: ParseClaims uses
// fixed messages, and values that reach a message from the request or the
// claims have the token, and its long parts, replaced by "[REDACTED]".
//
// # Cache
//
// Each distinct token is parsed once: its claims are kept in a cache shared
// by a Transport and all views made with WithTokenSource. The cache holds at
// most WithCacheSize entries (DefaultCacheSize 1024); when full, an
// arbitrary entry is evicted. Expiry is judged per request, never cached.
//
// # Contexts
//
// oauth2.TokenSource.Token takes no context, so the request's context
// cannot cancel a slow token source: RoundTrip waits for it. Wrap the source
// in oauth2.ReuseTokenSource (so that it is called only when the token
// nears expiry), and make a source that fetches over the network bound its
// own time, e.g. with the http.Client timeout of the oauth2.Config's
// context.
//
// Transport is safe for concurrent use by multiple goroutines.
package scopeguard
