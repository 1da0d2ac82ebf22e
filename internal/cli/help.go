package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

const mainHelp = `auth0me acts as the signed-in user on Auth0's Management API, with a
user-scoped token, through the seven current-user operations. A scope guard
refuses, before anything is sent, every call the token does not allow.

Usage:
  auth0me [flags] COMMAND [arguments] [flags]

Try it with no Auth0 account:
  auth0me demo

Commands:
`

const globalHelp = `
Flags for every command (before or after the command):
  --json            print JSON for scripts instead of text (errors too, on stderr)
  --domain DOMAIN   Auth0 tenant domain (default $AUTH0_DOMAIN, else the token
                    file's, else the one in the token's audience)
  --token TOKEN     use this access token instead of the token file
                    (default $AUTH0_TOKEN)
  --base-url URL    tenant root URL instead of https://DOMAIN, for a local
                    test tenant such as apitest (http only on loopback)
  -h, --help        help for any command

The token file is <user config dir>/auth0me/token.json (mode 0600); login
writes it, API commands refresh it through the refresh token when it expires,
logout deletes it. No command prints a token.

Shell completion: not provided (the command uses Go's standard flag package).
`

func (r *runner) mainUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(mainHelp)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-25s %s\n", c.name, c.summary)
		for _, s := range c.sub {
			fmt.Fprintf(&b, "  %-25s %s\n", c.name+" "+s.name, s.summary)
		}
	}
	b.WriteString(globalHelp)
	b.WriteString("\n" + exitCodesHelp + "\n")
	b.WriteString("\nRun 'auth0me COMMAND --help' for a command's flags and examples.\n")
	io.WriteString(w, b.String())
}

// help implements "auth0me help [COMMAND]".
func (r *runner) help(args []string) int {
	if len(args) == 0 {
		r.mainUsage(r.out)
		return ExitOK
	}
	cmd, path, rest := lookup(commands, args)
	if cmd == nil || len(rest) > 0 {
		return r.usageError(fmt.Errorf("unknown command %q", strings.Join(args, " ")))
	}
	r.commandUsage(r.out, cmd, path)
	return ExitOK
}

func (r *runner) commandUsage(w io.Writer, cmd *command, path string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nUsage:\n  auth0me %s", cmd.summary, path)
	if cmd.sub != nil {
		b.WriteString(" COMMAND")
	}
	if cmd.args != "" {
		b.WriteString(" " + cmd.args)
	}
	b.WriteString(" [flags]\n")
	if cmd.sub != nil {
		b.WriteString("\nCommands:\n")
		for _, s := range cmd.sub {
			fmt.Fprintf(&b, "  %-10s %s\n", s.name, s.summary)
		}
	}
	if cmd.flags != nil {
		fs := flag.NewFlagSet(path, flag.ContinueOnError)
		var o opts
		cmd.flags(fs, &o)
		b.WriteString("\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(&b, "  --%s", f.Name)
			if name != "" {
				b.WriteString(" " + strings.ToUpper(strings.ReplaceAll(name, " ", "_")))
			}
			b.WriteString("\n      " + usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				fmt.Fprintf(&b, " (default %s)", f.DefValue)
			}
			b.WriteString("\n")
		})
	}
	if len(cmd.examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, e := range cmd.examples {
			b.WriteString("  " + e + "\n")
		}
	}
	b.WriteString("\nGlobal flags: --json, --domain, --token, --base-url (see 'auth0me --help').\n")
	b.WriteString("\n" + exitCodesHelp + "\n")
	io.WriteString(w, b.String())
}
