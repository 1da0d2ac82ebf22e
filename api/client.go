package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/internal/auth0limits"
	"github.com/auth0me/auth0me/internal/baseurl"
	"github.com/auth0me/auth0me/internal/bearer"
	"github.com/auth0me/auth0me/scopeguard"
)

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "auth0me (+https://github.com/auth0me/auth0me)"

// Defaults for the options.
const (
	DefaultMaxRetries  = 4
	DefaultMaxBodySize = 4 << 20 // Auth0 profiles are limited to tens of KB
	// DefaultMaxWait bounds every single pacing wait and retry wait: a
	// minute covers the per-user bucket's refill (one request every 6 s)
	// ten times over.
	DefaultMaxWait = time.Minute
	// Auth0's per-user limit for current_user scopes: 10 requests per
	// minute per user, which is also the burst.
	DefaultCurrentUserBurst     = auth0limits.CurrentUserBurst
	DefaultCurrentUserPerMinute = auth0limits.CurrentUserPerMinute
)

// Client calls the Management API as the user a token was issued for. Its
// methods are safe for concurrent use. A Client and the per-user views made
// by ForToken share one connection pool, one rate-limit model and one
// claims cache.
type Client struct {
	*shared
	guard *scopeguard.Transport // this view's, holding its token source
	gen   *gen.Client
}

// shared is what a Client and its per-user views have in common.
type shared struct {
	settings
	base      string                // Management API base, with a trailing slash
	guard     *scopeguard.Transport // the root view
	coalescer *coalescer
}

// settings are the options every call reads.
type settings struct {
	userAgent  string
	logger     *slog.Logger
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	maxWait    time.Duration
	pacing     bool
	coalesce   bool
}

// Option configures a Client. Options validate their arguments and make New
// return an error wrapping ErrOption when one is invalid.
type Option func(*config) error

type config struct {
	settings
	baseURL   string
	hc        *http.Client
	maxBody   int64
	guardOpts []scopeguard.Option
	limiter   *rate.Limiter
	// The per-user bucket the pacer assumes; userLimitSet: given by
	// WithCurrentUserLimit, which arms it from the start.
	userBurst     int
	userPerMinute float64
	userLimitSet  bool
}

// WithBaseURL replaces the base https://{domain}/api/v2/. It must be https,
// or plain http to a loopback address (for tests, such as apitest's
// tenant), with a host and without user info, query or fragment.
func WithBaseURL(raw string) Option {
	return func(c *config) error {
		u, err := baseurl.Parse(raw)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrOption, err)
		}
		c.baseURL = u.String()
		return nil
	}
}

// WithHTTPClient makes requests through hc's Transport (nil meaning
// http.DefaultTransport), wrapped by the guard, and bounds each attempt by
// hc's Timeout. hc itself is not modified. Redirects are never followed,
// whatever hc's CheckRedirect says: the Management API does not redirect,
// and a 3xx answer comes back as an *Error. hc's Jar is not used.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return fmt.Errorf("%w: nil *http.Client", ErrOption)
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return fmt.Errorf("%w: user agent must be one non-empty line", ErrOption)
		}
		c.userAgent = ua
		return nil
	}
}

// WithLogger logs every HTTP exchange at debug level and every retry at
// info level. Tokens are never logged: the Authorization header shows as
// [REDACTED]. A nil logger turns logging off.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithoutRetries makes every call a single attempt.
func WithoutRetries() Option {
	return func(c *config) error {
		c.maxRetries = 0
		return nil
	}
}

