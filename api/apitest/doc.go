// Package apitest runs an in-process fake Auth0 tenant for tests, the way
// net/http/httptest runs a server: the seven Management API operations a
// signed-in user's token may call, with Auth0's status codes, error bodies
// and checks, plus the signing keys and tokens to call them with.
//
//	func TestMe(t *testing.T) {
//		tn := apitest.New(t, apitest.WithUsers(apitest.User{ID: "auth0|abc", Email: "a@example.com"}))
//		client, err := api.New(tn.Domain(), tn.TokenSource("auth0|abc", "read:current_user"),
//			api.WithBaseURL(tn.BaseURL()), api.WithHTTPClient(tn.Client()))
//		if err != nil {
//			t.Fatal(err)
//		}
//		me, err := client.Me(t.Context())
//		...
//	}
//
// New fails the test when the tenant cannot start and closes it when the
// test ends; Start returns the error and leaves closing to the caller, for
// programs (auth0me serve) and examples. TokenSource and AccessToken mint
// the tenant's tokens; any HTTP client may call BaseURL with them.
//
// The operations, keyed by Auth0's operation ids (the Op constants):
// get_users_by_id, get_enrollments, post_identities,
// delete_user_identity_by_user_id, patch_users_by_id,
// post_device-credentials and delete_device-credentials_by_id. The tenant
// also serves /.well-known/jwks.json and /.well-known/openid-configuration.
//
// A Tenant is safe for concurrent use. Its knobs are per tenant: a clock
// (WithClock), a rate limit (WithRateLimit), faults per operation
// (InjectFault), seeded state (AddUser, AddDeviceCredential,
// SetEnrollments) and inspection (User, DeviceCredentials, Requests).
//
// # Order of checks
//
// Every /api/v2 request goes through, in order: the rate-limit bucket
// (each request takes a token; 429 when empty), any injected fault,
// authentication, the route (unknown: 404), the subject (a path user other
// than the token's sub: 403 unowned_resource), the scope (any of the
// operation's scopes: else 403 insufficient_scope), the existence of the
// user (404 inexistent_user) and then the operation's own rules.
//
// # Where it differs from Auth0 / choices
//
// Auth0 documents some of this and leaves the rest open; these are the
// fake's answers.
//
//   - Only current-user tokens are modelled. Every token is bound to its
//     sub, even one holding read:users or update:users, and PATCH refuses
//     root attributes whatever the scopes. Tokens are accepted with aud a
//     string or an array containing https://{domain}/api/v2/.
//   - The order of the subject and scope checks is not documented; the fake
//     checks the subject first.
//   - Authentication: a header that is not "Bearer <compact JWS>" (any other
//     scheme included) is 400 "Bad HTTP authentication header format"
//     (errorCode "Bearer"). A JWS whose alg is not RS256 (none and unknown
//     algorithms included), a wrong issuer, a missing sub or exp, or a
//     future nbf is 401 "Invalid token". The scope claim splits on the
//     space character only (RFC 6749 §3.3). A token
//     signed by another key, or naming another kid, is 401 "Invalid
//     signature received for JSON Web Token validation.". No clock leeway.
//     401 bodies carry attributes.error and a WWW-Authenticate header in the
//     form hapi's Boom.unauthorized produces; "Missing authentication" has
//     neither attributes nor an error in the header.
//   - errorCode is sent only where Auth0 has been seen sending one
//     (insufficient_scope, unowned_resource, inexistent_user, invalid_body,
//     too_many_requests, Bearer); 400 link errors, 409s and the device
//     credential 403s have none. Body validation messages follow Auth0's
//     "Payload validation error: '...'." form, but their wording is the
//     fake's.
//   - PATCH /users/{id}: the body must be a JSON object (else 400
//     invalid_body); any root key but user_metadata is refused with Auth0's
//     observed 403 body "Insufficient scope, expected any of:
//     update:users,update:users_app_metadata,update:current_user_metadata"
//     (errorCode insufficient_scope). {} is accepted and only touches
//     updated_at. user_metadata must be an object; its first level is
//     merged, null deletes a key, {} removes all user metadata; field names
//     containing "." or "$" at any depth are 400 invalid_body. A body over
//     1 MB is 413 "Payload content length greater than maximum allowance."
//     (hapi's answer), for every operation with a body. Empty metadata is
//     omitted from user bodies, as for users created without it.
//   - Users: Name defaults to Email and Nickname to the part of Email before
//     "@"; picture and the login counters are not invented. Identity user_id
//     is always a string (Auth0 also sends integers for some providers).
//     Metadata numbers are float64 after any round trip.
//   - Link: only {"link_with": "<ID token>"} is accepted (any other key, the
//     provider/user_id form included, is 400 invalid_body). Checks run in
//     this order, each with its OAS text: structure, alg RS256, signature
//     and expiry ("Invalid token (link_with)."), sub present, sub of the form
//     provider|id, same issuer as the calling token, aud present, aud equal
//     to the calling token's azp, secondary differs from primary, secondary
//     not already an identity of the primary (409), secondary exists. The
//     secondary's identities are appended (the first with the secondary's
//     profile as profileData), its metadata is dropped, it stops being a
//     user, and its device credentials move to the primary. Link and unlink
//     responses show the primary identity's profileData too, as the
//     recordings do; GET user does not.
//   - Unlink: removing the primary identity is 400 "Main identity cannot be
//     removed."; an identity that is not linked is not an error: 200 with the
//     identities unchanged. The unlinked identity becomes a user (id
//     provider|user_id) with its profileData as root attributes and no
//     metadata, unless a user with that id already exists.
//   - Device credentials: JSON bodies only (the OAS also lists
//     form-urlencoded). The owner is the token's sub; a sub that is not a
//     user is 403 "Cannot create device credentials for that user."; a
//     client_id other than the token's azp is 403 "Cannot create device
//     credentials for that client.". device_id must match ^[-A-Fa-f0-9]+$
//     and be at most 36 characters, as the OAS says, although the recordings
//     show "test_device" accepted. One public key per (user, device_id):
//     409. Ids are "dcr_" and 16 random characters. Deleting a credential
//     that does not exist or belongs to another user is the same 404
//     {"message":"The device credential does not exist.","errorCode":
//     "inexistent_device_credential"}: the fake does not reveal others'
//     credentials. Auth0 documents neither case.
//   - Rate limits: Auth0's two layers, both token buckets refilled
//     continuously from the tenant clock, both off unless an option turns
//     them on. The global bucket (WithRateLimit, or WithPlan with a Plan
//     preset such as PlanFree) is shared by every request to /api/v2. The
//     per-user bucket (WithCurrentUserLimit; WithPlan turns it on at Auth0's
//     10 per minute, burst 10) is kept per token sub; a request whose token
//     does not verify takes from none, as it is refused with 401 anyway. A
//     request takes from the global bucket first, then from its user's, as
//     Auth0 checks the global bucket first: a request the per-user bucket
//     refuses has spent a global token. Either one empty is a 429
//     {"statusCode":429,"error":"Too Many Requests","message":M,
//     "errorCode":"too_many_requests"}, M being MessageGlobalLimit or
//     MessageCurrentUserLimit (Auth0's text for the per-user limit). No
//     Retry-After, as for the Management API.
//   - Which bucket the X-RateLimit-* headers describe (FACTS.md: unknown;
//     Auth0's custom-policy page says they reflect the tenant's global
//     limit): the global bucket, on every /api/v2 answer when it is on,
//     except a 429 from the per-user bucket, whose headers describe that
//     user's bucket, so that its X-RateLimit-Reset says when the user may
//     call again. Without a global bucket only those 429s carry the
//     headers. X-RateLimit-Limit is the burst, X-RateLimit-Remaining the
//     whole tokens left after this request, X-RateLimit-Reset the epoch
//     second, rounded up, at which the next token is added.
//   - Requests records every request with the status it was answered
//     (0 while in flight or when a fault dropped the connection), so tests
//     can count 429s at the tenant.
//   - Faults apply after the rate limit and before authentication; a Delay
//     waits on a real timer (fake inside a synctest bubble), not the tenant
//     clock.
//   - Unknown routes answer 404 {"statusCode":404,"error":"Not Found",
//     "message":"Not Found"} after authentication; query parameters (fields,
//     include_fields) are ignored.
//   - The JWKS key has no x5c/x5t. The issuer is https://{domain}/ even when
//     the tenant serves plain HTTP, as Auth0's SDKs expect of a domain; a
//     client given a plain-http tenant must be told the issuer (auth0-spa-js:
//     domain "http://127.0.0.1:PORT" with issuer Issuer(); auth0-js:
//     overrides __token_issuer Issuer() and __jwks_uri URL()+
//     "/.well-known/jwks.json"). WithTLS serves a
//     self-signed certificate that CertificatePEM exports for clients
//     outside Go (NODE_EXTRA_CA_CERTS, curl --cacert, a browser's store).
//
// # Login side
//
// GET /authorize (Authorization Code with PKCE, and the implicit grant),
// POST /oauth/token
// (authorization_code, refresh_token and
// urn:ietf:params:oauth:grant-type:device_code) and POST /oauth/device/code
// issue tokens for the user set with WithLoginUser or SetLoginUser, who
// approves every authorization request (while someone is signed in, an
// /authorize login_hint naming another user of the tenant signs that user
// in instead); device codes wait for ApproveDevice
// or DenyDevice. POST /oauth/revoke revokes refresh tokens. OAuth errors are {"error","error_description"}. Choices:
//
//   - One public application, ClientID; no secret is checked. The client id
//     may come in the form or as the user name of HTTP Basic auth. Token
//     requests may be form-urlencoded or JSON.
//   - /authorize: a missing or unknown client_id or a missing or
//     non-absolute http(s) redirect_uri is a 400 JSON error; any absolute
//     redirect_uri is allowed (there is no Allowed Callback URLs list).
//     Other errors redirect with error, error_description and state:
//     response_type other than code or the implicit ones
//     (unsupported_response_type), no code_challenge or a method other
//     than S256 (invalid_request), no
//     audience (invalid_request: Auth0 would issue an opaque /userinfo
//     token, which the fake does not), another audience (access_denied
//     "Service not found: ..."), nobody signed in (login_required).
//   - Implicit grant (auth0-js's checkSession and parseHash):
//     response_type token, id_token or both puts the tokens themselves
//     (access_token, token_type, expires_in, scope, id_token, state) in the
//     redirect URI's fragment (the default; query is refused) or in the
//     web_message page. The redirect URI's origin must be an allowed web
//     origin (else a 400 JSON error), id_token needs a nonce, token the
//     Management API audience; the ID token carries at_hash beside an
//     access token; no refresh token. No PKCE.
//   - Access tokens carry only the current-user scopes that were asked for
//     (read:current_user, update:current_user_identities,
//     update:current_user_metadata, create:current_user_metadata,
//     create:current_user_device_credentials,
//     delete:current_user_device_credentials); other API scopes are dropped
//     silently, and openid, profile, email and offline_access are left out
//     of the scope claim (Auth0 has been seen listing them there). openid
//     adds an id_token (10 hours, with nonce when given); offline_access
//     adds a refresh_token.
//   - invalid_grant and other refusals of a grant are 403, as Auth0 sends
//     them. An authorization code is single use, even when the exchange
//     fails (wrong code_verifier or redirect_uri), and lives 10 minutes.
//   - Refresh tokens rotate: each use returns a new one and retires the old;
//     presenting a retired one fails and revokes every token of its family
//     (Auth0's reuse detection). scope may only narrow (else 403
//     invalid_scope) and narrows only the access token of that response.
//     Lifetimes: WithTokenLifetimes / SetTokenLifetimes (access 24h, refresh
//     30 days absolute).
//   - Device codes: user codes are XXXX-XXXX over consonants;
//     verification_uri is {URL}/activate, which the fake does not serve.
//     Polling sooner than the interval is 429 slow_down and adds 5 seconds
//     to the interval the tenant enforces (RFC 8628); an expired code is 403
//     expired_token once, then invalid_grant; a denied one is access_denied
//     once, then invalid_grant. The device flow's ban on account linking is
//     not modelled.
//   - response_mode query (the default), fragment, form_post (an HTML
//     page whose form posts the response to the redirect URI on load) and
//     web_message. With
//     web_message (auth0-spa-js's silent login and popup), /authorize
//     answers 200 with an HTML page that posts {type:
//     "authorization_response", response: {code, state}} (or {error,
//     error_description, state}) to the redirect URI's origin, which must
//     be an allowed web origin (else a 400 JSON error). prompt=none is
//     answered like any request: the login user approves, and with nobody
//     signed in the answer is login_required.
//   - /v2/logout redirects to returnTo when its origin is an allowed web
//     origin (there is no separate Allowed Logout URLs list) and answers
//     400 for another; without returnTo it answers a "signed out" page.
//     /oidc/logout does the same with post_logout_redirect_uri and state.
//     The tenant keeps no browser session, so logout ends nothing: the
//     login user goes on approving (SetLoginUser("") signs out).
//   - POST /oauth/revoke (client_id and token, form or JSON) revokes a
//     refresh token and every token of its rotation family (Auth0 with
//     "Refresh Token Revocation Deletes Grant" off revokes the token; the
//     fake takes the family, which is what rotation makes of one grant). It
//     answers 200 with an empty body, also for a token it does not know, as
//     Auth0 does; no token is 400 invalid_request.
//   - GET or POST /userinfo answers the profile claims of the access
//     token's sub (those an ID token carries, whatever OIDC scopes were
//     asked for) for a token that passes the Management API's checks and
//     has https://{domain}/userinfo in aud; else 401 {"error":
//     "invalid_token"} with WWW-Authenticate: Bearer error="invalid_token".
//   - consent is not served.
//
// # Browsers (CORS)
//
// WithAllowedOrigins plays the application's Allowed Web Origins. A CORS
// preflight (OPTIONS with Origin and Access-Control-Request-Method) to
// /api/v2/*, /oauth/token, /oauth/device/code, /oauth/revoke, /userinfo or
// /.well-known/* is answered before the rate limit, faults and
// authentication: 204 with Access-Control-Allow-Origin (the request's
// origin), -Allow-Credentials true, -Allow-Methods (GET, POST, PATCH,
// DELETE under /api/v2; POST for /oauth; GET and POST for /userinfo; GET
// for /.well-known), -Allow-Headers
// "Authorization, Content-Type, Auth0-Client" and -Max-Age 86400. Every
// other answer on those paths to an allowed origin, errors and 429s
// included, carries Access-Control-Allow-Origin, -Allow-Credentials and
// -Expose-Headers (the X-RateLimit headers and Retry-After). An origin that
// is not allowed gets no CORS header; its preflight is 403.
package apitest
