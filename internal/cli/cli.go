// Package cli is the auth0me command: it signs a user in with
// golang.org/x/oauth2, keeps the token in a file, and calls the seven
// current-user operations of the Management API through package api.
//
// Run is the whole command; cmd/auth0me only wires it to the process.
// Everything the command touches outside itself (streams, environment,
// config directory, HTTP client, browser) comes through Env, so tests run
// it in-process against an apitest tenant.
//
// The command tree is built with github.com/spf13/cobra the way gh builds
// its own: every command has an options struct and a constructor
// newCmdX(f, runF) that only parses into the struct and then calls runF
// (runX when nil), so parsing is tested apart from running. Help is
// rendered by one function (renderHelp); the exit statuses are listed once,
// in 'auth0me help exit-codes' (and the README, which a test keeps equal).
//
// The token file holds one entry per tenant domain and the default one.
// Every change to it is a read-modify-write under an exclusive lock on
// token.json.lock beside it, and the file is replaced atomically. A refresh
// takes the lock, reads the file again and uses a token another process
// refreshed meanwhile, so that processes started together spend the
// (rotating) refresh token once.
//
// Errors are printed once, by Run, with one prefix: "auth0me: ", the
// message, and what to do about it; with --json, as one object on stderr
// carrying kind, exit, message, hint and, for a refusal for want of scope,
// need and granted.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Env is what Run needs from the process. A zero field means the process
// default (see DefaultEnv). Env is read-only during Run.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	// Getenv reads environment variables (AUTH0_DOMAIN, AUTH0_TOKEN,
	// AUTH0_CLIENT_ID, AUTH0ME_*); nil means os.Getenv.
	Getenv func(string) string
	// ConfigDir returns the user's configuration directory; the token file
	// lives in ConfigDir()/auth0me/. Nil means os.UserConfigDir.
	ConfigDir func() (string, error)
	// HTTPClient makes every request (Authentication and Management API);
	// nil means a client with a 60-second timeout.
	HTTPClient *http.Client
	// Interactive says Stderr is a terminal, which turns on the device-flow
	// spinner.
	Interactive bool
	// StdoutTTY says Stdout is a terminal, which allows colour there (see
	// palette); Interactive allows it on Stderr.
	StdoutTTY bool
	// StdinTTY says Stdin is a terminal: only then do unlink and
	// device-credential delete ask for confirmation.
	StdinTTY bool
	// Browse is called by login with the URL the user must open (the URL
	// is printed either way). Nil means the URL is only printed.
	Browse func(ctx context.Context, url string) error
}

// DefaultEnv is the Env of the running process.
func DefaultEnv() Env {
	return Env{
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Stdin:       os.Stdin,
		Getenv:      os.Getenv,
		ConfigDir:   os.UserConfigDir,
		Interactive: isTerminal(os.Stderr),
		StdoutTTY:   isTerminal(os.Stdout),
		StdinTTY:    isTerminal(os.Stdin),
		Browse:      openBrowser,
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (e *Env) fill() {
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.ConfigDir == nil {
		e.ConfigDir = os.UserConfigDir
	}
	if e.HTTPClient == nil {
		e.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
}

// factory is what every command shares: the Env, the global flags' values,
// and the helpers that turn them into a tenant, a token and an API client.
type factory struct {
	env  Env
	out  io.Writer
	errw io.Writer
	// outColor and errColor colour what goes to out and errw.
	outColor, errColor palette

	// Global flags.
	json    bool
	domain  string
	token   string
	baseURL string
	debug   bool

	tokenGiven bool   // --token was on the command line (even empty)
	cmd        string // full command name, e.g. "metadata set"
}

// Run runs the command line args (without the program name) and returns the
// exit status: one of the Exit constants.
func Run(ctx context.Context, env Env, args []string) int {
	env.fill()
	f := &factory{env: env, out: env.Stdout, errw: env.Stderr,
		outColor: newPalette(env.StdoutTTY, env.Getenv), errColor: newPalette(env.Interactive, env.Getenv)}
	root := newCmdRoot(f)
	root.SetArgs(longFlagsWithOneDash(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if cmd != nil && cmd != root {
		f.cmd = strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
	}
	if err != nil {
		return f.fail(err, interruptedExit(ctx))
	}
	return ExitOK
}

// newCmdRoot builds the whole command tree.
func newCmdRoot(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "auth0me",
		Short:         "Act as the signed-in user on Auth0's Management API",
		Long:          rootLong,
		Version:       buildVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// "did you mean": names within two edits, or with the typed prefix.
		SuggestionsMinimumDistance: 2,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			// "auth0me" alone: the help, as a usage error.
			renderHelp(f.errw, cmd)
			return errReported(ExitUsage)
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			f.tokenGiven = cmd.Flags().Changed("token")
			if f.debug {
				f.env.HTTPClient = withDebug(f.env.HTTPClient, f.errw)
			}
			return nil
		},
	}
	root.SetOut(f.out)
	root.SetErr(f.errw)
	root.SetIn(f.env.Stdin)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageErr{msg: err.Error()} })
	root.SetVersionTemplate("auth0me {{.Version}}\n")
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { renderHelp(cmd.OutOrStdout(), cmd) })
	root.SetUsageFunc(func(cmd *cobra.Command) error { renderHelp(cmd.ErrOrStderr(), cmd); return nil })
	root.CompletionOptions.HiddenDefaultCmd = false

	pf := root.PersistentFlags()
	pf.BoolVar(&f.json, "json", false, "print JSON for scripts instead of text (errors too, on stderr)")
	pf.StringVar(&f.domain, "domain", "", "Auth0 tenant `DOMAIN`, e.g. tenant.eu.auth0.com; selects the token file's entry (default $AUTH0ME_DOMAIN or $AUTH0_DOMAIN, else the token file's default, else the token's audience)")
	pf.StringVar(&f.token, "token", "", "use this access `TOKEN` instead of the token file; - reads it from standard input (default $AUTH0_TOKEN)")
	pf.BoolVar(&f.debug, "debug", false, "trace each HTTP request and answer on stderr, with tokens, codes and secrets redacted")
	pf.StringVar(&f.baseURL, "base-url", "", "tenant root `URL` instead of https://DOMAIN, e.g. an apitest tenant's http://127.0.0.1:PORT; http only to loopback (default $AUTH0ME_BASE_URL)")

	root.SetHelpCommand(newCmdHelp(f))
	root.RegisterFlagCompletionFunc("domain", f.completeDomains)
	root.AddCommand(
		newCmdLogin(f, nil),
		newCmdLogout(f, nil),
		newCmdStatus(f, nil),
		newCmdMe(f, nil),
		newCmdEnrollments(f, nil),
		newCmdMetadata(f),
		newCmdLink(f, nil),
		newCmdUnlink(f, nil),
		newCmdDeviceCredential(f),
		newCmdDemo(f, nil),
		newCmdServe(f, nil),
		newCmdVersion(f),
		newHelpTopic("exit-codes", "Exit status of every command", exitCodesHelp),
	)
	// cobra's completion command, made to behave like the other groups.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			asGroup(f, c)
		}
	}
	return root
}

