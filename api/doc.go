// Package api is the client a Go program uses to act as the signed-in user on
// Auth0's Management API.
package api