// WithMaxRetries sets how many times a call may be retried after its first
// attempt (default DefaultMaxRetries).
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 || n > 100 {
			return fmt.Errorf("%w: max retries %d not in [0, 100]", ErrOption, n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithBackoff sets the bounds of the exponential backoff with jitter used between retries of GET and DELETE after 5xx answers and connection
// errors (default 100ms to 5s).
func WithBackoff(minWait, maxWait time.Duration) Option {
	return func(c *config) error {
		if minWait <= 0 || maxWait < minWait {
			return fmt.Errorf("%w: backoff bounds %v, %v", ErrOption, minWait, maxWait)
		}
		c.minBackoff, c.maxBackoff = minWait, maxWait
		return nil
	}
}

// WithRateLimit adds a client-side limit of r requests per second (finite
// and positive) with the given burst (at least 1), shared by the Client and its per-user views, on top of the
// pacing the server's headers drive.
func WithRateLimit(r float64, burst int) Option {
	return func(c *config) error {
		if !(r > 0) || math.IsInf(r, 1) || burst < 1 { // NaN fails r > 0
			return fmt.Errorf("%w: rate limit %v/s burst %d", ErrOption, r, burst)
		}
		c.limiter = rate.NewLimiter(rate.Limit(r), burst)
		return nil
	}
}

// WithoutPacing turns off pacing (see the package doc); 429 answers are
// still retried.
func WithoutPacing() Option {
	return func(c *config) error {
		c.pacing = false
		return nil
	}
}

// WithoutCoalescing sends every UpdateMetadata, Me and Enrollments call as
// its own request (see the package doc's section on coalescing).
func WithoutCoalescing() Option {
	return func(c *config) error {
		c.coalesce = false
		return nil
	}
}

// WithMaxWait bounds every single pacing wait and retry wait (default
// DefaultMaxWait); a wait the server asks for that is longer is cut to d.
// A call keeps retrying 429 answers that say when to come back for five
// times d after its first.
func WithMaxWait(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Millisecond || d > time.Hour {
			return fmt.Errorf("%w: max wait %v not in [1ms, 1h]", ErrOption, d)
		}
		c.maxWait = d
		return nil
	}
}

// WithCurrentUserLimit sets the per-user bucket the pacing assumes, burst
// requests refilled at perMinute per minute (default Auth0's,
// DefaultCurrentUserBurst and DefaultCurrentUserPerMinute), and paces every
// user's calls by it from the first call. Without it, a Client paces by the
// per-user bucket once it has seen an answer with X-RateLimit-* headers
// (Auth0 sends them on every answer), or, for one user, once that user's
// bucket answered 429; a tenant that sends neither (such as apitest without
// limits) is not held back.
func WithCurrentUserLimit(burst int, perMinute float64) Option {
	return func(c *config) error {
		if burst < 1 || !(perMinute > 0) || perMinute > 1e6 {
			return fmt.Errorf("%w: current_user limit burst %d, %v per minute", ErrOption, burst, perMinute)
		}
		c.userBurst, c.userPerMinute, c.userLimitSet = burst, perMinute, true
		return nil
	}
}

// WithMaxBodySize caps response bodies (default DefaultMaxBodySize); a
// larger body fails the call with ErrBodyTooLarge.
func WithMaxBodySize(n int64) Option {
	return func(c *config) error {
		if n < 1024 {
			return fmt.Errorf("%w: body size cap %d below 1024", ErrOption, n)
		}
		c.maxBody = n
		return nil
	}
}

// WithGuardOptions passes options to the scopeguard.Transport, such as
// scopeguard.WithLeeway or scopeguard.WithCacheSize. An invalid one makes
// New fail with ErrOption. scopeguard.WithBase has no effect: the transport
// below the guard is WithHTTPClient's.
func WithGuardOptions(opts ...scopeguard.Option) Option {
	return func(c *config) error {
		c.guardOpts = append(c.guardOpts, opts...)
		return nil
	}
}

// New returns a Client for the tenant at domain (such as
// "example.eu.auth0.com") that takes its token from ts. Use
// oauth2.ReuseTokenSource or an oauth2.Config's TokenSource so tokens are
// refreshed; ts.Token is called once per attempt and does not receive the
// call's context.
func New(domain string, ts oauth2.TokenSource, opts ...Option) (*Client, error) {
	if ts == nil {
		return nil, fmt.Errorf("%w: nil token source", ErrOption)
	}
	cfg := config{
		settings: settings{
			userAgent:  DefaultUserAgent,
			maxRetries: DefaultMaxRetries,
			minBackoff: 100 * time.Millisecond,
			maxBackoff: 5 * time.Second,
			maxWait:    DefaultMaxWait,
			pacing:     true,
			coalesce:   true,
		},
		maxBody:       DefaultMaxBodySize,
		userBurst:     DefaultCurrentUserBurst,
		userPerMinute: DefaultCurrentUserPerMinute,
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrOption)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.baseURL == "" {
		if domain == "" || strings.ContainsAny(domain, "/?#@ ") {
			return nil, fmt.Errorf("%w: domain %q is not a host name", ErrOption, domain)
		}
		if err := WithBaseURL("https://" + domain + "/api/v2/")(&cfg); err != nil {
			return nil, err
		}
	}
	var hc http.Client
	if cfg.hc != nil {
		hc = *cfg.hc
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	capped := &capTransport{base: base, max: cfg.maxBody, timeout: hc.Timeout, logger: cfg.logger}
	paced := &pacedTransport{base: capped, limiter: cfg.limiter}
	if cfg.pacing {
		paced.pacer = newPacer(cfg.maxWait, cfg.userBurst, cfg.userPerMinute, cfg.userLimitSet)
	}
	// The client's own base comes last: it paces, caps bodies and sees the
	// token that errors must redact, so a scopeguard.WithBase cannot
	// replace it.
	guard, err := scopeguard.New(cfg.baseURL, ts, append(cfg.guardOpts, scopeguard.WithBase(paced))...)
	if err != nil {
		// Configuration, never a refusal: it matches ErrOption and the
		// guard's own sentinel.
		return nil, fmt.Errorf("%w: %w", ErrOption, err)
	}
	paced.guard = guard
	s := &shared{settings: cfg.settings, base: cfg.baseURL, guard: guard, coalescer: newCoalescer()}
	return s.view(guard), nil
}

// view builds a Client on the shared state for one guard view.
func (s *shared) view(guard *scopeguard.Transport) *Client {
	c := &Client{shared: s, guard: guard}
	g, _ := gen.NewClient(s.base, gen.WithHTTPClient(doer{guard}), gen.WithRequestEditorFn(s.editRequest))
	c.gen = g
	return c
}

// doer sends a request through the guard in one round trip. Unlike
// http.Client it follows no redirect and copies no header for one.
type doer struct{ rt http.RoundTripper }

func (d doer) Do(req *http.Request) (*http.Response, error) { return d.rt.RoundTrip(req) }

func (s *shared) editRequest(_ context.Context, req *http.Request) error {
	req.Header.Set("User-Agent", s.userAgent)
	return nil
}

// ForToken returns a view of c that acts as the user of ts. Views are cheap:
// they share c's connection pool, rate-limit model, retry settings and
// claims cache, so one Client can serve many users. With a nil ts every call
// fails with ErrTokenSource.
func (c *Client) ForToken(ts oauth2.TokenSource) *Client {
	return c.view(c.shared.guard.WithTokenSource(ts))
}

// Claims returns the claims of the view's current token, as the guard reads
// them (without verifying the signature; the server does that).
func (c *Client) Claims(ctx context.Context) (*scopeguard.Claims, error) {
	return c.guard.Claims(ctx)
}

// exchange is one attempt's answer: its response, whose body has been read
// and closed, that body, and the tokens the call sent.
type exchange struct {
	resp   *http.Response
	body   []byte
	tokens *sentTokens
}

// sentTokens are the access tokens the attempts of one call carried, as
// capTransport saw them below the guard. A server may echo a token back;
// what reaches an error or a log line from an answer is redacted with them.
type sentTokens struct{ list []string }

type sentTokensKey struct{}

func (st *sentTokens) add(tok string) {
	if st != nil && tok != "" && !slices.Contains(st.list, tok) {
		st.list = append(st.list, tok)
	}
}

// redact replaces each token, and its long parts, in s.
func (st *sentTokens) redact(s string) string {
	if st == nil {
		return s
	}
	for _, tok := range st.list {
		s = bearer.Redact(s, tok)
	}
	return s
}

// do runs one operation with retries. send makes one attempt through the
// generated client, whose requests go through the guard and then the
// pacing. do returns the first 2xx answer, or the error that ended the
// call.
func (c *Client) do(ctx context.Context, op, method string, send func(context.Context) (*http.Response, error)) (exchange, error) {
	idempotent := method == http.MethodGet || method == http.MethodDelete
	st := &sentTokens{}
	ctx = context.WithValue(ctx, sentTokensKey{}, st)
	// uncertain: an earlier attempt failed where the server may have acted.
	uncertain := false
	var limitedSince time.Time // the call's first 429
	for attempt := 1; ; attempt++ {
		resp, body, err := c.attempt(ctx, send)
		retriesLeft := attempt <= c.maxRetries
		if err != nil {
			err = classify(op, resp, err, st)
			if !retriesLeft || ctx.Err() != nil || !retryable(err, idempotent) {
				return exchange{}, err
			}
			uncertain = uncertain || mayHaveActed(err)
			c.logRetry(ctx, op, attempt, err)
			if err := sleep(ctx, c.backoff(attempt)); err != nil {
				return exchange{}, fmt.Errorf("api: %s: %w", op, err)
			}
			continue
		}
		if resp.StatusCode/100 == 2 {
			return exchange{resp: resp, body: body, tokens: st}, nil
		}
		now := time.Now()
		apiErr := newError(op, resp, body, now, st.redact)
		apiErr.Attempts = attempt
		apiErr.uncertain = uncertain
		var wait time.Duration
		switch {
		case apiErr.StatusCode == http.StatusTooManyRequests:
			// A 429 is retried while retries are left; one that says when
			// to come back (Retry-After, X-RateLimit-*) also after that,
			// for rateLimitBudget wait bounds from the call's first 429,
			// so that a busy bucket's refill never fails a call.
			if limitedSince.IsZero() {
				limitedSince = now
			}
			informed := apiErr.RetryAfter > 0 || apiErr.RateLimit != nil
			if c.maxRetries == 0 || (!retriesLeft && (!informed || now.Sub(limitedSince) >= rateLimitBudget*c.maxWait)) {
				return exchange{}, apiErr
			}
			wait = c.retryWait(apiErr, now, attempt)
		case !retriesLeft:
			return exchange{}, apiErr
		case apiErr.StatusCode >= 500 && idempotent:
			wait = c.backoff(attempt)
		default:
			return exchange{}, apiErr
		}
		c.logRetry(ctx, op, attempt, apiErr)
		if err := sleep(ctx, wait); err != nil {
			return exchange{}, fmt.Errorf("api: %s: %w (after %w)", op, err, apiErr)
		}
	}
}

// rateLimitBudget is how long, in wait bounds (5 minutes by default), a
// call keeps retrying 429 answers that say when to come back: long enough
// for a user's bucket shared with other processes, finite so that a tenant
// that always answers 429 ends the call.
const rateLimitBudget = 5

// retryWait is how long to wait before retrying after a 429: never sooner
// than Retry-After asks, never longer than the wait bound. Without
// Retry-After, the pacing holds the retry until its model of the bucket
// has a token (it read this 429's headers); without pacing, the retry waits
// for X-RateLimit-Reset; without either, it backs off.
func (c *Client) retryWait(e *Error, now time.Time, attempt int) time.Duration {
	switch {
	case e.RetryAfter > 0:
		return min(e.RetryAfter, c.maxWait)
	case e.RateLimit != nil && c.pacing:
		return 0
	case e.RateLimit != nil && e.RateLimit.Reset.After(now):
		return min(e.RateLimit.Reset.Sub(now)+margin, c.maxWait)
	}
	return min(c.backoff(attempt), c.maxWait)
}

// attempt sends once and reads the answer's body.
func (c *Client) attempt(ctx context.Context, send func(context.Context) (*http.Response, error)) (*http.Response, []byte, error) {
	resp, err := send(ctx)
	if err != nil {
		return nil, nil, err
	}
	body, err := readBody(resp)
	resp.Body.Close()
	return resp, body, err
}

// readBody reads a response body, in one allocation when its length is
// known.
func readBody(resp *http.Response) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > 1<<20 {
		return io.ReadAll(resp.Body)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// namesOperation reports whether err is a guard refusal whose message
// already names the operation, so that wrapping it does not name it twice.
func namesOperation(err error) bool {
	var se *ScopeError
	var sj *SubjectError
	var pe *ParamError
	return errors.As(err, &se) || errors.As(err, &sj) || errors.As(err, &pe)
}

// classify wraps a failed attempt's error for the caller. resp is non-nil
// when the failure came while reading the body.
func classify(op string, resp *http.Response, err error, st *sentTokens) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL adds nothing the operation does not say
	}
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return &ResponseError{Operation: op, StatusCode: statusOf(resp), Err: ErrBodyTooLarge, tokens: st}
	case namesOperation(err):
		return fmt.Errorf("api: %w", err)
	case scopeguard.Refused(err), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("api: %s: %w", op, err)
	case resp != nil:
		return &ResponseError{Operation: op, StatusCode: resp.StatusCode, Err: err, read: true, tokens: st}
	}
	return &ConnectionError{Operation: op, Err: err, tokens: st}
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// retryable reports whether a failed attempt may be sent again: never a
// refusal by the guard or a bad response; GET and DELETE after any
// connection error; POST and PATCH only when the connection failed before
// the request could reach the server.
func retryable(err error, idempotent bool) bool {
	if scopeguard.Refused(err) {
		return false
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return re.read && idempotent
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return idempotent
}

// mayHaveActed reports whether a failed attempt may have reached the server
// and been acted on: anything but a connection that was never made.
func mayHaveActed(err error) bool {
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}

// backoff is exponential with jitter: a wait drawn uniformly from
// [minBackoff/2, minBackoff/2 + min(minBackoff·2^(attempt-1), maxBackoff)).
func (s *shared) backoff(attempt int) time.Duration {
	d := s.minBackoff << min(attempt-1, 20)
	if d > s.maxBackoff || d <= 0 {
		d = s.maxBackoff
	}
	return s.minBackoff/2 + time.Duration(rand.Int64N(int64(d)))
}

func (s *shared) logRetry(ctx context.Context, op string, attempt int, err error) {
	if s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "auth0me: retrying",
			slog.String("operation", op), slog.Int("attempt", attempt), slog.String("error", err.Error()))
	}
}
