package apitest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/auth0me/auth0me/internal/bearer"
)

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// currentUserScopes are the Management API scopes a user-facing login may
// grant; any other requested API scope is silently dropped, as Auth0 does
// for public clients.
var currentUserScopes = []string{
	"read:current_user",
	"update:current_user_identities",
	"update:current_user_metadata",
	"create:current_user_metadata",
	"create:current_user_device_credentials",
	"delete:current_user_device_credentials",
}

// oidcScopes are kept for the login itself but never put in the access
// token's scope claim.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// codeTTL is how long an authorization code may be exchanged.
const codeTTL = 10 * time.Minute

// WithLoginUser makes sub the user who is signed in at /authorize and
// approves every authorization request, except one whose login_hint names
// another user of the tenant, who signs in for it. Without it /authorize
// answers login_required.
func WithLoginUser(sub string) Option {
	return func(c *config) error { c.loginUser = sub; return nil }
}

// WithTokenLifetimes sets the lifetime of access tokens (default 24h, for
// AccessToken too) and refresh tokens (default 30 days) the tenant issues.
func WithTokenLifetimes(access, refresh time.Duration) Option {
	return func(c *config) error {
		if access <= 0 || refresh <= 0 {
			return errors.New("apitest: token lifetimes must be positive")
		}
		c.atTTL, c.rtTTL = access, refresh
		return nil
	}
}

// WithDeviceCodeTiming sets how long a device code lives (default 15
// minutes) and the polling interval the tenant announces and enforces
// (default 5s, whole seconds).
func WithDeviceCodeTiming(expiresIn, interval time.Duration) Option {
	return func(c *config) error {
		if expiresIn < time.Second || interval < time.Second {
			return errors.New("apitest: device code lifetime and interval must be at least 1s")
		}
		c.deviceTTL, c.interval = expiresIn, interval.Truncate(time.Second)
		return nil
	}
}

// SetLoginUser changes the user signed in at /authorize; "" signs out.
func (t *Tenant) SetLoginUser(sub string) {
	t.mu.Lock()
	t.login.user = sub
	t.mu.Unlock()
}

// SetTokenLifetimes changes the lifetimes of tokens issued from now on.
func (t *Tenant) SetTokenLifetimes(access, refresh time.Duration) {
	t.mu.Lock()
	if access > 0 {
		t.cfg.atTTL = access
	}
	if refresh > 0 {
		t.cfg.rtTTL = refresh
	}
	t.mu.Unlock()
}

// ErrUnknownUserCode is returned by ApproveDevice and DenyDevice for a user
// code the tenant did not issue or that is no longer pending.
var ErrUnknownUserCode = errors.New("apitest: unknown or settled user code")

// ApproveDevice approves the device authorization with userCode on behalf
// of sub; the next poll gets tokens.
func (t *Tenant) ApproveDevice(userCode, sub string) error {
	return t.settleDevice(userCode, sub, deviceApproved)
}

// DenyDevice denies the device authorization with userCode; the next poll
// gets access_denied.
func (t *Tenant) DenyDevice(userCode string) error {
	return t.settleDevice(userCode, "", deviceDenied)
}

func (t *Tenant) settleDevice(userCode, sub string, st deviceStatus) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.login.byUserCode[strings.ToUpper(userCode)]
	if !ok || d.status != devicePending || !t.now().Before(d.expires) {
		return fmt.Errorf("%w: %q", ErrUnknownUserCode, userCode)
	}
	d.status, d.sub = st, sub
	return nil
}

// PendingUserCodes returns the user codes of device authorizations that
// wait for approval, oldest first.
func (t *Tenant) PendingUserCodes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ds []*deviceAuth
	for _, d := range t.login.byUserCode {
		if d.status == devicePending && t.now().Before(d.expires) {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b *deviceAuth) int { return a.issued.Compare(b.issued) })
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.userCode
	}
	return out
}

type loginState struct {
	user       string
	codes      map[string]*authCode
	refresh    map[string]*refreshGrant
	devices    map[string]*deviceAuth // by device_code
	byUserCode map[string]*deviceAuth
}

func (l *loginState) init(user string) {
	l.user = user
	l.codes = map[string]*authCode{}
	l.refresh = map[string]*refreshGrant{}
	l.devices = map[string]*deviceAuth{}
	l.byUserCode = map[string]*deviceAuth{}
}

