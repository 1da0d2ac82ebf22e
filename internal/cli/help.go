package cli

import (
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is the column at which help wraps.
const helpWidth = 80

const rootLong = `auth0me acts as the signed-in user on Auth0's Management API, with a
user-scoped token, through the seven current-user operations. A scope guard
refuses, before anything is sent, every call the token does not allow.

Try it with no Auth0 account:
  auth0me demo

The token file, <user config dir>/auth0me/token.json (mode 0600), holds one
entry per tenant: login adds one and makes it the default, --domain selects
one, API commands refresh it when it expires (one process at a time, under a
lock), logout revokes its refresh token and deletes it. No command prints its
tokens.

Environment:
  AUTH0ME_DOMAIN      default of --domain
  AUTH0_DOMAIN        default of --domain when AUTH0ME_DOMAIN is not set
  AUTH0_TOKEN         default of --token
  AUTH0_CLIENT_ID     default of login's --client-id
  AUTH0ME_BASE_URL    default of --base-url
  AUTH0ME_CONFIG_DIR  directory of token.json instead of <config>/auth0me`

// exitCodesHelp is the one exit-status table; 'auth0me help exit-codes'
// prints it and every other help points to it.
const exitCodesHelp = `Exit status of every auth0me command:

  0    success
  1    the Management API answered with an error, or could not be reached
  2    usage error, an argument Auth0 would refuse, or a confirmation declined;
       nothing was sent
  3    refused by the scope guard: the token's scopes or subject do not allow
       the call; nothing was sent
  4    not signed in, sign-in failed, or the token is unusable (expired,
       malformed, refresh failed); status exits 4 when the token is not
       usable now
  130  interrupted (Ctrl-C, SIGINT)
  143  stopped by SIGTERM`

// renderHelp writes cmd's help: description, usage, subcommands, flags,
// examples, wrapped at helpWidth. It is the only help layout of the
// command.
func renderHelp(w io.Writer, cmd *cobra.Command) {
	var b strings.Builder
	if cmd.IsAdditionalHelpTopicCommand() {
		b.WriteString(wrap(cmd.Long) + "\n")
		io.WriteString(w, b.String())
		return
	}
	desc := cmd.Long
	if desc == "" {
		desc = cmd.Short
	}
	b.WriteString(wrap(desc) + "\n")

	b.WriteString("\nUsage:\n")
	switch {
	case !cmd.HasParent():
		b.WriteString("  auth0me [flags] COMMAND [arguments] [flags]\n")
	case cmd.HasAvailableSubCommands() && !cmd.Runnable() || isGroup(cmd):
		b.WriteString("  " + cmd.CommandPath() + " COMMAND [arguments] [flags]\n")
	default:
		b.WriteString("  " + cmd.UseLine() + "\n")
	}
	if len(cmd.Aliases) > 0 {
		b.WriteString("\nAliases:\n  " + strings.Join(cmd.Aliases, ", ") + "\n")
	}

	var cmds, topics [][2]string
	for _, c := range cmd.Commands() {
		switch {
		case c.IsAdditionalHelpTopicCommand():
			topics = append(topics, [2]string{c.Name(), c.Short})
		case c.IsAvailableCommand():
			cmds = append(cmds, [2]string{c.Name(), c.Short})
			if !cmd.HasParent() && c.Name() != "completion" {
				for _, s := range c.Commands() {
					if s.IsAvailableCommand() {
						cmds = append(cmds, [2]string{c.Name() + " " + s.Name(), s.Short})
					}
				}
			}
		}
	}
	if len(cmds) > 0 {
		b.WriteString("\nCommands:\n" + columns(cmds))
	}
	if len(topics) > 0 {
		b.WriteString("\nHelp topics ('auth0me help TOPIC'):\n" + columns(topics))
	}

	local, global := pflag.NewFlagSet("local", pflag.ContinueOnError), pflag.NewFlagSet("global", pflag.ContinueOnError)
	cmd.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
		if fl.Name != "help" {
			local.AddFlag(fl)
		}
	})
	globals := cmd.InheritedFlags()
	if !cmd.HasParent() {
		globals = cmd.PersistentFlags()
	}
	globals.VisitAll(global.AddFlag)
	global.Bool("help", false, "help for any command")
	global.Lookup("help").Shorthand = "h"
	if local.HasFlags() {
		b.WriteString("\nFlags:\n" + local.FlagUsagesWrapped(helpWidth))
	}
	if cmd.HasParent() {
		b.WriteString("\nGlobal flags:\n" + global.FlagUsagesWrapped(helpWidth))
	} else {
		b.WriteString("\nFlags for every command (before or after the command):\n" + global.FlagUsagesWrapped(helpWidth))
	}

	if cmd.Example != "" {
		b.WriteString("\nExamples:\n")
		for line := range strings.SplitSeq(cmd.Example, "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	if cmd.HasParent() {
		b.WriteString("\nExit status: see 'auth0me help exit-codes'.\n")
	} else {
		b.WriteString("\nRun 'auth0me help COMMAND' for a command's flags and examples, and\n'auth0me help exit-codes' for the exit statuses.\n")
	}
	io.WriteString(w, b.String())
}

// isGroup reports a command that only holds subcommands.
func isGroup(cmd *cobra.Command) bool {
	return cmd.HasAvailableSubCommands() && cmd.HasParent()
}

// columns lays out name/summary pairs, the summary wrapped with a hanging
// indent.
func columns(rows [][2]string) string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	indent := 2 + width + 3
	var b strings.Builder
	for _, r := range rows {
		lines := wrapWords(r[1], helpWidth-indent)
		fmt.Fprintf(&b, "  %-*s   %s\n", width, r[0], lines[0])
		for _, l := range lines[1:] {
			b.WriteString(strings.Repeat(" ", indent) + l + "\n")
		}
	}
	return b.String()
}

// wrap rewraps the unindented paragraphs of s at helpWidth; indented lines
// (examples, tables) are kept as written.
func wrap(s string) string {
	var out, para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, wrapWords(strings.Join(para, " "), helpWidth)...)
			para = nil
		}
	}
	for line := range strings.SplitSeq(s, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, " "):
			flush()
			out = append(out, line)
		default:
			para = append(para, line)
		}
	}
	flush()
	return strings.Join(out, "\n")
}

// wrapWords breaks s into lines of at most width columns, at spaces.
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return append(lines, line)
}

// newHelpTopic is a help page with no command behind it.
func newHelpTopic(name, short, long string) *cobra.Command {
	return &cobra.Command{Use: name, Short: short, Long: long}
}

// buildVersion describes the binary from its build information: the module
// version ("(devel)" for a local build), the VCS revision when recorded,
// and the Go version.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	i := slices.IndexFunc(bi.Settings, func(s debug.BuildSetting) bool { return s.Key == "vcs.revision" })
	if i >= 0 {
		rev := bi.Settings[i].Value
		rev = rev[:min(len(rev), 12)]
		if slices.Contains(bi.Settings, debug.BuildSetting{Key: "vcs.modified", Value: "true"}) {
			rev += "-dirty"
		}
		extra = append(extra, rev)
	}
	extra = append(extra, bi.GoVersion)
	return v + " (" + strings.Join(extra, ", ") + ")"
}

func newCmdVersion(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of auth0me",
		Example: "auth0me version\nauth0me --version",
		Args:    argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.json {
				return f.printJSON(map[string]string{"version": cmd.Root().Version})
			}
			_, err := fmt.Fprintf(f.out, "auth0me %s\n", cmd.Root().Version)
			return err
		},
	}
}
