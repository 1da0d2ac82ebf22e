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
	source string       // "token file PATH", "--token" or "$AUTH0_TOKEN"
	entry  *storedToken // the token file's entry; nil for --token and $AUTH0_TOKEN
}

// selectedDomain is the tenant the user named: --domain, else
// $AUTH0ME_DOMAIN, else $AUTH0_DOMAIN; "" when none.
func (f *factory) selectedDomain() (string, error) {
	d := f.domain
	for _, env := range []string{"AUTH0ME_DOMAIN", "AUTH0_DOMAIN"} {
		if d == "" {
			d = f.env.Getenv(env)
		}
	}
	if d == "" {
		return "", nil
	}
	return normalizeDomain(d)
}

// session resolves the token (flag, environment, then token file) and the
// tenant it is for.
func (f *factory) session(ctx context.Context) (*session, error) {
	raw, source, err := f.givenToken()
	if err != nil {
		return nil, err
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
	domain, err := f.selectedDomain()
	if err != nil {
		return nil, err
	}
	st, err := s.load(domain)
	if errors.Is(err, errNoTokenFile) {
		msg := "not signed in"
		if domain != "" {
			msg += " to " + domain
		}
		return nil, &loginErr{msg: msg, hint: "run 'auth0me login', pass --token or set $AUTH0_TOKEN; 'auth0me demo' needs neither"}
	}
	if err != nil {
		return nil, &loginErr{msg: "cannot read the token file " + s.path, hint: "run 'auth0me login' again", err: err}
	}
	ta, _, err := f.resolveTenant(st.Domain, st.BaseURL)
	if err != nil {
		return nil, err
	}
	ts := &fileSource{ctx: f.oauthContext(ctx), store: s, cur: *st}
	return &session{ta: ta, ts: ts, source: "token file " + s.path, entry: st}, nil
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

// claims reads the claims of the session's token, refreshing it first when
// it comes from the token file and has expired, as a call would.
func (s *session) claims() (*scopeguard.Claims, error) {
	tok, err := s.ts.Token()
	if err != nil {
		return nil, err
	}
	return scopeguard.ParseClaims(tok.AccessToken)
}
