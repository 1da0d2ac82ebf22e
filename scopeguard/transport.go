package scopeguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/internal/baseurl"
)

// Me is the user id that stands for the token's subject in the acting-user
// path parameter: the guard replaces it with the escaped sub.
const Me = "me"

// DefaultLeeway is how long after its exp a token is still sent, to allow
// for clock skew between this host and Auth0.
const DefaultLeeway = 30 * time.Second

// MaxLeeway is the largest leeway WithLeeway accepts.
const MaxLeeway = 5 * time.Minute

// Transport is an http.RoundTripper that attaches a user-scoped Auth0
// Management API token to the requests it allows and refuses all others
// before they leave the process; see the package documentation for the
// rules. It is safe for concurrent use.
type Transport struct {
	s    *shared
	src  oauth2.TokenSource
	last atomic.Pointer[entry] // entry of the token this view saw last
}

// shared is the configuration, route table and claims cache that a
// Transport and all its views share.
type shared struct {
	base      http.RoundTripper // nil means http.DefaultTransport
	clock     func() time.Time
	leeway    time.Duration
	scheme    string   // "https" or "http"
	hostname  string   // lower case, without brackets
	port      string   // explicit or the scheme's default
	origin    string   // scheme://host of the base URL, for messages
	host      string   // the base URL's host as written, for the fast path
	basePath  string   // escaped path of the base URL, ending in "/"
	audiences []string // aud values that name the base URL's host
	routes    []route
	cache     *cache
}

// Option configures New.
type Option func(*config) error

type config struct {
	base      http.RoundTripper
	clock     func() time.Time
	leeway    time.Duration
	cacheSize int
}

// WithBase sets the RoundTripper that sends allowed requests. nil, the
// default, means http.DefaultTransport at the time of each request.
func WithBase(rt http.RoundTripper) Option {
	return func(c *config) error {
		c.base = rt
		return nil
	}
}

// WithClock sets the clock that token expiry is judged by; it must not be nil.
// The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrOption)
		}
		c.clock = now
		return nil
	}
}

// WithLeeway sets how long after exp a token is still sent, between 0 and
// MaxLeeway. The default is DefaultLeeway.
func WithLeeway(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > MaxLeeway {
			return fmt.Errorf("%w: leeway %v is not between 0 and %v", ErrOption, d, MaxLeeway)
		}
		c.leeway = d
		return nil
	}
}

// WithCacheSize bounds the number of distinct tokens whose claims are kept,
// shared by a Transport and all its views; it must be at least 1. The
// default is DefaultCacheSize.
func WithCacheSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: cache size %d is less than 1", ErrOption, n)
		}
		c.cacheSize = n
		return nil
	}
}

// New returns a Transport for the Management API at baseURL, such as
// "https://tenant.eu.auth0.com/api/v2/", that takes its tokens from ts.
// baseURL must be https, or plain http to a loopback host (127.0.0.0/8, ::1,
// localhost). ts may be nil when the Transport is used only through views
// made by WithTokenSource; requests through a Transport without a source
// fail with ErrTokenSource.
func New(baseURL string, ts oauth2.TokenSource, opts ...Option) (*Transport, error) {
	cfg := config{clock: time.Now, leeway: DefaultLeeway, cacheSize: DefaultCacheSize}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrOption)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s, err := parseBase(baseURL)
	if err != nil {
		return nil, err
	}
	s.routes, err = compileRoutes(gen.Operations)
	if err != nil {
		return nil, err
	}
	s.base, s.clock, s.leeway = cfg.base, cfg.clock, cfg.leeway
	s.cache = newCache(cfg.cacheSize)
	return &Transport{s: s, src: ts}, nil
}

