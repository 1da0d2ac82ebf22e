package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/scopeguard"
)

type statusOptions struct {
	f       *factory
	Refresh bool
}

func newCmdStatus(f *factory, runF func(context.Context, *statusOptions) error) *cobra.Command {
	o := &statusOptions{f: f}
	cmd := &cobra.Command{
		Use:     "status",
		Aliases: []string{"token"},
		Short:   "Show the token's subject, scopes, expiry, audience, whether it is usable now, and which of the seven operations it allows",
		Long: `Show the token's subject, scopes, expiry and audience, whether it is usable
now, and which of the seven operations it allows. The claims and operations are
shown even when the token has expired or cannot be refreshed.

status exits 0 only when the token is usable now; otherwise it exits 4 and says
why on standard error. It refreshes an expired token only with --refresh.`,
		Example: `auth0me status
auth0me status --refresh
auth0me status --token - < token.jwt
AUTH0_TOKEN=$(cat token.jwt) auth0me status --json | jq .operations`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(runF, runStatus)(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Refresh, "refresh", false, "refresh an expired token first, through the token file's refresh token, as API commands do")
	return cmd
}

// statusReport is the status command's JSON.
type statusReport struct {
	Tenant      string      `json:"tenant"`
	Subject     string      `json:"subject"`
	Issuer      string      `json:"issuer"`
	Audience    []string    `json:"audience"`
	Client      string      `json:"authorized_party,omitempty"`
	Scopes      []string    `json:"scopes"`
	IssuedAt    time.Time   `json:"issued_at,omitzero"`
	ExpiresAt   time.Time   `json:"expires_at,omitzero"`
	Expired     bool        `json:"expired"`
	Source      string      `json:"source"`
	Refreshable bool        `json:"refreshable"` // a refresh token is at hand
	Refreshed   bool        `json:"refreshed"`   // --refresh got a new token
	Usable      bool        `json:"usable"`
	Problem     string      `json:"problem,omitempty"` // why it is not usable now
	Operations  []opAllowed `json:"operations"`
}

type opAllowed struct {
	ID      string   `json:"id"`
	Method  string   `json:"method"`
	Path    string   `json:"path"`
	AnyOf   []string `json:"scopes_any_of"`
	Allowed bool     `json:"allowed"`
}

func runStatus(ctx context.Context, o *statusOptions) error {
	f := o.f
	sess, err := f.session(ctx)
	if err != nil {
		return err
	}
	// The token as it is, without refreshing: the file's entry, or the
	// static --token / $AUTH0_TOKEN.
	var tok *oauth2.Token
	if sess.entry != nil {
		tok = sess.entry.token()
	} else if tok, err = sess.ts.Token(); err != nil {
		return err
	}
	var refreshErr error
	refreshed := false
	if o.Refresh && sess.entry != nil && !tok.Valid() {
		if t, err := sess.ts.Token(); err != nil {
			refreshErr = err
		} else {
			tok, refreshed = t, true
		}
	}
	claims, err := scopeguard.ParseClaims(tok.AccessToken)
	if err != nil {
		return &loginErr{msg: "the token from " + sess.source + " is not a readable JWT", err: err}
	}
	now := time.Now()
	rep := statusReport{
		Tenant:      sess.ta.domain,
		Subject:     claims.Subject,
		Issuer:      claims.Issuer,
		Audience:    claims.Audience,
		Client:      claims.AuthorizedParty,
		Scopes:      claims.Scopes,
		IssuedAt:    claims.IssuedAt.UTC(),
		ExpiresAt:   claims.Expiry.UTC(),
		Expired:     !claims.Expiry.IsZero() && !now.Before(claims.Expiry),
		Source:      sess.source,
		Refreshable: sess.entry != nil && sess.entry.RefreshToken != "",
		Refreshed:   refreshed,
	}
	if rep.Scopes == nil {
		rep.Scopes = []string{}
	}
	for _, op := range operations() {
		rep.Operations = append(rep.Operations, opAllowed{ID: op.ID, Method: op.Method, Path: op.Path, AnyOf: op.Scopes, Allowed: claims.Allows(op)})
	}
	switch {
	case claims.IsClientCredentials():
		rep.Problem = "it is a client-credentials (admin) token, not a user's; the guard refuses it"
	case !claims.HasAudience(sess.ta.audience()):
		rep.Problem = "it is not for " + sess.ta.audience() + ", the Management API of " + sess.ta.domain
	case rep.Expired:
		rep.Problem = "it expired " + humanDuration(now.Sub(claims.Expiry)) + " ago"
		switch {
		case refreshErr != nil:
			rep.Problem += "; refreshing it failed: " + describe(refreshErr)
		case sess.entry == nil:
			rep.Problem += "; a token from " + sess.source + " cannot be refreshed"
		case !rep.Refreshable:
			rep.Problem += "; there is no refresh token"
		default:
			rep.Problem += "; 'auth0me status --refresh' (or any API command) refreshes it"
		}
	}
	rep.Usable = rep.Problem == ""
	if f.json {
		err = f.printJSON(rep)
	} else {
		err = printStatus(f.out, &rep, claims)
	}
	if err != nil {
		return err
	}
	if !rep.Usable {
		le := &loginErr{msg: "the token is not usable now: " + rep.Problem}
		if refreshErr != nil || !rep.Refreshable {
			le.hint = "run 'auth0me login' again"
		}
		return le
	}
	return nil
}

func printStatus(w io.Writer, rep *statusReport, claims *scopeguard.Claims) error {
	var b strings.Builder
	exp := fmtTime(rep.ExpiresAt)
	switch {
	case rep.ExpiresAt.IsZero():
		exp = "- (no exp claim)"
	case rep.Expired:
		exp += " (expired)"
	default:
		exp += " (in " + humanDuration(time.Until(rep.ExpiresAt)) + ")"
	}
	refresh := "none"
	switch {
	case rep.Refreshed:
		refresh = "refreshed now"
	case rep.Refreshable:
		refresh = "a refresh token is in the token file"
	}
	usable := "yes"
	if !rep.Usable {
		usable = "no: " + rep.Problem
	}
	rows := [][]string{
		{"Tenant", rep.Tenant},
		{"Subject", rep.Subject},
		{"Issuer", rep.Issuer},
	}
	rows = append(rows, listRows("Audience", rep.Audience)...)
	rows = append(rows, []string{"Client (azp)", rep.Client})
	rows = append(rows, listRows("Scopes", rep.Scopes)...)
	table(&b, append(rows, [][]string{
		{"Issued", fmtTime(rep.IssuedAt)},
		{"Expires", exp},
		{"Source", rep.Source},
		{"Refresh", refresh},
		{"Usable now", usable},
	}...))
	b.WriteString("\nOperations:\n")
	rows = nil
	for _, op := range rep.Operations {
		verdict, why := "allowed", "with "+strings.Join(grantedOf(op.AnyOf, claims), " ")
		if !op.Allowed {
			verdict, why = "refused", "needs "+strings.Join(op.AnyOf, " or ")
		}
		rows = append(rows, []string{"  " + verdict, op.Method, op.Path, why})
	}
	table(&b, rows)
	_, err := io.WriteString(w, b.String())
	return err
}

// listRows puts one value a line under label; "(none)" for no value.
func listRows(label string, values []string) [][]string {
	if len(values) == 0 {
		return [][]string{{label, "(none)"}}
	}
	rows := make([][]string, len(values))
	for i, v := range values {
		rows[i] = []string{"", v}
	}
	rows[0][0] = label
	return rows
}

func grantedOf(anyOf []string, c *scopeguard.Claims) []string {
	var out []string
	for _, s := range anyOf {
		if c.HasScope(s) {
			out = append(out, s)
		}
	}
	return out
}

// humanDuration renders d, truncated, the way people read it: "40s",
// "5m3s", "23h59m", "3d4h".
func humanDuration(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}
