// Command auth0me acts as the signed-in user on Auth0's Management API with
// a user-scoped token: it signs the user in (PKCE in a browser, or the
// device flow), keeps the token in a 0600 file under the user's config
// directory, and calls the seven current-user operations through a guard
// that refuses, before anything is sent, what the token does not allow.
//
// Start with
//
//	go run ./cmd/auth0me demo
//
// which needs no Auth0 account and no network, then 'auth0me --help'.
//
// 'auth0me help exit-codes' lists the exit statuses.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/auth0me/auth0me/internal/cli"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal cancels ctx, and the command ends with 128 plus
		// its number (130, 143); a second one kills the process, should
		// anything not heed ctx.
		sig, ok := (<-sigs).(syscall.Signal)
		if !ok {
			sig = syscall.SIGINT
		}
		cancel(&cli.Signaled{Signal: sig})
		signal.Stop(sigs)
	}()
	code := cli.Run(ctx, cli.DefaultEnv(), os.Args[1:])
	signal.Stop(sigs)
	os.Exit(code)
}
