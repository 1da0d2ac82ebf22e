package scopeguard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/internal/baseurl"
	"github.com/auth0me/auth0me/internal/bearer"
)

// Me is the user id that stands for the token's subject in the acting-user
// path parameter: the guard replaces it with the escaped sub.
const Me = "me"

// DefaultLeeway is how long after its exp a token is still sent, to allow
// for clock skew between this host and Auth0.
const DefaultLeeway = 30 * time.Second

// MaxLeeway is the largest leeway WithLeeway accepts.
const MaxLeeway = 5 * time.Minute

// DefaultCacheSize is the number of distinct tokens whose claims a
// Transport and its views keep unless WithCacheSize says otherwise.
const DefaultCacheSize = 1024

// Transport is an http.RoundTripper that attaches a user-scoped Auth0
// Management API token to the requests it allows and refuses all others
// before they leave the process; see the package documentation for the
// rules. It is safe for concurrent use.
type Transport struct {
	*shared
	src oauth2.TokenSource // nil: every request fails with ErrTokenSource
}

// shared is what a Transport and its views (WithTokenSource) have in
// common; it does not change after New, but for the cache.
type shared struct {
	base     http.RoundTripper // nil means http.DefaultTransport
	clock    func() time.Time
	leeway   time.Duration
	url      *url.URL // the base URL, its path ending in "/"
	port     string   // the base URL's port, or its scheme's default
	audience string   // https://{host}/api/v2/ of the base URL's host
	routes   []route
	cache    *claimsCache
}

// Option configures New.
type Option func(*shared) error

// WithBase sets the RoundTripper that sends allowed requests. nil, the
// default, means http.DefaultTransport at the time of each request.
func WithBase(rt http.RoundTripper) Option {
	return func(s *shared) error {
		s.base = rt
		return nil
	}
}

// WithClock sets the clock that token expiry is judged by; it must not be nil.
// The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *shared) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrOption)
		}
		s.clock = now
		return nil
	}
}

// WithLeeway sets how long after exp a token is still sent, between 0 and
// MaxLeeway. The default is DefaultLeeway.
func WithLeeway(d time.Duration) Option {
	return func(s *shared) error {
		if d < 0 || d > MaxLeeway {
			return fmt.Errorf("%w: leeway %v is not between 0 and %v", ErrOption, d, MaxLeeway)
		}
		s.leeway = d
		return nil
	}
}

// WithCacheSize bounds the number of distinct tokens whose claims are kept,
// shared by a Transport and all its views; it must be at least 1. The
// default is DefaultCacheSize.
func WithCacheSize(n int) Option {
	return func(s *shared) error {
		if n < 1 {
			return fmt.Errorf("%w: cache size %d is less than 1", ErrOption, n)
		}
		s.cache.max = n
		return nil
	}
}

// New returns a Transport for the Management API at baseURL, such as
// "https://tenant.eu.auth0.com/api/v2/", that takes its tokens from ts.
// baseURL must be https, or plain http to a loopback host (127.0.0.0/8, ::1,
// localhost), without user info, query or fragment; otherwise New fails
// with ErrBaseURL. An invalid Option fails with ErrOption. ts may be nil
// when the Transport is used only through views made by WithTokenSource.
func New(baseURL string, ts oauth2.TokenSource, opts ...Option) (*Transport, error) {
	u, err := baseurl.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBaseURL, err)
	}
	host := strings.ToLower(u.Host)
	s := &shared{
		clock:    time.Now,
		leeway:   DefaultLeeway,
		url:      u,
		port:     portOf(u.Scheme, u.Port()),
		audience: "https://" + strings.TrimSuffix(host, ":443") + "/api/v2/",
		cache:    &claimsCache{m: map[string]*entry{}, max: DefaultCacheSize},
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrOption)
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.routes, err = compileRoutes(gen.Operations); err != nil {
		return nil, err
	}
	return &Transport{shared: s, src: ts}, nil
}