func parseBase(raw string) (*shared, error) {
	u, err := baseurl.Parse(raw)
	if errors.Is(err, baseurl.ErrInsecure) {
		return nil, fmt.Errorf("%w: %q", ErrInsecureURL, raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBaseURL, err)
	}
	s := &shared{
		scheme:   u.Scheme,
		hostname: strings.ToLower(u.Hostname()),
		port:     u.Port(),
		basePath: u.Path,
	}
	if s.port == "" {
		s.port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	s.host = u.Host
	host := strings.ToLower(u.Host)
	s.origin = u.Scheme + "://" + host
	// The Management API audience is always https, even when the base URL
	// is a loopback test server over http.
	s.audiences = []string{"https://" + host + "/api/v2/"}
	if u.Port() == "443" {
		s.audiences = append(s.audiences, "https://"+strings.TrimSuffix(host, ":443")+"/api/v2/")
	}
	return s, nil
}

// WithTokenSource returns a view of t that takes its tokens from ts and
// shares t's base transport, options, routes and claims cache. It is cheap
// (one small allocation), meant to be made per user. A nil ts makes every
// request fail with ErrTokenSource.
func (t *Transport) WithTokenSource(ts oauth2.TokenSource) *Transport {
	return &Transport{s: t.s, src: ts}
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
	if t.s.base != nil {
		return t.s.base
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
	e, err := t.current()
	if err != nil {
		return nil, err
	}
	return e.claims.clone(), nil
}

// current takes a token from the source and returns its cache entry.
func (t *Transport) current() (*entry, error) {
	if t.src == nil {
		return nil, &TokenSourceError{}
	}
	tok, err := t.src.Token()
	if err != nil {
		return nil, &TokenSourceError{Err: err}
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, &TokenSourceError{}
	}
	if typ := tok.Type(); typ != "Bearer" {
		return nil, &TokenSourceError{Err: fmt.Errorf("token type %q is not Bearer", typ)}
	}
	if e := t.last.Load(); e != nil && e.token == tok.AccessToken {
		return e, nil
	}
	e := t.s.cache.get(tok.AccessToken)
	if e == nil {
		if e, err = t.s.newEntry(tok.AccessToken); err != nil {
			return nil, err
		}
		e = t.s.cache.put(e)
	}
	t.last.Store(e)
	return e, nil
}

// RoundTrip implements http.RoundTripper: it refuses the request, closing
// its body, or sends a copy of it with the token's Authorization header
// through the base transport. It never modifies req. It returns the base
// transport's error unchanged, and its response with Request set to req, so
// that the response does not carry the copy holding the token.
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
		resp.Request = req // the caller's, which holds no token
	}
	return resp, err
}

// clonedRequest holds the copy of a request, its URL and its Authorization
// value in one allocation.
type clonedRequest struct {
	req  http.Request
	url  url.URL
	auth [1]string
	vals [4]string // header values, when they fit
}

// authorize applies the rules in the documented order and returns the
// request to send.
func (t *Transport) authorize(req *http.Request) (*http.Request, error) {
	s := t.s
	if req.URL == nil {
		return nil, fmt.Errorf("%w: request has no URL", ErrUnknownOperation)
	}
	// Where the token may go.
	if err := s.checkHost(req); err != nil {
		return nil, err
	}
	// Token and claims.
	e, err := t.current()
	if err != nil {
		return nil, err
	}
	rd := &e.rd
	// Token sanity.
	if e.admin {
		if e.sub == "" {
			return nil, &guardError{msg: ErrAdminToken.Error() + " (the token has no sub)", err: ErrAdminToken}
		}
		return nil, rd.errorf(ErrAdminToken, "sub %q, gty %q", e.sub, e.claims.GrantType)
	}
	if exp := e.claims.Expiry; !exp.IsZero() {
		if now := s.clock(); now.After(exp.Add(s.leeway)) {
			return nil, rd.errorf(ErrTokenExpired, "exp %s is before %s less leeway %v",
				exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), s.leeway)
		}
	}
	if !e.audOK {
		return nil, rd.errorf(ErrAudience, "want %q, token has %q", s.audiences[0], e.claims.Audience)
	}
	// Route.
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	p, enc := requestPath(req.URL)
	rest, ok := strings.CutPrefix(p, s.basePath)
	ps := pathSegs{enc: enc}
	ri := -1
	if ok && req.URL.Opaque == "" && ps.split(rest) {
		ri = match(s.routes, method, &ps)
	}
	if ri < 0 {
		return nil, rd.errorf(ErrUnknownOperation, "%s %s", method, p)
	}
	r := &s.routes[ri]
	// Path parameters, with Me standing for sub: every one of them before
	// the subject.
	isMe := false
	requested := ""
	for j, sg := range r.segs {
		if sg.param == "" {
			continue
		}
		v, ok := ps.decoded(j)
		if !ok {
			return nil, t.paramError(rd, r, sg.param, ps.s[j], "is not valid percent-encoding")
		}
		why := ""
		if j == r.user && v == Me {
			isMe = true
			v, why = e.sub, e.subCheck // checked once, when the token was cached
		} else {
			why = checkParam(v)
		}
		if why != "" {
			return nil, t.paramError(rd, r, sg.param, v, why)
		}
		if j == r.user {
			requested = v
		}
	}
	// Subject, before scopes, as the Management API answers.
	if r.user >= 0 && !isMe && requested != e.sub {
		return nil, &SubjectError{Operation: r.op.ID, Subject: rd.s(e.sub), Requested: rd.s(requested)}
	}
	// Scopes.
	if !e.allowed[ri] {
		return nil, &ScopeError{
			Operation: r.op.ID,
			AnyOf:     append([]string(nil), r.op.Scopes...),
			Granted:   rd.list(e.claims.Scopes),
		}
	}
	// Send a copy with the token.
	c := &clonedRequest{req: *req}
	c.auth[0] = e.auth
	c.req.Header = cloneHeader(req.Header, c.auth[:], c.vals[:])
	if isMe {
		c.url = *req.URL
		c.req.URL = &c.url
		if sp := e.paths[ri]; sp.esc != "" {
			c.url.Path, c.url.RawPath = sp.dec, sp.esc
		} else if err := substitute(&c.url, s.basePath, r.user, e.escSub, e.sub); err != nil {
			return nil, t.paramError(rd, r, r.segs[r.user].param, e.sub, "cannot be substituted")
		}
	}
	return &c.req, nil
}

