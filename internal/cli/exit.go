package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

// Exit statuses of Run.
const (
	ExitOK      = 0 // success
	ExitAPI     = 1 // the Management API answered with an error, or could not be reached
	ExitUsage   = 2 // bad command line or argument, refused before anything was sent
	ExitRefused = 3 // refused by the scope guard: the token does not allow the call
	ExitLogin   = 4 // not signed in, sign-in failed, or the token is unusable (expired, malformed, refresh failed)

	ExitInterrupted = 130 // interrupted by SIGINT (Ctrl-C): the shell's 128+2
	ExitTerminated  = 143 // stopped by SIGTERM: the shell's 128+15
)

// Signaled is the cause of the context Run is given when a signal ends
// the command (context.WithCancelCause): Run then exits 128 plus the
// signal's number, as a shell reports a process killed by it (130 for
// SIGINT, 143 for SIGTERM). A context that ends for any other reason
// exits ExitInterrupted.
type Signaled struct{ Signal syscall.Signal }

func (e *Signaled) Error() string { return "auth0me: " + e.Signal.String() }

// interruptedExit returns the exit status of a command whose context
// ended, or 0 when it did not.
func interruptedExit(ctx context.Context) int {
	if ctx.Err() == nil {
		return 0
	}
	var s *Signaled
	if errors.As(context.Cause(ctx), &s) && s.Signal > 0 && s.Signal < 128 {
		return 128 + int(s.Signal)
	}
	return ExitInterrupted
}

// usageErr is a command-line problem. kind is "usage", or
// "invalid_argument" for an argument Auth0 would refuse.
type usageErr struct{ msg, kind string }

func (e *usageErr) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

// loginErr is a sign-in or token problem; hint says what to do about it.
type loginErr struct {
	msg  string
	hint string
	err  error
}