// portOf returns port, or the default port of scheme when port is empty.
func portOf(scheme, port string) string {
	if port != "" {
		return port
	}
	switch strings.ToLower(scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// WithTokenSource returns a view of t that takes its tokens from ts and
// shares t's base transport, options, routes and claims cache; it is meant
// to be made per user. A nil ts makes every request fail with
// ErrTokenSource.
func (t *Transport) WithTokenSource(ts oauth2.TokenSource) *Transport {
	return &Transport{shared: t.shared, src: ts}
}

// CloseIdleConnections closes the idle connections of the base transport,
// when it has such a method.
func (t *Transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if c, ok := t.baseRT().(closeIdler); ok {
		c.CloseIdleConnections()
	}
}

func (t *Transport) baseRT() http.RoundTripper {
	if t.base != nil {
		return t.base
	}
	return http.DefaultTransport
}

// Claims returns the claims of the token the source currently returns,
// decoded through the shared cache. It does not check them against the
// base URL: RoundTrip does that. The result is a copy the caller owns.
// TokenSource.Token takes no context, so ctx is only consulted before the
// source is called.
func (t *Transport) Claims(ctx context.Context) (*Claims, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, e, err := t.token()
	if err != nil {
		return nil, err
	}
	return e.claims.clone(), nil
}

// SubjectOf returns the sub claim of token, read through the claims cache
// that RoundTrip and Claims share, for a base transport that needs the
// user of the token the guard put in a request's Authorization header.
// Like ParseClaims, it checks nothing against the base URL.
func (t *Transport) SubjectOf(token string) (string, error) {
	e, err := t.cache.get(token)
	if err != nil {
		return "", err
	}
	return e.claims.Subject, nil
}

// token takes a token from the source and returns it with its cache entry.
func (t *Transport) token() (string, *entry, error) {
	if t.src == nil {
		return "", nil, &TokenSourceError{}
	}
	tok, err := t.src.Token()
	if err != nil {
		return "", nil, &TokenSourceError{Err: err}
	}
	if tok == nil || tok.AccessToken == "" {
		return "", nil, &TokenSourceError{}
	}
	if typ := tok.Type(); typ != "Bearer" {
		return "", nil, &TokenSourceError{Err: fmt.Errorf("token type %q is not Bearer", typ)}
	}
	e, err := t.cache.get(tok.AccessToken)
	return tok.AccessToken, e, err
}

// RoundTrip implements http.RoundTripper. It refuses the request, or sends
// a copy of it with the token's Authorization header, and Me replaced by
// the escaped sub, through the base transport. It never modifies req and
// always closes its body. It returns the base transport's error unchanged,
// and its response with Request set to req, so that the response does not
// carry the copy that holds the token.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	out, err := t.authorize(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.baseRT().RoundTrip(out)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

// authorize applies the rules in the documented order and returns the
// request to send.
func (t *Transport) authorize(req *http.Request) (*http.Request, error) {
	if req.URL == nil {
		return nil, fmt.Errorf("%w: request has no URL", ErrUnknownOperation)
	}
	// 1. Where the token may go.
	if err := t.checkHost(req); err != nil {
		return nil, err
	}
	// 2, 3. Token and claims.
	tok, e, err := t.token()
	if err != nil {
		return nil, err
	}
	c := e.claims
	redact := func(s string) string { return bearer.Redact(s, tok) }
	// 4. Token sanity.
	now := t.clock()
	switch {
	case c.Subject == "":
		return nil, &guardError{msg: ErrAdminToken.Error() + " (the token has no sub)", err: ErrAdminToken}
	case c.IsClientCredentials():
		return nil, refusal(ErrAdminToken, redact(fmt.Sprintf("sub %q, gty %q", c.Subject, c.GrantType)))
	case !c.Expiry.IsZero() && now.After(c.Expiry.Add(t.leeway)):
		return nil, refusal(ErrTokenExpired, fmt.Sprintf("exp %s is before %s less leeway %v",
			c.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), t.leeway))
	case !c.HasAudience(t.audience):
		return nil, refusal(ErrAudience, redact(fmt.Sprintf("want %q, token has %q", t.audience, c.Audience)))
	}
	// 5. Route.
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	path := req.URL.EscapedPath()
	r, segs := t.match(method, path)
	if r == nil || req.URL.Opaque != "" {
		return nil, refusal(ErrUnknownOperation, redact(method+" "+path))
	}
	// 6. Path parameters, every one before the subject; Me stands for sub.
	requested := ""
	for i, sg := range r.segs {
		if sg.param == "" {
			continue
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, paramError(r, sg.param, redact(segs[i]), "is not valid percent-encoding")
		}
		if i == r.user {
			if v == Me {
				v = c.Subject
			}
			requested = v
		}
		if why := checkParam(v); why != "" {
			return nil, paramError(r, sg.param, redact(v), why)
		}
	}
	// 7. Subject, before scopes, as the Management API answers.
	if r.user >= 0 && requested != c.Subject {
		return nil, &SubjectError{Operation: r.op.ID, Subject: redact(c.Subject), Requested: redact(requested)}
	}
	// 8. Scopes.
	if !c.Allows(r.op) {
		granted := make([]string, len(c.Scopes))
		for i, s := range c.Scopes {
			granted[i] = redact(s)
		}
		return nil, &ScopeError{Operation: r.op.ID, AnyOf: append([]string(nil), r.op.Scopes...), Granted: granted}
	}
	// Send a copy with the token, as oauth2.Transport does. The copy has a
	// URL and a header map of its own and shares the rest, header values
	// included, with req, which neither the guard nor, by the RoundTripper
	// contract, a transport below it modifies.
	out := new(http.Request)
	*out = *req
	u := *req.URL
	out.URL = &u
	out.Header = make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		if !strings.EqualFold(k, "Authorization") {
			out.Header[k] = v
		}
	}
	out.Header["Authorization"] = []string{e.auth}
	if r.user >= 0 && segs[r.user] != e.escSub {
		at := len(t.url.Path) // the acting user's segment's offset in path
		for _, sg := range segs[:r.user] {
			at += len(sg) + 1
		}
		if err := substitute(out.URL, path[:at], path[at+len(segs[r.user]):], c.Subject, e.escSub); err != nil {
			return nil, paramError(r, r.segs[r.user].param, redact(c.Subject), "cannot be substituted")
		}
	}
	return out, nil
}