// grant is what a login produced: who, for which scopes.
type grant struct {
	sub      string
	scopes   []string // requested scopes, filtered: OIDC ones plus current-user ones
	audience string
	nonce    string
}

type authCode struct {
	grant
	redirectURI string
	challenge   string
	expires     time.Time
}

type refreshGrant struct {
	grant
	family  string
	expires time.Time
	used    bool
}

type deviceStatus int

const (
	devicePending deviceStatus = iota
	deviceApproved
	deviceDenied
	deviceExpiredReported
	deviceDone
)

type deviceAuth struct {
	grant
	deviceCode, userCode string
	issued, expires      time.Time
	interval             time.Duration
	lastPoll             time.Time
	status               deviceStatus
}

// filterScopes keeps the OIDC scopes and the current-user Management API
// scopes of a space-separated request, in request order, without repeats.
func filterScopes(requested string) []string {
	var out []string
	for _, s := range bearer.SplitScopes(requested) {
		if (slices.Contains(oidcScopes, s) || slices.Contains(currentUserScopes, s)) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// apiScopes are the scopes that go into the access token.
func apiScopes(scopes []string) []string {
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return slices.Contains(oidcScopes, s) })
}

// oauthError is the Authentication API's error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

// serveAuthorize answers GET /authorize: errors that cannot be trusted to a
// redirect as 400 JSON, the others as OAuth error redirects, and success as
// a 302 with code and state; with response_mode=web_message (or
// form_post), errors and success are posted by an HTML page instead of
// redirected.
func (t *Tenant) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed")
		return
	}
	q := r.URL.Query()
	switch cid := q.Get("client_id"); {
	case cid == "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: client_id")
		return
	case cid != t.clientID:
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Unknown client: "+cid)
		return
	}
	redirectURI := q.Get("redirect_uri")
	cb, err := url.Parse(redirectURI)
	if redirectURI == "" || err != nil || (cb.Scheme != "http" && cb.Scheme != "https") || cb.Host == "" || cb.Fragment != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing or invalid parameter: redirect_uri")
		return
	}
	webMessage, fragment, formPost := false, false, false
	switch rm := q.Get("response_mode"); rm {
	case "", "query":
	case "fragment":
		fragment = true
	case "form_post":
		formPost = true
	case "web_message":
		// The answer is posted to the redirect URI's origin, which must
		// be an allowed web origin.
		if !t.originAllowed(urlOrigin(cb)) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The specified redirect_uri '"+redirectURI+"' does not have a registered origin.")
			return
		}
		webMessage = true
	default:
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Unsupported response_mode: "+rm)
		return
	}
	state := q.Get("state")
	redirect := func(v url.Values) {
		if webMessage {
			postAuthorizationResponse(w, urlOrigin(cb), v, state)
			return
		}
		if formPost {
			postForm(w, cb.String(), v, state)
			return
		}
		u := *cb
		cq := cb.Query()
		if fragment {
			cq = url.Values{}
		}
		for k, vs := range v {
			cq[k] = vs
		}
		if state != "" {
			cq.Set("state", state)
		}
		loc := ""
		if fragment {
			loc = u.String() + "#" + cq.Encode()
		} else {
			u.RawQuery = cq.Encode()
			loc = u.String()
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusFound)
	}
	fail := func(code, desc string) { redirect(url.Values{"error": {code}, "error_description": {desc}}) }
	access, id, implicit := implicitTypes(q.Get("response_type"))
	if implicit && !t.checkImplicit(w, q, cb, access, id, webMessage, &fragment, fail) {
		return
	}
	switch {
	case implicit:
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "Unsupported response type: "+q.Get("response_type"))
		return
	case q.Get("code_challenge") == "":
		fail("invalid_request", "Parameter 'code_challenge' is required")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "Unsupported code_challenge_method: '"+q.Get("code_challenge_method")+"', only S256 is supported")
		return
	case q.Get("audience") == "":
		fail("invalid_request", "Parameter 'audience' is required")
		return
	case q.Get("audience") != t.Audience():
		fail("access_denied", "Service not found: "+q.Get("audience"))
		return
	}
	t.mu.Lock()
	sub := t.login.user
	if sub == "" {
		t.mu.Unlock()
		fail("login_required", "Login required")
		return
	}
	// login_hint picks another user of the tenant, as if they had signed in.
	if hint := q.Get("login_hint"); t.users[hint] != nil {
		sub = hint
	}
	g := grant{sub: sub, scopes: filterScopes(q.Get("scope")), audience: q.Get("audience"), nonce: q.Get("nonce")}
	if implicit {
		res, err := t.mintTokens(g, access, id, true)
		t.mu.Unlock()
		if err != nil {
			fail("server_error", "signing failed")
			return
		}
		v := url.Values{}
		for k, x := range res {
			v.Set(k, fmt.Sprint(x))
		}
		redirect(v)
		return
	}
	code := newID("", 32)
	t.login.codes[code] = &authCode{
		grant:       g,
		redirectURI: redirectURI,
		challenge:   q.Get("code_challenge"),
		expires:     t.now().Add(codeTTL),
	}
	t.mu.Unlock()
	redirect(url.Values{"code": {code}})
}