func (e *loginErr) Error() string {
	s := e.msg
	if e.err != nil {
		s += ": " + describe(e.err)
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func (e *loginErr) Unwrap() error { return e.err }

// classify maps an error to its exit status and kind (for --json).
func classify(err error) (int, string) {
	var ue *usageErr
	var le *loginErr
	switch {
	case errors.As(err, &ue) && ue.kind != "":
		return ExitUsage, ue.kind
	case errors.As(err, &ue):
		return ExitUsage, "usage"
	case errors.As(err, &le):
		return ExitLogin, "login"
	case errors.Is(err, api.ErrTokenSource),
		errors.Is(err, api.ErrMalformedToken),
		errors.Is(err, api.ErrTokenExpired),
		errors.Is(err, api.ErrAdminToken),
		errors.Is(err, api.ErrAudience):
		return ExitLogin, "token"
	case scopeguard.Refused(err): // the rest of the guard's refusals: nothing was sent
		return ExitRefused, "refused"
	case errors.Is(err, api.ErrInvalidArgument), errors.Is(err, api.ErrInvalidIDToken), errors.Is(err, api.ErrOption):
		return ExitUsage, "invalid_argument"
	}
	var ae *api.Error
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return ExitAPI, "api"
	case errors.As(err, &ne):
		return ExitAPI, "network"
	}
	return ExitAPI, "error"
}

// describe renders err as one line. For an *api.Error it is Auth0's status,
// code and message; for a token endpoint error, the OAuth error code and
// description; otherwise the error's own text.
func describe(err error) string {
	var ae *api.Error
	var re *oauth2.RetrieveError
	var le *loginErr
	switch {
	case errors.As(err, &le):
		return oneLine(le.Error())
	case errors.As(err, &ae):
		msg := ae.Message
		if msg == "" {
			msg = ae.Reason
		}
		code := ae.Code
		if code == "" {
			code = ae.Reason
		}
		if code == "" {
			code = http.StatusText(ae.StatusCode)
		}
		return oneLine(fmt.Sprintf("%d %s: %s", ae.StatusCode, code, msg))
	case errors.As(err, &re):
		s := "token endpoint"
		if re.Response != nil {
			s += fmt.Sprintf(" answered %d", re.Response.StatusCode)
		}
		if re.ErrorCode != "" {
			s += " " + re.ErrorCode
		}
		if re.ErrorDescription != "" {
			s += ": " + re.ErrorDescription
		}
		return oneLine(s)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if isGuard(err) {
			return oneLine(ue.Err.Error())
		}
		// Keep the cause, drop the query (it may carry a code or state).
		return oneLine(fmt.Sprintf("%s %s: %v", ue.Op, redactURL(ue.URL), ue.Err))
	}
	return oneLine(err.Error())
}

func isGuard(err error) bool {
	_, kind := classify(err)
	return kind == "refused" || kind == "token"
}

// redactURL keeps a URL's scheme, host and path.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// errInfo is what the command says about a failure, the same in text and
// in --json: what went wrong, and what to do about it.
type errInfo struct {
	kind    string
	exit    int
	message string
	hint    string
	// need and granted are the scopes of a refusal for want of scope.
	need, granted []string
	scope         bool
	// status and code are Auth0's, for an answer of the Management API.
	status int
	code   string
}

// explain turns err into an errInfo. interrupted is the exit status of a
// command a signal ended (see interruptedExit), 0 when none did.
func (f *factory) explain(err error, interrupted int) errInfo {
	if interrupted != 0 {
		return errInfo{kind: "interrupted", exit: interrupted, message: "interrupted"}
	}
	code, kind := classify(err)
	e := errInfo{kind: kind, exit: code, message: unprefix(describe(err))}
	var ue *usageErr
	var le *loginErr
	var se *api.ScopeError
	var ae *api.Error
	var md *api.MaybeDeletedError
	switch {
	case errors.As(err, &ue):
		e.message = ue.msg
		cmd := f.cmd
		if cmd == "help" { // 'auth0me help frob': the list of commands is the help
			cmd = ""
		}
		if ue.kind != "declined" {
			e.hint = "see 'auth0me " + strings.TrimSpace(cmd+" --help") + "'"
		}
	case errors.As(err, &le):
		e.message = le.msg
		if le.err != nil {
			e.message += ": " + unprefix(describe(le.err))
		}
		e.hint = le.hint
	case errors.As(err, &se):
		what := f.cmd
		if what == "" {
			what = "this call"
		}
		has := "has no scopes"
		if len(se.Granted) > 0 {
			has = "has " + strings.Join(se.Granted, " ")
		}
		e.scope, e.need, e.granted = true, slices.Clone(se.AnyOf), slices.Clone(se.Granted)
		e.message = fmt.Sprintf("%s needs %s; this token %s", what, strings.Join(se.AnyOf, " or "), has)
		if len(se.AnyOf) > 0 {
			e.hint = "Sign in again with: auth0me login --scope " + se.AnyOf[0]
		}
	case kind == "refused":
		e.message = "refused before sending: " + e.message
	case kind == "token":
		e.message = "unusable token, nothing was sent: " + e.message
		e.hint = "sign in again with 'auth0me login', or pass a fresh --token"
	case errors.As(err, &md):
		// Not Auth0's 404 alone: the lost first answer may have been the
		// deletion.
		e.status, e.code = md.Err.StatusCode, md.Err.Code
		e.message = unprefix(oneLine(md.Error()))
	case errors.As(err, &ae):
		e.status, e.code = ae.StatusCode, ae.Code
		e.message = "Auth0 answered " + e.message
		if f.json && ae.Message != "" {
			e.message = ae.Message // status and code are fields of their own
		}
	}
	return e
}

// argError turns api's refusal of an argument into an error that names the
// command's flag or argument for it (names maps api's field names, compared
// without case, spaces or underscores); other errors pass through.
func argError(err error, names map[string]string) error {
	var ve *api.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	key := func(s string) string { return strings.ToLower(strings.NewReplacer(" ", "", "_", "").Replace(s)) }
	for field, name := range names {
		if key(field) == key(ve.Field) {
			return &usageErr{msg: "invalid " + name + ": " + ve.Reason, kind: "invalid_argument"}
		}
	}
	return err
}

// unprefix drops the "api: OPERATION: " and "scopeguard: " prefixes the
// libraries' errors start with: the command speaks with one prefix,
// "auth0me:", and names commands, not operation ids.
func unprefix(s string) string {
	for {
		switch {
		case strings.HasPrefix(s, "scopeguard: "):
			s = strings.TrimPrefix(s, "scopeguard: ")
		case strings.HasPrefix(s, "api: "):
			s = strings.TrimPrefix(s, "api: ")
			for _, op := range gen.Operations {
				s = strings.TrimPrefix(s, op.ID+": ")
			}
		default:
			return s
		}
	}
}

// fail prints err (one line, or one JSON object with --json) on stderr and
// returns its exit status.
func (f *factory) fail(err error, interrupted int) int {
	if code, ok := isReported(err); ok && interrupted == 0 {
		return code
	}
	e := f.explain(err, interrupted)
	if f.json {
		m := map[string]any{"kind": e.kind, "exit": e.exit, "message": e.message}
		if e.hint != "" {
			m["hint"] = e.hint
		}
		if e.scope {
			m["need"], m["granted"] = nonNil(e.need), nonNil(e.granted)
		}
		if e.status != 0 {
			m["status"] = e.status
		}
		if e.code != "" {
			m["code"] = e.code
		}
		b, _ := json.Marshal(map[string]any{"error": m})
		fmt.Fprintln(f.errw, string(b))
		return e.exit
	}
	msg := e.message
	switch {
	case e.scope:
		msg += ". " + e.hint
	case e.hint != "":
		msg += " (" + e.hint + ")"
	}
	if msg = oneLine(msg); msg != "" {
		msg = " " + msg
	}
	fmt.Fprintln(f.errw, f.errColor.red("auth0me:")+msg)
	return e.exit
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
