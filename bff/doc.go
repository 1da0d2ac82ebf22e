// Package bff is a back end for a single-page app: an http.Handler the
// browser calls instead of Auth0's Management API, so that the user's
// user-scoped token stays on the server.
//
// Auth0 warns against Management API tokens in the browser: a user could
// change their own metadata in ways that harm the application, and anyone
// could spam the tenant's Management API until it hits its rate limits. A
// Handler answers both: it writes only the user_metadata keys a
// MetadataPolicy allows, each checked against a JSON Schema and a size, and
// it spends at most a small per-user allowance of Auth0 requests.
//
// # Mounting
//
//	h, err := bff.New(client, userFromSession,
//		bff.Allow(bff.ReadProfile, bff.WriteMetadata),
//		bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{
//			"theme": {Schema: `{"enum": ["light", "dark"]}`},
//		}}))
//	mux.Handle("/api/account/", http.StripPrefix("/api/account", h))
//
// The routes are matched on the path left after any prefix is stripped.
// The user function returns the signed-in user's token source, typically
// from the application's server-side session; an error or a nil source is
// answered 401. The Handler never reads a token from the request itself.
// Every call goes through client.ForToken, so the guard, pacing and
// coalescing of package api apply unchanged.
//
// # Routes
//
// Each route is served only when Allow names it; every other request is
// 404. Bodies and answers are JSON.
//
//	ReadProfile             GET    /me                                  the filtered profile
//	ReadEnrollments         GET    /me/enrollments                      the MFA enrollments
//	WriteMetadata           PATCH  /me/metadata                         {"key": value|null, ...} -> the filtered profile
//	LinkIdentity            POST   /me/identities                       {"id_token": "..."} -> the identities
//	UnlinkIdentity          DELETE /me/identities/{provider}/{user_id}  -> the identities left
//	CreateDeviceCredential  POST   /me/device-credentials               {"device_name","device_id","value"} -> 201 {"id"}
//	DeleteDeviceCredential  DELETE /me/device-credentials/{id}          -> 204
//
// Identities are answered as {"provider","user_id","connection"} only:
// never profile data, never an identity provider's tokens.
//
// # Metadata policy
//
// PATCH /me/metadata takes the user_metadata changes as one JSON object. A
// key the policy does not list, a value its schema refuses or larger than
// its MaxSize, a change larger than MaxTotal, nested field names Auth0
// refuses ('.' or '$'), duplicate keys, or the all-wiping {} without
// AllowClear, are answered 400 naming the key and the reason, and nothing
// is sent to Auth0. A null value deletes a listed key. Because only listed
// keys can be written, the metadata a user can store through the Handler is
// bounded by the sum of the keys' MaxSize.
//
// Reads filter the profile to MetadataPolicy.Profile, by default
// DefaultProfileFields: user_id, email, email_verified, name, nickname,
// picture, identities and user_metadata, the latter holding the policy's
// keys only. app_metadata is exposed only when Profile lists it.
//
// # Per-user limit
//
// Each user (keyed by the token's sub) has a token bucket
// (golang.org/x/time/rate); a request that would call Auth0 takes one token
// from it, and an empty bucket is answered 429 with Retry-After before any
// call. The default, DefaultUserBurst requests and then one every
// DefaultUserInterval (5, then 6 a minute), stays under Auth0's own
// current-user limit (a bucket of 10 refilled one every 6 s) over any
// period. Requests the Handler refuses itself (sign-in, cross-origin, body,
// policy) cost nothing; a call handed to the Client costs one even when the
// Client or its guard refuses it unsent (a bad device id, a missing
// scope). The limit counts calls, not attempts: a call the Client retries
// after a 5xx or a network failure (api.WithMaxRetries) costs the tenant
// more. The buckets are held in an LRU of WithMaxUsers users; a user
// evicted from it starts again with a full bucket.
//
// # Browser safety
//
// State-changing routes (PATCH, POST, DELETE) are refused 403 cross_origin
// when http.CrossOriginProtection says the request is cross-origin;
// WithTrustedOrigins adds origins it accepts. Bodies must be
// application/json, at most WithMaxBodySize bytes (413 above), and are
// decoded strictly: unknown fields, trailing data and duplicate metadata
// keys are refused. Every answer carries Cache-Control: no-store and
// X-Content-Type-Options: nosniff.
//
// # Errors
//
// Every refusal is {"error": code, "message": text}, plus "key" for a
// metadata refusal and "scopes" for insufficient_scope. Auth0's own error
// texts are never passed on, and no answer carries a token.
//
//	400 invalid_request             malformed or unknown JSON, a bad path parameter, or Auth0 refused the request
//	400 invalid_id_token            the ID token to link would be refused by Auth0
//	400 metadata_key_not_allowed    a key the policy does not list
//	400 metadata_value_invalid      a value the key's schema refuses, or nested names with '.' or '$'
//	400 metadata_value_too_large    a value over the key's MaxSize
//	400 metadata_too_large          the change is over MaxTotal
//	400 metadata_clear_not_allowed  {} without AllowClear
//	401 unauthorized                no signed-in user, or their token is unusable or refused by Auth0
//	403 cross_origin                a cross-origin state-changing request
//	403 insufficient_scope          the user's token holds none of "scopes" (refused by the guard, nothing sent)
//	403 forbidden                   Auth0 refused the request
//	404 not_found                   a route not allowed or unknown, or Auth0 found nothing
//	409 conflict                    Auth0 answered 409 (identity already linked, device credential exists)
//	413 body_too_large              the body is over WithMaxBodySize
//	415 unsupported_media_type      a body that is not application/json
//	429 rate_limited                the user's allowance, or Auth0's limit, is spent; see Retry-After
//	502 upstream_error              Auth0 failed, or could not be reached or read
//	500 internal_error              anything else
//
// # Audit
//
// Every request to a state-changing route is logged through WithLogger at
// info level: user (the sub, when known), route, outcome ("ok" or the error
// code), status, duration, and for metadata the keys changed and deleted.
// Values are logged only with WithLoggedValues. Tokens never are.
package bff
