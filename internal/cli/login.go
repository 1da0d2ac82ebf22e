package cli

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/internal/bearer"
	"github.com/auth0me/auth0me/scopeguard"
	"github.com/cli/browser"
	"github.com/spf13/cobra"
)

type loginOptions struct {
	f         *factory
	ClientID  string
	Scopes    []string
	Device    bool
	Port      int
	Timeout   time.Duration
	NoBrowser bool
}

func newCmdLogin(f *factory, runF func(context.Context, *loginOptions) error) *cobra.Command {
	o := &loginOptions{f: f}
	cmd := &cobra.Command{
		Use:   "login --domain DOMAIN --client-id CLIENT_ID [--device]",
		Short: "Sign in as a user (PKCE in a browser, or --device) and keep the token",
		Long: `Sign in as a user and keep the token in the token file, as the entry of the
tenant, which becomes the default one.

By default login opens the browser at the tenant's sign-in page (Authorization
Code with PKCE, the callback on a loopback port) and prints the page's URL, to
open by hand when no browser opens; --no-browser only prints it. --device uses
the device flow instead: enter the printed code on another device.`,
		Example: `auth0me login --domain tenant.eu.auth0.com --client-id abc123
# with the allowed callback http://127.0.0.1:8484/callback:
auth0me login --domain tenant.eu.auth0.com --client-id abc123 --port 8484
AUTH0_DOMAIN=tenant.eu.auth0.com auth0me login --device --client-id abc123 \
    --scope read:current_user
AUTH0_DOMAIN=tenant.eu.auth0.com AUTH0_CLIENT_ID=abc123 auth0me login
auth0me login --domain tenant.eu.auth0.com --client-id abc123 --no-browser`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(runF, runLogin)(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.ClientID, "client-id", "", "the Native application's `CLIENT_ID` (default $AUTH0_CLIENT_ID)")
	fl.StringArrayVar(&o.Scopes, "scope", nil, "current-user `SCOPES` to ask for, space- or comma-separated, repeatable (default: all six); openid and offline_access are always added")
	fl.BoolVar(&o.Device, "device", false, "use the device authorization flow: enter a code on another device instead of a local browser")
	fl.IntVar(&o.Port, "port", 0, "loopback `PORT` of the callback http://127.0.0.1:PORT/callback (default: any free port); the application's Allowed Callback URLs must list it")
	fl.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long to wait for the browser sign-in")
	fl.BoolVar(&o.NoBrowser, "no-browser", false, "do not open a browser; only print the URL to open")
	return cmd
}

type logoutOptions struct{ f *factory }

func newCmdLogout(f *factory, runF func(context.Context, *logoutOptions) error) *cobra.Command {
	return newNoArgsCmd(&logoutOptions{f: f}, "logout", "Revoke the refresh token and delete the tenant's entry from the token file",
		"auth0me logout\nauth0me logout --domain tenant.eu.auth0.com", runF, runLogout)
}

// loginResult is what login reports.
type loginResult struct {
	Domain      string    `json:"domain"`
	Subject     string    `json:"subject"`
	Scopes      []string  `json:"scopes"`
	NotGranted  []string  `json:"not_granted,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Refreshable bool      `json:"refreshable"`
	TokenFile   string    `json:"token_file"`
}

func runLogin(ctx context.Context, o *loginOptions) error {
	f := o.f
	ta, ok, err := f.resolveTenant("", "")
	if err != nil {
		return err
	}
	if !ok {
		return usagef("login needs --domain (or $AUTH0_DOMAIN)")
	}
	clientID := o.ClientID
	if clientID == "" {
		clientID = f.env.Getenv("AUTH0_CLIENT_ID")
	}
	if clientID == "" {
		return usagef("login needs --client-id (or $AUTH0_CLIENT_ID): the client id of a Native application")
	}
	if o.Port < 0 || o.Port > 65535 {
		return usagef("--port %d is not a port number", o.Port)
	}
	if o.Timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	cfg := oauthConfig(ta, clientID, loginScopes(o.Scopes))
	var tok *oauth2.Token
	if o.Device {
		tok, err = f.deviceLogin(ctx, ta, cfg)
	} else {
		browse := f.env.Browse
		if o.NoBrowser {
			browse = nil
		}
		tok, err = f.pkceLogin(ctx, ta, cfg, o.Port, o.Timeout, browse, f.errw)
	}
	if err != nil {
		return err
	}
	res, err := f.saveLogin(ctx, ta, cfg, tok)
	if err != nil {
		return err
	}
	return f.printLogin(res)
}

func oauthConfig(ta tenantAddr, clientID string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       ta.authURL(),
			TokenURL:      ta.tokenURL(),
			DeviceAuthURL: ta.deviceURL(),
			// A Native application has no secret: client_id goes in the form.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		Scopes: scopes,
	}
}

// oauthContext makes x/oauth2 use the Env's HTTP client.
func (f *factory) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, f.env.HTTPClient)
}

// saveLogin checks the token and writes the token file.
func (f *factory) saveLogin(ctx context.Context, ta tenantAddr, cfg *oauth2.Config, tok *oauth2.Token) (*loginResult, error) {
	claims, err := scopeguard.ParseClaims(tok.AccessToken)
	if err != nil {
		return nil, &loginErr{msg: "the access token Auth0 returned is not a readable JWT", hint: "is the Management API audience enabled for this application?", err: err}
	}
	if claims.Subject == "" || claims.IsClientCredentials() {
		return nil, &loginErr{msg: "the access token Auth0 returned has no user subject"}
	}
	if !claims.HasAudience(ta.audience()) {
		return nil, &loginErr{msg: fmt.Sprintf("the access token Auth0 returned is not for the audience %s", ta.audience())}
	}
	expiry := tok.Expiry
	if expiry.IsZero() {
		expiry = claims.Expiry
	}
	st := &storedToken{
		Domain:       ta.domain,
		ClientID:     cfg.ClientID,
		BaseURL:      ta.customRoot(),
		Scopes:       cfg.Scopes,
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.Type(),
		Expiry:       expiry,
	}
	s, err := f.store()
	if err != nil {
		return nil, err
	}
	if err := s.save(ctx, st); err != nil {
		return nil, &loginErr{msg: "cannot write the token file", err: err}
	}
	res := &loginResult{
		Domain:      ta.domain,
		Subject:     claims.Subject,
		Scopes:      claims.Scopes,
		ExpiresAt:   expiry.UTC(),
		Refreshable: tok.RefreshToken != "",
		TokenFile:   s.path,
	}
	for _, want := range cfg.Scopes {
		if want != "openid" && want != "offline_access" && !claims.HasScope(want) {
			res.NotGranted = append(res.NotGranted, want)
		}
	}
	return res, nil
}

func (f *factory) printLogin(res *loginResult) error {
	if f.json {
		return f.printJSON(res)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Signed in to %s as %s.\n", res.Domain, res.Subject)
	fmt.Fprintf(&b, "Scopes: %s\n", strings.Join(res.Scopes, " "))
	if len(res.NotGranted) > 0 {
		fmt.Fprintf(&b, "Not granted: %s\n", strings.Join(res.NotGranted, " "))
	}
	refresh := "no refresh token: sign in again when it expires"
	if res.Refreshable {
		refresh = "refreshed automatically"
	}
	fmt.Fprintf(&b, "Token saved to %s (expires %s; %s).\n", res.TokenFile, fmtTime(res.ExpiresAt), refresh)
	_, err := fmt.Fprint(f.out, b.String())
	return err
}

// openBrowser opens url in the user's browser, through
// github.com/cli/browser (gh's own: xdg-open and its kin, open, or
// rundll32), discarding what the opener prints.
func openBrowser(_ context.Context, url string) error {
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	return browser.OpenURL(url)
}

// logoutResult is what logout reports.
type logoutResult struct {
	Domain    string `json:"domain,omitempty"`
	TokenFile string `json:"token_file"`
	Removed   bool   `json:"removed"`
	Revoked   bool   `json:"revoked"`
	// RevokeError says why the refresh token could not be revoked; the
	// entry is deleted all the same.
	RevokeError string `json:"revoke_error,omitempty"`
}

func runLogout(ctx context.Context, o *logoutOptions) error {
	f := o.f
	s, err := f.store()
	if err != nil {
		return err
	}
	domain, err := f.selectedDomain()
	if err != nil {
		return err
	}
	res := logoutResult{Domain: domain, TokenFile: s.path}
	var revokeErr error
	err = s.update(ctx, func(tf *tokenFile) (bool, error) {
		st, ok := tf.entry(domain)
		if !ok {
			return false, nil
		}
		res.Domain = st.Domain
		if st.RefreshToken != "" {
			revokeErr = f.revoke(ctx, st)
			res.Revoked = revokeErr == nil
		}
		tf.remove(st.Domain)
		res.Removed = true
		return true, nil
	})
	if err != nil {
		return &loginErr{msg: "cannot update the token file", err: err}
	}
	if revokeErr != nil {
		res.RevokeError = describe(revokeErr)
	}
	if f.json {
		if err := f.printJSON(res); err != nil {
			return err
		}
	} else {
		switch {
		case !res.Removed && domain != "":
			fmt.Fprintf(f.out, "Not signed in to %s: %s holds no entry for it.\n", domain, s.path)
		case !res.Removed:
			fmt.Fprintf(f.out, "Not signed in: %s holds no entry.\n", s.path)
		case res.Revoked:
			fmt.Fprintf(f.out, "Signed out of %s: revoked the refresh token; deleted the entry from %s.\n", res.Domain, s.path)
		default:
			fmt.Fprintf(f.out, "Signed out of %s: deleted the entry from %s.\n", res.Domain, s.path)
		}
	}
	if revokeErr != nil {
		// The entry is gone all the same; the failure is reported (exit 1).
		return fmt.Errorf("could not revoke the refresh token at %s (%s); it stays valid at Auth0 until it expires", res.Domain, res.RevokeError)
	}
	return nil
}

// revoke revokes st's refresh token at the tenant that issued it
// (POST /oauth/revoke). Auth0 answers 200 also for a token it does not
// know; an error is an answer other than 200, or no answer.
func (f *factory) revoke(ctx context.Context, st *storedToken) error {
	form := url.Values{"client_id": {st.ClientID}, "token": {st.RefreshToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.issuer().revokeURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.env.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	json.Unmarshal(body, &oe)
	msg := fmt.Sprintf("revocation endpoint answered %d", resp.StatusCode)
	if oe.Error != "" {
		msg += " " + oe.Error
	}
	if oe.Description != "" {
		msg += ": " + oe.Description
	}
	return errors.New(bearer.Redact(oneLine(msg), st.RefreshToken))
}

// callback is what the loopback redirect brought back.
type callback struct {
	code string
	err  error
}

// pkceLogin runs the Authorization Code flow with PKCE (S256) through a
// loopback redirect. It prints the authorization URL on announce, then
// browse opens it (nil: the user opens the printed URL); a browser that
// cannot be opened is reported, and the URL still works. It is also the
// sign-in of the demo, which announces nothing (announce nil) and whose
// browse must succeed.
func (f *factory) pkceLogin(ctx context.Context, ta tenantAddr, cfg *oauth2.Config, port int, timeout time.Duration, browse func(context.Context, string) error, announce io.Writer) (*oauth2.Token, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, &loginErr{msg: "cannot listen for the sign-in callback on 127.0.0.1", err: err}
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	c := *cfg
	c.RedirectURL = redirect

	state, err := randomState()
	if err != nil {
		ln.Close()
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()

	results := make(chan callback, 1)
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, req *http.Request) {
		res := readCallback(req, state)
		delivered := false
		once.Do(func() { results <- res; delivered = true })
		switch {
		case !delivered:
			http.Error(w, "This sign-in has already finished; you can close this window.", http.StatusConflict)
		case res.err != nil:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>auth0me</title><p>Sign-in failed: %s</p>", html.EscapeString(res.err.Error()))
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!doctype html><title>auth0me</title><p>Signed in. You can close this window and return to the terminal.</p>")
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { srv.Serve(ln); close(served) }()
	defer func() { srv.Close(); <-served }()

	authURL := c.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("audience", ta.audience()),
	)
	switch {
	case announce == nil: // the demo: its browser is a function
		if err := browse(ctx, authURL); err != nil {
			return nil, &loginErr{msg: "cannot open the sign-in page", err: err}
		}
	case browse == nil:
		fmt.Fprintf(announce, "Open this URL in a browser to sign in:\n\n  %s\n\nWaiting for the browser to come back to %s ...\n", authURL, redirect)
	default:
		fmt.Fprintf(announce, "Opening the browser to sign in. If it does not open, open this URL:\n\n  %s\n\n", authURL)
		if err := browse(ctx, authURL); err != nil {
			fmt.Fprintf(announce, "auth0me: could not open a browser (%s); open the URL above.\n", oneLine(err.Error()))
		}
		fmt.Fprintf(announce, "Waiting for the browser to come back to %s ...\n", redirect)
	}

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var cb callback
	select {
	case cb = <-results:
	case <-timer.C:
		return nil, &loginErr{msg: fmt.Sprintf("no sign-in came back within %v", timeout), hint: "run login again, or use --device"}
	case <-ctx.Done():
		return nil, &loginErr{msg: "sign-in interrupted", err: ctx.Err()}
	}
	if cb.err != nil {
		return nil, &loginErr{msg: "sign-in failed", err: cb.err}
	}
	tok, err := c.Exchange(f.oauthContext(ctx), cb.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, &loginErr{msg: "cannot exchange the authorization code for a token", err: err}
	}
	return tok, nil
}

// readCallback checks the state and reads the code or the error of a
// redirect to the callback.
func readCallback(req *http.Request, state string) callback {
	q := req.URL.Query()
	got := q.Get("state")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1 {
		return callback{err: errors.New("the callback's state does not match this sign-in (a forged or stale redirect)")}
	}
	if e := q.Get("error"); e != "" {
		msg := "the authorization server answered " + oneLine(e)
		if d := q.Get("error_description"); d != "" {
			msg += ": " + oneLine(d)
		}
		return callback{err: errors.New(msg)}
	}
	code := q.Get("code")
	if code == "" {
		return callback{err: errors.New("the callback carries no authorization code")}
	}
	return callback{code: code}
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", &loginErr{msg: "cannot make a random state", err: err}
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// deviceLogin runs the device authorization flow.
func (f *factory) deviceLogin(ctx context.Context, ta tenantAddr, cfg *oauth2.Config) (*oauth2.Token, error) {
	octx := f.oauthContext(ctx)
	da, err := cfg.DeviceAuth(octx, oauth2.SetAuthURLParam("audience", ta.audience()))
	if err != nil {
		le := &loginErr{msg: "cannot start the device sign-in", err: err}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "unauthorized_client" || re.ErrorCode == "invalid_client") {
			le.hint = "the application must be Native, with the Device Code grant enabled"
		}
		return nil, le
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, &loginErr{msg: "the device authorization answer lacks a device code, user code or verification URI"}
	}
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	fmt.Fprintf(f.errw, "To sign in, open %s and enter the code:\n\n  %s\n\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(f.errw, "Or open %s\n\n", da.VerificationURIComplete)
	}

	sp := newSpinner(f.errw, f.env.Interactive, da.Expiry, interval)
	// Watch the polls for slow_down (429) to tell the user the interval grew,
	// as x/oauth2 does (RFC 8628 §3.5: +5 seconds).
	base := f.env.HTTPClient
	watch := *base
	watch.Transport = &pollWatcher{base: base.Transport, tokenURL: cfg.Endpoint.TokenURL, slowDown: sp.slowDown}
	pctx := context.WithValue(ctx, oauth2.HTTPClient, &watch)

	sp.start()
	tok, err := cfg.DeviceAccessToken(pctx, da)
	sp.stop()
	if err == nil {
		fmt.Fprintln(f.errw, "Approved.")
		return tok, nil
	}
	var re *oauth2.RetrieveError
	again := "run 'auth0me login --device' again"
	switch {
	case errors.As(err, &re) && re.ErrorCode == "access_denied":
		return nil, &loginErr{msg: "the sign-in was denied on the other device"}
	case errors.As(err, &re) && re.ErrorCode == "expired_token":
		return nil, &loginErr{msg: "the code expired before the sign-in was approved", hint: again}
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		return nil, &loginErr{msg: "the device code is no longer valid", hint: again, err: err}
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// x/oauth2 stops polling at the code's expiry.
		return nil, &loginErr{msg: "the code expired before the sign-in was approved", hint: again}
	case ctx.Err() != nil:
		return nil, &loginErr{msg: "sign-in interrupted", err: ctx.Err()}
	}
	return nil, &loginErr{msg: "device sign-in failed", err: err}
}

// pollWatcher reports token-endpoint answers of 429 (slow_down).
type pollWatcher struct {
	base     http.RoundTripper
	tokenURL string
	slowDown func()
}

func (p *pollWatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	base := p.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests && req.URL.String() == p.tokenURL {
		p.slowDown()
	}
	return resp, err
}

// spinner shows, while the device flow polls, how long the code has left:
// a redrawn line on a terminal, otherwise one line per event.
type spinner struct {
	w           io.Writer
	interactive bool
	expiry      time.Time

	mu       sync.Mutex
	interval time.Duration
	done     chan struct{}
	stopped  chan struct{}
}

func newSpinner(w io.Writer, interactive bool, expiry time.Time, interval time.Duration) *spinner {
	return &spinner{w: w, interactive: interactive, expiry: expiry, interval: interval, done: make(chan struct{}), stopped: make(chan struct{})}
}

func (s *spinner) left() time.Duration {
	if s.expiry.IsZero() {
		return 0
	}
	return max(time.Until(s.expiry).Round(time.Second), 0)
}

func (s *spinner) slowDown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interval += 5 * time.Second
	if !s.interactive {
		fmt.Fprintf(s.w, "The server asked to slow down; polling every %v.\n", s.interval)
	}
}

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (s *spinner) start() {
	if !s.interactive {
		msg := "Waiting for approval"
		if l := s.left(); l > 0 {
			msg += fmt.Sprintf(" (the code expires in %v)", l)
		}
		fmt.Fprintln(s.w, msg+" ...")
		close(s.stopped)
		return
	}
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			s.mu.Lock()
			l := s.left()
			fmt.Fprintf(s.w, "\r%s Waiting for approval: %d:%02d left, polling every %v ", spinFrames[i%len(spinFrames)], int(l.Minutes()), int(l.Seconds())%60, s.interval)
			s.mu.Unlock()
			select {
			case <-s.done:
				fmt.Fprint(s.w, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
}

func (s *spinner) stop() {
	close(s.done)
	<-s.stopped
}
