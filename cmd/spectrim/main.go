// Command spectrim derives spec/current-user.yaml from Auth0's published
// Management API document, or reports how a committed document differs from
// what trimming an upstream one would give.
//
// Usage:
//
//	spectrim -o spec/current-user.yaml UPSTREAM.json
//	spectrim -diff spec/current-user.yaml UPSTREAM.json
//
// With -diff it exits 0 when the documents agree, 1 when they differ and 2 on
// error.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/auth0me/auth0me/internal/spectrim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spectrim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the trimmed document to `file` (default: standard output)")
	against := fs.String("diff", "", "report how the committed `document` differs from trimming UPSTREAM")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spectrim [-o file | -diff document] UPSTREAM")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
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
		if len(changes) == 0 {
			fmt.Fprintf(stdout, "%s matches what trimming %s gives.\n", *against, fs.Arg(0))
			return 0
		}
		fmt.Fprintf(stdout, "%s differs from what trimming %s gives (%d changes; - committed, + upstream):\n", *against, fs.Arg(0), len(changes))
		for _, c := range changes {
			fmt.Fprintln(stdout, c)
		}
		return 1
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
