// Package cli is the auth0me command: it signs a user in with
// golang.org/x/oauth2, keeps the token in a file, and calls the seven
// current-user operations of the Management API through package api.
//
// Run is the whole command; cmd/auth0me only wires it to the process.
// Everything the command touches outside itself (streams, environment,
// config directory, HTTP client, browser) comes through Env, so tests run
// it in-process against an apitest tenant.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// Env is what Run needs from the process. A zero field means the process
// default (see DefaultEnv). Env is read-only during Run.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	// Getenv reads environment variables (AUTH0_DOMAIN, AUTH0_TOKEN,
	// AUTH0_CLIENT_ID); nil means os.Getenv.
	Getenv func(string) string
	// ConfigDir returns the user's configuration directory; the token file
	// lives in ConfigDir()/auth0me/. Nil means os.UserConfigDir.
	ConfigDir func() (string, error)
	// HTTPClient makes every request (Authentication and Management API);
	// nil means a client with a 60-second timeout and no redirects to other
	// hosts followed with credentials.
	HTTPClient *http.Client
	// Interactive says Stderr is a terminal, which turns on the device-flow
	// spinner.
	Interactive bool
	// Browse is called by login with the URL the user must open. Nil means
	// the URL is only printed for the user to open.
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

// command is one subcommand.
type command struct {
	name     string
	args     string // synopsis of the positional arguments and own flags
	summary  string
	examples []string
	// flags registers the command's own flags; nil for none.
	flags func(fs *flag.FlagSet, o *opts)
	// minArgs and maxArgs bound the positional arguments; maxArgs < 0 means
	// no limit.
	minArgs, maxArgs int
	run              func(ctx context.Context, r *runner, args []string) error
	// sub lists subcommands (metadata, device-credential); run is nil then.
	sub []*command
}

// opts holds every flag value of one invocation.
type opts struct {
	json     bool
	domain   string
	token    string
	baseURL  string
	clientID string
	help     bool

	// login
	scopes  []string
	device  bool
	port    int
	timeout time.Duration

	// link
	idToken string

	// device-credential create
	dcName, dcDeviceID, dcValue, dcClientID string
}

// runner carries one invocation's state.
type runner struct {
	env  Env
	o    opts
	cmd  string // full command name, e.g. "metadata set"
	out  io.Writer
	errw io.Writer
}

var commands []*command

func init() {
	commands = []*command{
		loginCmd, logoutCmd, tokenCmd, meCmd, enrollmentsCmd, metadataCmd,
		linkCmd, unlinkCmd, deviceCredentialCmd, demoCmd,
	}
}

// Run runs the command line args (without the program name) and returns the
// exit status: one of the Exit constants.
func Run(ctx context.Context, env Env, args []string) int {
	env.fill()
	r := &runner{env: env, out: env.Stdout, errw: env.Stderr}

	// Leading global flags: auth0me [--json ...] COMMAND ...
	top := newFlagSet("auth0me", r)
	global(top, &r.o)
	top.Usage = func() { r.mainUsage(r.errw) }
	rest, err := parseLeading(top, args)
	if err != nil {
		return r.usageError(err)
	}
	if len(rest) == 0 {
		if r.o.help {
			r.mainUsage(r.out)
			return ExitOK
		}
		r.mainUsage(r.errw)
		return ExitUsage
	}
	if rest[0] == "help" {
		return r.help(rest[1:])
	}
	cmd, path, rest := lookup(commands, rest)
	if cmd == nil {
		return r.usageError(fmt.Errorf("unknown command %q", rest[0]))
	}
	r.cmd = path
	if cmd.sub != nil {
		// "auth0me metadata" alone, or with --help.
		if len(rest) > 0 && !isHelpArg(rest[0]) {
			return r.usageError(fmt.Errorf("unknown %s command %q", path, rest[0]))
		}
		if r.o.help || len(rest) > 0 {
			r.commandUsage(r.out, cmd, path)
			return ExitOK
		}
		r.commandUsage(r.errw, cmd, path)
		return ExitUsage
	}
	fs := newFlagSet("auth0me "+path, r)
	global(fs, &r.o)
	if cmd.flags != nil {
		cmd.flags(fs, &r.o)
	}
	fs.Usage = func() {}
	pos, err := parseInterspersed(fs, rest)
	if r.o.help || errors.Is(err, flag.ErrHelp) {
		r.commandUsage(r.out, cmd, path)
		return ExitOK
	}
	if err != nil {
		return r.usageError(err)
	}
	if len(pos) < cmd.minArgs || (cmd.maxArgs >= 0 && len(pos) > cmd.maxArgs) {
		return r.usageError(fmt.Errorf("%s takes %s", path, argCount(cmd.minArgs, cmd.maxArgs)))
	}
	if err := cmd.run(ctx, r, pos); err != nil {
		return r.fail(err)
	}
	return ExitOK
}

func isHelpArg(s string) bool {
	return s == "-h" || s == "-help" || s == "--help" || s == "help"
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

// lookup finds the command named by args[0] (and args[1] for commands with
// subcommands). It returns the command, its full name, and the remaining
// arguments; nil when args[0] names no command.
func lookup(cmds []*command, args []string) (*command, string, []string) {
	i := slices.IndexFunc(cmds, func(c *command) bool { return c.name == args[0] })
	if i < 0 {
		return nil, "", args
	}
	c := cmds[i]
	if c.sub != nil && len(args) > 1 {
		if j := slices.IndexFunc(c.sub, func(s *command) bool { return s.name == args[1] }); j >= 0 {
			return c.sub[j], c.name + " " + args[1], args[2:]
		}
	}
	return c, c.name, args[1:]
}

func newFlagSet(name string, r *runner) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by usageError
	return fs
}

// global registers the flags every command accepts.
func global(fs *flag.FlagSet, o *opts) {
	fs.BoolVar(&o.json, "json", o.json, "print JSON for scripts instead of text")
	fs.StringVar(&o.domain, "domain", o.domain, "Auth0 tenant `domain`, e.g. tenant.eu.auth0.com (default $AUTH0_DOMAIN, else the token file, else the token's audience)")
	fs.StringVar(&o.token, "token", o.token, "use this access `token` instead of the token file (default $AUTH0_TOKEN)")
	fs.StringVar(&o.baseURL, "base-url", o.baseURL, "tenant root `URL` instead of https://DOMAIN, e.g. an apitest tenant's http://127.0.0.1:PORT (loopback http or https only)")
	fs.BoolVar(&o.help, "help", o.help, "show help")
	fs.BoolVar(&o.help, "h", o.help, "show help")
}

// parseLeading parses the flags before the command name.
func parseLeading(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil
		}
		return nil, err
	}
	return fs.Args(), nil
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at the first non-flag or after "--"; tell them
		// apart by what was consumed.
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
