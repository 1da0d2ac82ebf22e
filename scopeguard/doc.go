// Package scopeguard is an http.RoundTripper that lets a user-scoped Auth0
// Management API token through only to the operations it allows.
package scopeguard
