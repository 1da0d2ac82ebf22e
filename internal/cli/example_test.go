package cli_test

import (
	"context"
	"fmt"
	"os"

	"github.com/auth0me/auth0me/internal/cli"
)

// Run is the whole command; a program (or a test) passes the arguments and
// an Env, and gets the exit status back.
func ExampleRun() {
	env := cli.Env{
		Stdout:    os.Stdout,
		Stderr:    os.Stdout,
		Getenv:    func(string) string { return "" },
		ConfigDir: func() (string, error) { return os.TempDir(), nil },
	}
	code := cli.Run(context.Background(), env, []string{"metadata", "set", "theme", "--token", "x.y.z"})
	fmt.Println("exit status", code)
	// Output:
	// auth0me: "theme" is not KEY=VALUE (see 'auth0me metadata set --help')
	// exit status 2
}
