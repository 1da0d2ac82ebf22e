package cli

import (
	"context"
	"errors"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/scopeguard"
)

// session is what an API command acts with.
type session struct {
	ta     tenantAddr
	ts     oauth2.TokenSource
	source string // "token file PATH", "--token" or "$AUTH0_TOKEN"
}

// session resolves the token (flag, environment, then token file) and the
// tenant it is for.
func (f *factory) session(ctx context.Context) (*session, error) {
	raw, source := f.token, "--token"
	if raw == "" {
		raw, source = f.env.Getenv("AUTH0_TOKEN"), "$AUTH0_TOKEN"
	}
	if raw != "" {
		claims, err := scopeguard.ParseClaims(raw)
		if err != nil {
			return nil, &loginErr{msg: "the token from " + source + " is not a readable JWT", err: err}
		}
		ta, ok, err := f.resolveTenant(domainFromAudience(claims.Audience), "")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, usagef("no tenant domain: the token's audience names none; pass --domain or set $AUTH0_DOMAIN")
		}
		ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: raw, TokenType: "Bearer"})
		return &session{ta: ta, ts: ts, source: source}, nil
	}

	s, err := f.store()
	if err != nil {
		return nil, err
	}
	st, err := s.load()
	if errors.Is(err, errNoTokenFile) {
		return nil, &loginErr{msg: "not signed in", hint: "run 'auth0me login', pass --token or set $AUTH0_TOKEN; 'auth0me demo' needs neither"}
	}
	if err != nil {
		return nil, &loginErr{msg: "cannot read the token file " + s.path, hint: "run 'auth0me login' again", err: err}
	}
	ta, _, err := f.resolveTenant(st.Domain, st.BaseURL)
	if err != nil {
		return nil, err
	}
	// Refresh against the tenant that issued the token.
	issuer := tenantAddr{domain: st.Domain, root: st.BaseURL}
	if issuer.root == "" {
		issuer.root = "https://" + st.Domain
	}
	cfg := oauthConfig(issuer, st.ClientID, st.Scopes)
	ts := &persistingSource{src: cfg.TokenSource(f.oauthContext(ctx), st.token()), store: s, st: *st}
	return &session{ta: ta, ts: ts, source: "token file " + s.path}, nil
}

// client returns an API client for the session.
func (f *factory) client(ctx context.Context) (*api.Client, *session, error) {
	sess, err := f.session(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := newAPIClient(sess.ta, sess.ts, f.env)
	if err != nil {
		return nil, nil, err
	}
	return c, sess, nil
}

func newAPIClient(ta tenantAddr, ts oauth2.TokenSource, env Env) (*api.Client, error) {
	opts := []api.Option{api.WithHTTPClient(env.HTTPClient), api.WithUserAgent("auth0me")}
	if ta.root != "https://"+ta.domain {
		opts = append(opts, api.WithBaseURL(ta.apiBase()))
	}
	return api.New(ta.domain, ts, opts...)
}
