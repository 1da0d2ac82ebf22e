// Package auth0limits holds the rate limits Auth0 documents that more than
// one package of this module needs (../shared/auth0/FACTS.md §4): api paces
// by them and api/apitest enforces them.
package auth0limits

// Auth0's per-user limit for calls made with current_user scopes: 10
// requests per minute per user, which is also the burst.
const (
	CurrentUserBurst     = 10
	CurrentUserPerMinute = 10.0
)
