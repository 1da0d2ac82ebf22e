// Package apitest runs an in-process Auth0 tenant for tests.
package apitest
