package bff

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/auth0me/auth0me/api"
)

// Route is one of the routes a Handler can serve: its method and path.
type Route string

// The routes. Each is served only when Allow names it.
const (
	ReadProfile            Route = "GET /me"
	ReadEnrollments        Route = "GET /me/enrollments"
	WriteMetadata          Route = "PATCH /me/metadata"
	LinkIdentity           Route = "POST /me/identities"
	UnlinkIdentity         Route = "DELETE /me/identities/{provider}/{user_id}"
	CreateDeviceCredential Route = "POST /me/device-credentials"
	DeleteDeviceCredential Route = "DELETE /me/device-credentials/{id}"
)

// Defaults for the options.
const (
	DefaultUserBurst    = 5
	DefaultUserInterval = 10 * time.Second
	DefaultMaxUsers     = 10000
	DefaultMaxBodySize  = 16 << 10
)

// ErrOption is matched by the error New returns for an invalid Option.
var ErrOption = errors.New("bff: invalid option")

// Option configures a Handler.
type Option func(*config) error

type config struct {
	allowed      []Route
	policy       MetadataPolicy
	userLimit    rate.Limit
	userBurst    int
	maxUsers     int
	maxBody      int64
	origins      []string
	logger       *slog.Logger
	loggedValues bool
}

// Allow names the routes the Handler serves; it may be given more than
// once. At least one route must be allowed.
func Allow(routes ...Route) Option {
	return func(c *config) error {
		for _, r := range routes {
			if _, ok := handlers[r]; !ok {
				return fmt.Errorf("%w: unknown route %q", ErrOption, r)
			}
		}
		c.allowed = append(c.allowed, routes...)
		return nil
	}
}

// WithMetadataPolicy sets the metadata policy. Without it no user_metadata
// key is readable or writable, and WriteMetadata may not be allowed.
func WithMetadataPolicy(p MetadataPolicy) Option {
	return func(c *config) error {
		c.policy = p
		return nil
	}
}

// WithUserLimit sets each user's allowance of Auth0 calls: a bucket of
// burst calls refilled at limit per second (default DefaultUserBurst, one
// every DefaultUserInterval). Keep it under Auth0's current-user limit of 10
// a minute.
func WithUserLimit(limit rate.Limit, burst int) Option {
	return func(c *config) error {
		if !(limit > 0) || burst < 1 {
			return fmt.Errorf("%w: user limit %v/s burst %d", ErrOption, limit, burst)
		}
		c.userLimit, c.userBurst = limit, burst
		return nil
	}
}

// WithMaxUsers bounds how many users' buckets are kept (default
// DefaultMaxUsers); the least recently seen user is forgotten first.
func WithMaxUsers(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: max users %d", ErrOption, n)
		}
		c.maxUsers = n
		return nil
	}
}

// WithMaxBodySize bounds request bodies (default DefaultMaxBodySize).
func WithMaxBodySize(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: max body size %d", ErrOption, n)
		}
		c.maxBody = n
		return nil
	}
}

// WithTrustedOrigins lets state-changing requests come from these origins
// ("scheme://host[:port]") besides the Handler's own.
func WithTrustedOrigins(origins ...string) Option {
	return func(c *config) error {
		c.origins = append(c.origins, origins...)
		return nil
	}
}

// WithLogger sets the audit logger (default none).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithLoggedValues makes the audit log hold the metadata values written,
// not only their keys.
func WithLoggedValues() Option {
	return func(c *config) error {
		c.loggedValues = true
		return nil
	}
}

// Handler serves the allowed routes for the signed-in user. It is safe for
// concurrent use.
type Handler struct {
	client       *api.Client
	user         func(*http.Request) (oauth2.TokenSource, error)
	policy       *policy
	limits       *limiters
	maxBody      int64
	csrf         *http.CrossOriginProtection
	logger       *slog.Logger
	loggedValues bool
	mux          *http.ServeMux
}

// New returns a Handler acting through client's per-user views, for the
// user whose token source user returns.
func New(client *api.Client, user func(*http.Request) (oauth2.TokenSource, error), opts ...Option) (*Handler, error) {
	if client == nil || user == nil {
		return nil, fmt.Errorf("%w: nil client or user function", ErrOption)
	}
	cfg := config{
		userLimit: rate.Every(DefaultUserInterval),
		userBurst: DefaultUserBurst,
		maxUsers:  DefaultMaxUsers,
		maxBody:   DefaultMaxBodySize,
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrOption)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if len(cfg.allowed) == 0 {
		return nil, fmt.Errorf("%w: no route allowed", ErrOption)
	}
	p, err := cfg.policy.compile()
	if err != nil {
		return nil, err
	}
	if slices.Contains(cfg.allowed, WriteMetadata) && len(p.keys) == 0 && !p.allowClear {
		return nil, fmt.Errorf("%w: WriteMetadata allowed but the metadata policy allows no key", ErrOption)
	}
	csrf := http.NewCrossOriginProtection()
	for _, o := range cfg.origins {
		if err := csrf.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrOption, err)
		}
	}
	h := &Handler{
		client:       client,
		user:         user,
		policy:       p,
		limits:       newLimiters(cfg.userLimit, cfg.userBurst, cfg.maxUsers),
		maxBody:      cfg.maxBody,
		csrf:         csrf,
		logger:       cfg.logger,
		loggedValues: cfg.loggedValues,
		mux:          http.NewServeMux(),
	}
	for _, r := range cfg.allowed {
		h.mux.Handle(string(r), h.route(r, handlers[r]))
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, errNotFound) })
	return h, nil
}

// ServeHTTP serves one request of the signed-in user.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	// ServeMux would redirect an unclean path to its clean form, which is
	// wrong under a stripped prefix.
	if p := r.URL.Path; p == "" || path.Clean(p) != p {
		writeError(w, errNotFound)
		return
	}
	h.mux.ServeHTTP(w, r)
}
