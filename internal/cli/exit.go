package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/scopeguard"
)

// Exit statuses of Run.
const (
	ExitOK      = 0 // success
	ExitAPI     = 1 // the Management API answered with an error, or could not be reached
	ExitUsage   = 2 // bad command line or argument, refused before anything was sent
	ExitRefused = 3 // refused by the scope guard: the token does not allow the call
	ExitLogin   = 4 // not signed in, sign-in failed, or the token is unusable (expired, malformed, refresh failed)
)

// usageErr is a command-line problem.
type usageErr struct{ msg string }

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
	case errors.As(err, &ue):
		return ExitUsage, "usage"
	case errors.As(err, &le):
		return ExitLogin, "login"
	case errors.Is(err, scopeguard.ErrTokenSource),
		errors.Is(err, scopeguard.ErrMalformedToken),
		errors.Is(err, scopeguard.ErrTokenExpired),
		errors.Is(err, scopeguard.ErrAdminToken),
		errors.Is(err, scopeguard.ErrAudience):
		return ExitLogin, "token"
	case errors.Is(err, scopeguard.ErrInsufficientScope),
		errors.Is(err, scopeguard.ErrSubjectMismatch),
		errors.Is(err, scopeguard.ErrInvalidParameter),
		errors.Is(err, scopeguard.ErrUnknownOperation),
		errors.Is(err, scopeguard.ErrForeignHost),
		errors.Is(err, scopeguard.ErrInsecureURL),
		errors.Is(err, scopeguard.ErrBaseURL),
		errors.Is(err, scopeguard.ErrOption):
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

// fail prints err (one line, or one JSON object with --json) on stderr and
// returns its exit status.
func (f *factory) fail(err error) int {
	if code, ok := isReported(err); ok {
		return code
	}
	code, kind := classify(err)
	msg := describe(err)
	if f.json {
		e := map[string]any{"kind": kind, "exit": code, "message": msg}
		var ae *api.Error
		if errors.As(err, &ae) {
			e["status"] = ae.StatusCode
			if ae.Code != "" {
				e["code"] = ae.Code
			}
			if ae.Message != "" {
				e["message"] = ae.Message
			}
		}
		b, _ := json.Marshal(map[string]any{"error": e})
		fmt.Fprintln(f.errw, string(b))
		return code
	}
	prefix := "auth0me: "
	suffix := ""
	switch kind {
	case "usage":
		suffix = " (see 'auth0me " + strings.TrimSpace(f.cmd+" --help") + "')"
	case "refused":
		prefix += "refused by the guard, nothing was sent: "
	case "token":
		prefix += "unusable token, nothing was sent: "
	case "api":
		var ae *api.Error
		if errors.As(err, &ae) {
			prefix += "Auth0 answered "
		}
	}
	fmt.Fprintln(f.errw, prefix+msg+suffix)
	return code
}

// redactSecret replaces every occurrence of secret in s.
func redactSecret(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