// substitute sets u's path to the escaped path prefix+esc+suffix, where
// esc is sub escaped and prefix and suffix end and start at a segment
// boundary; it sets URL.Path and URL.RawPath to match. A percent-escape
// never spans a '/', so the parts unescape one by one.
func substitute(u *url.URL, prefix, suffix, sub, esc string) error {
	pre, err := url.PathUnescape(prefix)
	if err != nil {
		return err
	}
	suf, err := url.PathUnescape(suffix)
	if err != nil {
		return err
	}
	u.Path, u.RawPath = pre+sub+suf, prefix+esc+suffix
	return nil
}

func paramError(r *route, param, v, why string) error {
	return &ParamError{Operation: r.op.ID, Param: param, Value: v, Reason: why}
}

// checkHost refuses a request for another scheme or host than the base
// URL's, before any token is taken. Host names compare without case and a
// default port may be written or left out, in the URL and in Request.Host.
func (t *Transport) checkHost(req *http.Request) error {
	u := req.URL
	ok := strings.EqualFold(u.Scheme, t.url.Scheme) && t.sameHost(u.Hostname(), u.Port())
	host := u.Host
	if ok && req.Host != "" && req.Host != u.Host {
		h, port, err := net.SplitHostPort(req.Host)
		if err != nil {
			h, port = strings.Trim(req.Host, "[]"), ""
		}
		ok, host = t.sameHost(h, port), req.Host
	}
	if ok {
		return nil
	}
	return &HostError{Scheme: u.Scheme, Host: host, Want: t.url.Scheme + "://" + strings.ToLower(t.url.Host)}
}

// sameHost reports whether hostname and port (empty for the scheme's
// default) name the base URL's host.
func (t *Transport) sameHost(hostname, port string) bool {
	return strings.EqualFold(hostname, t.url.Hostname()) && portOf(t.url.Scheme, port) == t.port
}

// claimsCache maps tokens to their claims, so that each distinct token is
// parsed once. It holds at most max entries; when full, an arbitrary one
// (the first of a map iteration, which Go randomises) is evicted. Entries
// are never modified.
type claimsCache struct {
	mu  sync.RWMutex
	m   map[string]*entry
	max int
}

// entry is what a request needs of its token: its claims, its
// Authorization header value, and its sub escaped as a path segment.
type entry struct {
	claims *Claims
	auth   string // "Bearer " + token
	escSub string // url.PathEscape(claims.Subject)
}

func (c *claimsCache) get(token string) (*entry, error) {
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	if ok {
		return e, nil
	}
	cl, err := ParseClaims(token)
	if err != nil {
		return nil, err
	}
	e = &entry{claims: cl, auth: "Bearer " + token, escSub: url.PathEscape(cl.Subject)}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if len(c.m) < c.max {
			break
		}
		delete(c.m, k)
	}
	c.m[token] = e
	return e, nil
}

func (c *claimsCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// refusal returns an error matching sentinel whose message is the
// sentinel's text followed by detail, which must already be redacted.
func refusal(sentinel error, detail string) error {
	return &guardError{msg: sentinel.Error() + ": " + detail, err: sentinel}
}
