package main

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/bff"
)

//go:embed static
var static embed.FS

// config is what the app needs to know about its tenant and itself.
type config struct {
	Domain       string // the tenant, e.g. example.eu.auth0.com
	ClientID     string // a Regular Web Application (confidential client)
	ClientSecret string
	// PublicURL is where browsers reach the app, e.g. https://app.example;
	// the callback is PublicURL/callback. https sets the Secure cookie flag.
	PublicURL string
	// TenantURL overrides https://{Domain} (for apitest or auth0me serve).
	TenantURL string
	// HTTPClient reaches the tenant (nil: http.DefaultClient).
	HTTPClient *http.Client
}

// scopes asks for sign-in (openid profile email), a refresh token
// (offline_access) and the two current-user scopes the page uses.
var scopes = []string{"openid", "profile", "email", "offline_access", "read:current_user", "update:current_user_metadata"}

// app is the web app: sign-in, the session, the page and the bff Handler.
type app struct {
	cfg      config
	oauth    *oauth2.Config
	audience string
	sessions *scs.SessionManager
	tokens   *tokenTable
	mux      *http.ServeMux
}

func newApp(cfg config) (http.Handler, error) {
	if cfg.Domain == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.PublicURL == "" {
		return nil, errors.New("bff example: domain, client id, client secret and public URL are required")
	}
	if cfg.TenantURL == "" {
		cfg.TenantURL = "https://" + cfg.Domain
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	public, err := url.Parse(cfg.PublicURL)
	if err != nil || public.Host == "" {
		return nil, fmt.Errorf("bff example: public URL %q: %v", cfg.PublicURL, err)
	}
	a := &app{
		cfg: cfg,
		oauth: &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:  cfg.TenantURL + "/authorize",
				TokenURL: cfg.TenantURL + "/oauth/token",
			},
			RedirectURL: strings.TrimSuffix(cfg.PublicURL, "/") + "/callback",
			Scopes:      scopes,
		},
		audience: "https://" + cfg.Domain + "/api/v2/",
		sessions: scs.New(),
		tokens:   &tokenTable{m: map[string]*userTokens{}},
		mux:      http.NewServeMux(),
	}
	a.sessions.Lifetime = 12 * time.Hour
	a.sessions.IdleTimeout = time.Hour
	a.sessions.Cookie.Name = "bff_session"
	a.sessions.Cookie.Secure = public.Scheme == "https"
	a.sessions.Cookie.SameSite = http.SameSiteLaxMode // the callback arrives by a top-level GET from the tenant

	// One Client for every user; its own token source is never used.
	client, err := api.New(cfg.Domain, oauth2.StaticTokenSource(&oauth2.Token{}),
		api.WithBaseURL(cfg.TenantURL+"/api/v2/"), api.WithHTTPClient(cfg.HTTPClient))
	if err != nil {
		return nil, err
	}
	account, err := bff.New(client, a.userTokens,
		bff.Allow(bff.ReadProfile, bff.WriteMetadata),
		bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{
			"theme": {Schema: `{"enum": ["light", "dark"]}`, MaxSize: 16},
		}}))
	if err != nil {
		return nil, err
	}
	a.mux.Handle("/api/account/", http.StripPrefix("/api/account", account))
	a.mux.HandleFunc("GET /login", a.login)
	a.mux.HandleFunc("GET /callback", a.callback)
	// The bff Handler refuses cross-origin changes itself; the app's one
	// other change, signing out, is protected the same way.
	a.mux.Handle("POST /logout", http.NewCrossOriginProtection().Handler(http.HandlerFunc(a.logout)))
	page, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(page)
	a.mux.Handle("GET /{$}", files)
	a.mux.Handle("GET /app.js", files)
	a.mux.Handle("GET /style.css", files)

	return a.sessions.LoadAndSave(securityHeaders(a.mux)), nil
}

// securityHeaders sets a strict Content-Security-Policy: the page runs
// only its own script and talks only to its own origin.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// login starts Authorization Code with PKCE, asking for the Management API
// audience.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	state, verifier := rand.Text(), oauth2.GenerateVerifier()
	a.sessions.Put(r.Context(), "state", state)
	a.sessions.Put(r.Context(), "verifier", verifier)
	http.Redirect(w, r, a.oauth.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("audience", a.audience)), http.StatusFound)
}

// callback exchanges the code, as a confidential client, and keeps the
// tokens on the server; the browser gets only a new session id.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	state, verifier := a.sessions.PopString(ctx, "state"), a.sessions.PopString(ctx, "verifier")
	q := r.URL.Query()
	if state == "" || q.Get("state") != state {
		http.Error(w, "sign-in failed: state mismatch; start again at /login", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		http.Error(w, "sign-in refused by the tenant: "+e, http.StatusForbidden)
		return
	}
	tok, err := a.oauth.Exchange(a.tenantContext(ctx), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		// oauth2's errors hold the tenant's answer, never the tokens;
		// still, the browser is told only that it failed.
		http.Error(w, "sign-in failed: the code could not be exchanged", http.StatusBadGateway)
		return
	}
	if err := a.sessions.RenewToken(ctx); err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	a.sessions.Put(ctx, "tokens", a.tokens.add(a.oauth.TokenSource(a.tenantContext(context.Background()), tok), a.sessions.Lifetime))
	http.Redirect(w, r, "/", http.StatusFound)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.tokens.remove(a.sessions.GetString(r.Context(), "tokens"))
	if err := a.sessions.Destroy(r.Context()); err != nil {
		http.Error(w, "session error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// userTokens is the bff Handler's user function: the token source of the
// session's sign-in.
func (a *app) userTokens(r *http.Request) (oauth2.TokenSource, error) {
	ts := a.tokens.get(a.sessions.GetString(r.Context(), "tokens"))
	if ts == nil {
		return nil, errors.New("not signed in")
	}
	return ts, nil
}

// tenantContext makes x/oauth2 reach the tenant through the configured
// client.
func (a *app) tenantContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
}

// tokenTable holds each sign-in's token source, keyed by a random id the
// session holds. A source, not a token, is kept so that a user's
// concurrent requests share one oauth2.ReuseTokenSource: Auth0 rotates
// refresh tokens, and two requests refreshing with the same one would
// look like reuse and revoke the sign-in. (scs hands each request its own
// copy of the session data, which cannot give that.)
type tokenTable struct {
	mu sync.Mutex
	m  map[string]*userTokens
}

type userTokens struct {
	ts      oauth2.TokenSource
	expires time.Time
}

func (t *tokenTable) add(ts oauth2.TokenSource, lifetime time.Duration) string {
	id := rand.Text()
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, u := range t.m { // forget sign-ins whose session has ended
		if now.After(u.expires) {
			delete(t.m, k)
		}
	}
	t.m[id] = &userTokens{ts: ts, expires: now.Add(lifetime)}
	return id
}

func (t *tokenTable) get(id string) oauth2.TokenSource {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u, ok := t.m[id]; ok && time.Now().Before(u.expires) {
		return u.ts
	}
	return nil
}

func (t *tokenTable) remove(id string) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}