// newGroup is a command that only holds subcommands (metadata,
// device-credential).
func newGroup(f *factory, use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short}
	asGroup(f, c)
	c.AddCommand(subs...)
	return c
}

// asGroup makes c, a command that only holds subcommands, print its help
// as a usage error when run alone, and name an unknown subcommand with
// suggestions.
func asGroup(f *factory, c *cobra.Command) {
	c.SuggestionsMinimumDistance = 2
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			renderHelp(f.errw, cmd)
			return errReported(ExitUsage)
		case args[0] == "help":
			renderHelp(f.out, cmd)
			return nil
		}
		return unknownCommand(cmd, args[0])
	}
}

// newCmdHelp replaces cobra's help command: an unknown command or topic is
// a usage error with suggestions, and 'help help' is help's own page.
func newCmdHelp(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Help about any command or topic",
		Long: `Help about any command or topic: 'auth0me help COMMAND' is 'auth0me COMMAND
--help'; 'auth0me help exit-codes' lists the exit statuses.`,
		Example: "auth0me help metadata set\nauth0me help exit-codes",
		Args:    cobra.ArbitraryArgs,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := cmd.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, c := range target.Commands() {
				if (c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand()) && strings.HasPrefix(c.Name(), prefix) {
					names = append(names, cobra.CompletionWithDesc(c.Name(), c.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil {
				return &usageErr{msg: err.Error()}
			}
			if len(rest) > 0 {
				return unknownCommand(target, rest[0])
			}
			renderHelp(f.out, target)
			return nil
		},
	}
}

// unknownCommand is the usage error for an argument that names no command,
// with cobra's "did you mean" suggestions.
func unknownCommand(cmd *cobra.Command, name string) error {
	where := "command"
	if cmd.HasParent() {
		where = cmd.CommandPath()[len(cmd.Root().Name())+1:] + " command"
	}
	msg := "unknown " + where + " " + quote(name)
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + quote(strings.Join(s, `" or "`)) + "?"
	}
	return &usageErr{msg: msg}
}

func quote(s string) string { return `"` + s + `"` }

// argsRange checks the number of positional arguments.
func argsRange(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || (hi >= 0 && len(args) > hi) {
			return usagef("%s takes %s", strings.TrimPrefix(cmd.CommandPath(), "auth0me "), argCount(lo, hi))
		}
		return nil
	}
}

func argCount(lo, hi int) string {
	switch {
	case lo == 0 && hi == 0:
		return "no arguments"
	case lo == hi:
		return fmt.Sprintf("exactly %d argument%s", lo, plural(lo))
	case hi < 0:
		return fmt.Sprintf("at least %d argument%s", lo, plural(lo))
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// longFlagsWithOneDash rewrites -name and -name=value to --name for every
// long flag of the tree, before "--": the command was first written with
// Go's flag package, which accepts both forms, and scripts may use either.
func longFlagsWithOneDash(root *cobra.Command, args []string) []string {
	long := map[string]bool{"help": true, "version": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(fl *pflag.Flag) {
			if len(fl.Name) > 1 {
				long[fl.Name] = true
			}
		}
		c.LocalFlags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if long[name] {
				out[i] = "-" + a
			}
		}
	}
	return out
}

// errReported is an exit status whose message has already been printed.
type errReported int

func (e errReported) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// isReported reports an errReported in err's chain.
func isReported(err error) (int, bool) {
	var e errReported
	if errors.As(err, &e) {
		return int(e), true
	}
	return 0, false
}