func (t *Transport) paramError(rd *redactor, r *route, param, v, why string) error {
	return &ParamError{Operation: r.op.ID, Param: param, Value: rd.s(v), Reason: why}
}

// substitute replaces segment i below basePath of u's escaped path with
// esc (whose decoded form is sub), and sets Path and RawPath to match.
func substitute(u *url.URL, basePath string, i int, esc, sub string) error {
	p := u.EscapedPath()
	rest, ok := strings.CutPrefix(p, basePath)
	if !ok {
		return ErrInvalidParameter
	}
	start := len(basePath)
	for ; i > 0; i-- {
		k := strings.IndexByte(rest, '/')
		if k < 0 {
			return ErrInvalidParameter
		}
		start += k + 1
		rest = rest[k+1:]
	}
	end := start + len(rest)
	if k := strings.IndexByte(rest, '/'); k >= 0 {
		end = start + k
	}
	// Build the escaped and the decoded path in one string when the parts
	// around the segment need no unescaping (the usual case).
	pre, post := p[:start], p[end:]
	if strings.IndexByte(pre, '%') >= 0 || strings.IndexByte(post, '%') >= 0 {
		newEsc := pre + esc + post
		dec, err := url.PathUnescape(newEsc)
		if err != nil {
			return ErrInvalidParameter
		}
		u.Path, u.RawPath = dec, newEsc
		return nil
	}
	var b strings.Builder
	n := len(pre) + len(esc) + len(post)
	b.Grow(n + len(pre) + len(sub) + len(post))
	b.WriteString(pre)
	b.WriteString(esc)
	b.WriteString(post)
	b.WriteString(pre)
	b.WriteString(sub)
	b.WriteString(post)
	both := b.String()
	u.RawPath, u.Path = both[:n], both[n:]
	return nil
}

// cloneHeader copies h, leaving out any Authorization header whatever its
// case, and adds auth as the Authorization header. Values share one
// backing array, as in http.Header.Clone: scratch when they fit in it.
func cloneHeader(h http.Header, auth, scratch []string) http.Header {
	out := make(http.Header, len(h)+1)
	nv := 0
	for _, vv := range h {
		nv += len(vv)
	}
	sv := scratch
	if nv > len(scratch) {
		sv = make([]string, nv)
	}
	for k, vv := range h {
		if strings.EqualFold(k, "Authorization") {
			continue
		}
		if vv == nil {
			out[k] = nil
			continue
		}
		n := copy(sv, vv)
		out[k] = sv[:n:n]
		sv = sv[n:]
	}
	out["Authorization"] = auth
	return out
}

// sameHost reports whether hostport names the base URL's host and port, a
// default port written or left out.
func (s *shared) sameHost(hostport string) bool {
	h, port, err := net.SplitHostPort(hostport)
	if err != nil {
		h, port = strings.Trim(hostport, "[]"), ""
	}
	if port == "" {
		switch s.scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.EqualFold(h, s.hostname) && port == s.port
}

// checkHost refuses a request for another scheme or host than the base
// URL's, before any token is taken.
func (s *shared) checkHost(req *http.Request) error {
	u := req.URL
	// Fast path: the request names the base URL's host as written (as the
	// generated client does).
	if u.Host == s.host && u.Scheme == s.scheme && (req.Host == "" || req.Host == u.Host) {
		return nil
	}
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	hostname := u.Hostname()
	ok := (u.Scheme == s.scheme || strings.EqualFold(u.Scheme, s.scheme)) &&
		(hostname == s.hostname || strings.EqualFold(hostname, s.hostname)) &&
		port == s.port
	host := u.Host
	if ok && req.Host != "" && req.Host != u.Host && !s.sameHost(req.Host) {
		ok, host = false, req.Host
	}
	if ok {
		return nil
	}
	return &HostError{Scheme: u.Scheme, Host: host, Want: s.origin}
}