// tokenForm reads a form-urlencoded (or JSON) token-endpoint body; the
// client id may come in the form or as the user of HTTP Basic auth.
func tokenForm(r *http.Request, body []byte) (url.Values, bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var v url.Values
	switch ct {
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false
		}
		v = q
	case "application/json":
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return nil, false
		}
		v = url.Values{}
		for k, x := range m {
			if s, ok := x.(string); ok {
				v.Set(k, s)
			}
		}
	default:
		return nil, false
	}
	if v.Get("client_id") == "" {
		if user, _, ok := r.BasicAuth(); ok {
			v.Set("client_id", user)
		}
	}
	return v, true
}

// clientForm reads the form of a POST to a login endpoint and checks its
// client_id, answering the OAuth error itself when it returns false.
func (t *Tenant) clientForm(w http.ResponseWriter, r *http.Request, body []byte) (url.Values, bool) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed")
		return nil, false
	}
	v, ok := tokenForm(r, body)
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded")
		return nil, false
	}
	switch cid := v.Get("client_id"); {
	case cid == "":
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Missing required parameter: client_id")
		return nil, false
	case cid != t.clientID:
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Unknown client: "+cid)
		return nil, false
	}
	return v, true
}

// serveToken answers POST /oauth/token.
func (t *Tenant) serveToken(w http.ResponseWriter, r *http.Request, body []byte) {
	v, ok := t.clientForm(w, r, body)
	if !ok {
		return
	}
	t.locked(w, func(w http.ResponseWriter) {
		switch gt := v.Get("grant_type"); gt {
		case "authorization_code":
			t.exchangeCode(w, v)
		case "refresh_token":
			t.exchangeRefresh(w, v)
		case deviceGrant:
			t.exchangeDevice(w, v)
		case "":
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type")
		default:
			writeOAuthError(w, http.StatusForbidden, "unsupported_grant_type", "Unsupported grant type: "+gt)
		}
	})
}

// exchangeCode runs with t.mu held.
func (t *Tenant) exchangeCode(w http.ResponseWriter, v url.Values) {
	code := v.Get("code")
	ac, ok := t.login.codes[code]
	if code == "" || !ok {
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Invalid authorization code")
		return
	}
	delete(t.login.codes, code) // single use, whatever happens next
	if !t.now().Before(ac.expires) {
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Invalid authorization code")
		return
	}
	if v.Get("redirect_uri") != ac.redirectURI {
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Invalid redirect_uri")
		return
	}
	verifier := v.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	if verifier == "" || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(ac.challenge)) != 1 {
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Failed to verify code verifier")
		return
	}
	t.issue(w, ac.grant, "")
}

// exchangeRefresh runs with t.mu held. Refresh tokens rotate: each use
// returns a new one and retires the old; using a retired one revokes its
// whole family, as Auth0's reuse detection does.
func (t *Tenant) exchangeRefresh(w http.ResponseWriter, v url.Values) {
	raw := v.Get("refresh_token")
	rg, ok := t.login.refresh[raw]
	if raw == "" || !ok || !t.now().Before(rg.expires) {
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
		return
	}
	if rg.used {
		for k, o := range t.login.refresh {
			if o.family == rg.family {
				delete(t.login.refresh, k)
			}
		}
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
		return
	}
	g := rg.grant
	g.scopes = slices.Clone(g.scopes)
	if s := v.Get("scope"); s != "" {
		asked := bearer.SplitScopes(s)
		for _, a := range asked {
			if !slices.Contains(rg.scopes, a) {
				writeOAuthError(w, http.StatusForbidden, "invalid_scope", "Scope must be a subset of the scopes originally granted: "+a)
				return
			}
		}
		// Narrowing changes the tokens issued now; the family keeps its grant.
		g.scopes = filterScopes(s)
		if slices.Contains(rg.scopes, "offline_access") && !slices.Contains(g.scopes, "offline_access") {
			g.scopes = append(g.scopes, "offline_access")
		}
	}
	rg.used = true
	keep := rg.grant
	keep.scopes = slices.Clone(rg.scopes)
	t.issueWithFamily(w, g, rg.family, keep)
}

