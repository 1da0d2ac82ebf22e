// Command spectrim derives spec/current-user.yaml from Auth0's published
// Management API document, or reports how a committed document differs from
// what trimming an upstream one would give.
//
// Usage:
//
//	spectrim -o spec/current-user.yaml UPSTREAM.json
//	spectrim -diff spec/current-user.yaml UPSTREAM.json
//
// Exit status: 0 when the trimmed document is written or, with -diff, when
// the committed document matches what trimming UPSTREAM gives; 1 with -diff
// when they differ (drift); 2 on error (bad usage, an unreadable file, an
// upstream document that cannot be trimmed). With -diff it also names the
// policy differences between the two documents (see spectrim.Policy); those
// are decisions of the seed's table, kept by internal/spectrim/rules.go, and
// do not change the exit status.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/auth0me/auth0me/internal/spectrim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: spectrim [-o file] UPSTREAM
       spectrim -diff DOCUMENT UPSTREAM

Trims Auth0's Management API document UPSTREAM (JSON or YAML) to the
current-user document, or with -diff reports how the committed DOCUMENT
differs from what trimming UPSTREAM gives, then the policy differences
between DOCUMENT and UPSTREAM (current-user operations upstream that
DOCUMENT leaves out, scopes DOCUMENT grants that upstream does not list).

Exit status:
  0  written; with -diff, DOCUMENT matches (policy differences may be listed)
  1  with -diff, DOCUMENT differs from what trimming UPSTREAM gives (drift)
  2  error: bad usage, an unreadable file, an UPSTREAM that cannot be trimmed

Flags:
`

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spectrim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the trimmed document to `file` (default: standard output)")
	against := fs.String("diff", "", "report how the committed `document` differs from trimming UPSTREAM")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() != 1 || (*out != "" && *against != "") {
		fs.Usage()
		return 2
	}
	upstream, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "spectrim:", err)
		return 2
	}
	trimmed, err := spectrim.Trim(upstream)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *against != "" {
		committed, err := os.ReadFile(*against)
		if err != nil {
			fmt.Fprintln(stderr, "spectrim:", err)
			return 2
		}
		changes, err := spectrim.Diff(committed, trimmed)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		policy, err := spectrim.Policy(committed, upstream)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		status := 0
		if len(changes) == 0 {
			fmt.Fprintf(stdout, "%s matches what trimming %s gives.\n", *against, fs.Arg(0))
		} else {
			status = 1
			fmt.Fprintf(stdout, "%s differs from what trimming %s gives (%d changes; - committed, + upstream):\n", *against, fs.Arg(0), len(changes))
			for _, c := range changes {
				fmt.Fprintln(stdout, c)
			}
		}
		if len(policy) > 0 {
			fmt.Fprintf(stdout, "Policy differences with %s (the seed's table decides, internal/spectrim/rules.go; not drift):\n", fs.Arg(0))
			for _, p := range policy {
				fmt.Fprintln(stdout, p)
			}
		}
		return status
	}
	if *out == "" {
		_, err = stdout.Write(trimmed)
	} else if old, rerr := os.ReadFile(*out); rerr == nil && bytes.Equal(old, trimmed) {
		return 0
	} else {
		err = os.WriteFile(*out, trimmed, 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "spectrim:", err)
		return 2
	}
	return 0
}
