// Package bench measures auth0me side by side with Auth0's own Go SDK,
// github.com/auth0/go-auth0 v1.35.0 and github.com/auth0/go-auth0/v3 v3.0.0.
//
// It is a separate module so that the library never depends on go-auth0.
// The package holds what the benchmarks share: one adapter per library
// over the seven current-user operations (Client), an in-memory
// RoundTripper that answers the bodies Auth0 sent in the recordings of
// ../shared/auth0/recordings (Recorded), the rate-limit scenarios
// (Scenarios, RunScenario), the many-users memory probe (ManyUsers) and the writer of
// RESULTS.md (WriteResults). run.sh runs everything; the figures and the
// commands are in RESULTS.md.
//
// Everything talks to 127.0.0.1 or to memory only.
package bench