// exchangeDevice runs with t.mu held.
func (t *Tenant) exchangeDevice(w http.ResponseWriter, v url.Values) {
	dc := v.Get("device_code")
	d, ok := t.login.devices[dc]
	if dc == "" || !ok || d.status == deviceDone || d.status == deviceExpiredReported {
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Invalid or expired device code.")
		return
	}
	now := t.now()
	if !now.Before(d.expires) {
		d.status = deviceExpiredReported
		writeOAuthError(w, http.StatusForbidden, "expired_token", "The device code has expired.")
		return
	}
	if !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval {
		d.lastPoll = now
		d.interval += 5 * time.Second
		writeOAuthError(w, http.StatusTooManyRequests, "slow_down",
			fmt.Sprintf("You are polling faster than allowed. Try again in %d seconds.", int(d.interval/time.Second)))
		return
	}
	d.lastPoll = now
	switch d.status {
	case devicePending:
		writeOAuthError(w, http.StatusForbidden, "authorization_pending", "User has yet to authorize device code.")
	case deviceDenied:
		d.status = deviceDone
		writeOAuthError(w, http.StatusForbidden, "access_denied", "User denied access")
	case deviceApproved:
		d.status = deviceDone
		t.issue(w, d.grant, "")
	}
}

// issue answers a successful token request; it runs with t.mu held.
func (t *Tenant) issue(w http.ResponseWriter, g grant, family string) {
	t.issueWithFamily(w, g, family, g)
}

// issueWithFamily signs the tokens for g; a new refresh token (when g has
// offline_access) carries the grant keep in family ("" starts a family).
func (t *Tenant) issueWithFamily(w http.ResponseWriter, g grant, family string, keep grant) {
	res, err := t.mintTokens(g, true, slices.Contains(g.scopes, "openid"), false)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	now := t.now()
	if slices.Contains(keep.scopes, "offline_access") {
		rt := newID("v1.", 48)
		if family == "" {
			family = rt
		}
		t.login.refresh[rt] = &refreshGrant{grant: keep, family: family, expires: now.Add(t.cfg.rtTTL)}
		res["refresh_token"] = rt
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, res)
}

// serveDeviceCode answers POST /oauth/device/code.
func (t *Tenant) serveDeviceCode(w http.ResponseWriter, r *http.Request, body []byte) {
	v, ok := t.clientForm(w, r, body)
	if !ok {
		return
	}
	aud := v.Get("audience")
	if aud == "" {
		aud = v.Get("resource")
	}
	if aud != t.Audience() {
		writeOAuthError(w, http.StatusForbidden, "access_denied", "Service not found: "+aud)
		return
	}
	t.mu.Lock()
	now := t.now()
	d := &deviceAuth{
		grant:      grant{scopes: filterScopes(v.Get("scope")), audience: aud},
		deviceCode: newID("", 24),
		userCode:   newUserCode(),
		issued:     now,
		expires:    now.Add(t.cfg.deviceTTL),
		interval:   t.cfg.interval,
	}
	for t.login.byUserCode[d.userCode] != nil {
		d.userCode = newUserCode()
	}
	t.login.devices[d.deviceCode] = d
	t.login.byUserCode[d.userCode] = d
	interval := int64(t.cfg.interval / time.Second)
	expiresIn := int64(t.cfg.deviceTTL / time.Second)
	t.mu.Unlock()
	verify := t.URL() + "/activate"
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               d.deviceCode,
		"user_code":                 d.userCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(d.userCode),
		"expires_in":                expiresIn,
		"interval":                  interval,
	})
}

// newUserCode is XXXX-XXXX over Auth0's default alphabet (consonants only).
func newUserCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	s := []byte(newID("", 8))
	for i := range s {
		s[i] = alphabet[int(s[i])%len(alphabet)]
	}
	return string(s[:4]) + "-" + string(s[4:])
}
