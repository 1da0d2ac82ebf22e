package apitest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/auth0me/auth0me/internal/baseurl"
)

// DefaultClientID is the client id of a tenant started without WithClientID.
const DefaultClientID = "apitestClientID0000000000000000"

// maxBody is Auth0's documented payload limit (1 MB) for every endpoint.
const maxBody = 1 << 20

// Option configures a Tenant at Start.
type Option func(*config) error

type config struct {
	clientID  string
	clock     func() time.Time
	tls       bool
	memory    bool
	burst     int
	perSecond float64
	// The per-user bucket; userBurst 0 means off. plan: WithPlan was given,
	// which turns the per-user bucket on at Auth0's size.
	userBurst     int
	userPerMinute float64
	plan          bool
	key           *rsa.PrivateKey
	loginUser     string
	atTTL         time.Duration
	rtTTL         time.Duration
	deviceTTL     time.Duration
	interval      time.Duration
	origins       []originPattern
	addr          string
	users         []User
}

// WithClientID sets the tenant's client id: the azp of AccessToken and the
// aud of IDToken. The default is DefaultClientID.
func WithClientID(id string) Option {
	return func(c *config) error {
		if id == "" {
			return errors.New("apitest: empty client id")
		}
		c.clientID = id
		return nil
	}
}

// WithClock sets the clock used for token times, token validation, rate
// limiting and login-flow expiry. The default is time.Now, which inside a
// testing/synctest bubble is the bubble's fake clock. Delay faults and
// device-code polling intervals wait on real timers, never on this clock.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("apitest: nil clock")
		}
		c.clock = now
		return nil
	}
}

// WithTLS serves HTTPS with a fresh self-signed certificate for the
// listener's IP and "localhost"; use (*Tenant).Client to talk to it, or
// trust CertificatePEM elsewhere.
func WithTLS() Option {
	return func(c *config) error { c.tls = true; return nil }
}

// WithAddress makes the tenant listen on addr, a loopback host:port such
// as "127.0.0.1:8443" (or localhost, or [::1]), instead of "127.0.0.1:0" (a free port). Domain is
// then addr as the listener reports it.
func WithAddress(addr string) Option {
	return func(c *config) error {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("apitest: address %q: %w", addr, err)
		}
		if !baseurl.IsLoopback(host) {
			return fmt.Errorf("apitest: address %q: want a loopback host such as 127.0.0.1", addr)
		}
		c.addr = addr
		return nil
	}
}

// WithMemoryNetwork serves on an in-memory listener instead of a loopback
// socket, so that a tenant started inside a testing/synctest bubble lets the
// bubble's clock advance (a goroutine blocked on a socket is never durably
// blocked). Domain is then "apitest.invalid" and only (*Tenant).Client can
// reach the tenant.
func WithMemoryNetwork() Option {
	return func(c *config) error { c.memory = true; return nil }
}

// WithSigningKey makes the tenant sign with key instead of the 2048-bit RSA
// key every tenant of the process shares, which is generated at the first
// Start. Tokens of tenants sharing a key still differ by issuer and
// audience, but for memory-network tenants (see WithMemoryNetwork).
func WithSigningKey(key *rsa.PrivateKey) Option {
	return func(c *config) error {
		if key == nil {
			return errors.New("apitest: nil signing key")
		}
		c.key = key
		return nil
	}
}

// Tenant is a running fake Auth0 tenant. Its methods are safe for concurrent
// use. Close it when done.
type Tenant struct {
	cfg      config
	clientID string
	now      func() time.Time
	keys     *keySet

	srv      *http.Server
	ln       net.Listener
	mem      *memListener
	scheme   string
	domain   string
	client   *http.Client
	certDER  []byte
	closed   chan struct{}
	closeOne sync.Once
	serveErr chan error
	hmu      sync.Mutex
	closing  bool
	handlers sync.WaitGroup

	mu       sync.Mutex
	users    map[string]*user
	creds    map[string]*DeviceCredential
	requests []*Request
	faults   map[string]*faultState
	bucket   *bucket // the global bucket; nil when off
	// userBuckets are the per-user buckets by sub, when userPerSecond > 0.
	userBuckets   map[string]*bucket
	userPerSecond float64
	login         loginState
}

// Request is one request the tenant received, recorded before any check.
// Body holds at most 1 MB + 1 byte of the request body.
type Request struct {
	Method      string
	EscapedPath string
	RawQuery    string
	Header      http.Header
	Body        []byte
	// Status is the status the tenant answered with; 0 while the request
	// is being served, or when the connection was dropped without an
	// answer (a fault).
	Status int
}

// Start starts a tenant on a 127.0.0.1:0 listener (or in memory with
// WithMemoryNetwork) holding the users of WithUsers, if any. Close it when
// done; in a test, New does both and fails the test on an error.
func Start(opts ...Option) (*Tenant, error) {
	cfg := config{
		clientID:  DefaultClientID,
		clock:     time.Now,
		atTTL:     24 * time.Hour,
		rtTTL:     30 * 24 * time.Hour,
		deviceTTL: 15 * time.Minute,
		interval:  5 * time.Second,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	key := cfg.key
	if key == nil {
		k, err := defaultKey()
		if err != nil {
			return nil, err
		}
		key = k
	}
	ks, err := newKeySet(key)
	if err != nil {
		return nil, err
	}
	t := &Tenant{
		cfg:      cfg,
		clientID: cfg.clientID,
		now:      cfg.clock,
		keys:     ks,
		closed:   make(chan struct{}),
		serveErr: make(chan error, 1),
		users:    map[string]*user{},
		creds:    map[string]*DeviceCredential{},
		faults:   map[string]*faultState{},
	}
	t.login.init(cfg.loginUser)
	if cfg.burst > 0 {
		t.bucket = newBucket(cfg.burst, cfg.perSecond, cfg.clock())
	}
	if cfg.plan && cfg.userBurst == 0 {
		cfg.userBurst, cfg.userPerMinute = DefaultCurrentUserBurst, DefaultCurrentUserPerMinute
		t.cfg = cfg
	}
	if cfg.userBurst > 0 {
		t.userBuckets = map[string]*bucket{}
		t.userPerSecond = cfg.userPerMinute / 60
	}

	var ln net.Listener
	if cfg.memory {
		t.mem = newMemListener()
		ln = t.mem
		t.domain = memDomain
	} else {
		addr := cfg.addr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("apitest: listen: %w", err)
		}
		ln = l
		t.domain = l.Addr().String()
	}
	tr := &http.Transport{
		Proxy:             nil,
		ForceAttemptHTTP2: false,
	}
	if t.mem != nil {
		tr.DialContext = t.mem.dial
		tr.DialTLSContext = nil
	}
	t.scheme = "http"
	t.srv = &http.Server{
		Handler:           http.HandlerFunc(t.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		// Hijack (used by drop and truncate faults) needs HTTP/1.1.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.New(io.Discard, "", 0),
	}
	if cfg.tls {
		cert, pool, err := selfSigned(t.now(), ln.Addr())
		if err != nil {
			ln.Close()
			return nil, err
		}
		t.certDER = cert.Certificate[0]
		t.scheme = "https"
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, ServerName: hostOf(t.domain), MinVersion: tls.VersionTLS12}
		if t.mem != nil {
			tr.TLSClientConfig.ServerName = memDomain
		}
	}
	t.ln = ln
	t.client = &http.Client{Transport: tr}
	go func() { t.serveErr <- t.srv.Serve(ln) }()
	for _, u := range cfg.users {
		if err := t.AddUser(u); err != nil {
			t.Close()
			return nil, err
		}
	}
	return t, nil
}

// Close stops the tenant, closes every connection, waits for running handlers
// and releases the idle connections of Client. It is safe to call twice.
func (t *Tenant) Close() {
	t.closeOne.Do(func() {
		t.hmu.Lock()
		t.closing = true
		t.hmu.Unlock()
		close(t.closed)
		t.srv.Close()
		<-t.serveErr
		t.handlers.Wait()
		t.client.CloseIdleConnections()
	})
}

// Domain is the tenant's domain: the listener's host:port, e.g.
// "127.0.0.1:43121".
func (t *Tenant) Domain() string { return t.domain }

// URL is the tenant's root URL, e.g. "http://127.0.0.1:43121".
func (t *Tenant) URL() string { return t.scheme + "://" + t.domain }

// BaseURL is the Management API base, e.g. "http://127.0.0.1:43121/api/v2/".
func (t *Tenant) BaseURL() string { return t.URL() + "/api/v2/" }

// Issuer is the iss of every token the tenant signs: "https://{domain}/",
// whatever scheme the tenant serves.
func (t *Tenant) Issuer() string { return "https://" + t.domain + "/" }

// Audience is the Management API audience, "https://{domain}/api/v2/".
func (t *Tenant) Audience() string { return "https://" + t.domain + "/api/v2/" }

// ClientID is the tenant's (single) application client id.
func (t *Tenant) ClientID() string { return t.clientID }

// Client returns an *http.Client that reaches the tenant: it trusts the
// tenant's certificate under WithTLS and dials in memory under
// WithMemoryNetwork. The client is shared; Close releases its idle
// connections.
func (t *Tenant) Client() *http.Client { return t.client }

// CertificatePEM returns the tenant's TLS certificate, PEM-encoded, for
// clients outside Go to trust: a file with it is what Node reads from
// NODE_EXTRA_CA_CERTS, curl from --cacert and a browser from its trust
// store. The certificate is self-signed (its own CA) and valid for a year.
// It returns nil for a tenant started without WithTLS.
func (t *Tenant) CertificatePEM() []byte {
	if t.certDER == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: t.certDER})
}

// Requests returns a copy of every request received so far, oldest first.
func (t *Tenant) Requests() []Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Request, len(t.requests))
	for i, r := range t.requests {
		out[i] = Request{Method: r.Method, EscapedPath: r.EscapedPath, RawQuery: r.RawQuery, Header: r.Header.Clone(), Body: bytes.Clone(r.Body), Status: r.Status}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (t *Tenant) ResetRequests() {
	t.mu.Lock()
	t.requests = nil
	t.mu.Unlock()
}

func (t *Tenant) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// Add may not race with Wait in Close: closing is set under the same
	// lock before Close waits.
	t.hmu.Lock()
	if t.closing {
		t.hmu.Unlock()
		dropConn(w)
		return
	}
	t.handlers.Add(1)
	t.hmu.Unlock()
	defer t.handlers.Done()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body.Close()
	if err != nil {
		body = nil
	}
	rec := &Request{
		Method:      r.Method,
		EscapedPath: r.URL.EscapedPath(),
		RawQuery:    r.URL.RawQuery,
		Header:      r.Header.Clone(),
		Body:        bytes.Clone(body),
	}
	t.mu.Lock()
	t.requests = append(t.requests, rec)
	t.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w}
	w = sw
	defer func() {
		t.mu.Lock()
		rec.Status = sw.status
		t.mu.Unlock()
	}()

	if t.cors(w, r) {
		return
	}
	p := r.URL.EscapedPath()
	switch {
	case p == "/api/v2" || strings.HasPrefix(p, "/api/v2/"):
		t.serveManagement(w, r, body)
	case p == "/.well-known/jwks.json" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, t.keys.jwks())
	case p == "/.well-known/openid-configuration" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, t.openIDConfiguration())
	case p == "/authorize":
		t.serveAuthorize(w, r)
	case p == "/oauth/token":
		t.serveToken(w, r, body)
	case p == "/oauth/device/code":
		t.serveDeviceCode(w, r, body)
	case p == "/userinfo":
		t.serveUserinfo(w, r)
	case p == "/v2/logout" || p == "/oidc/logout":
		t.serveLogout(w, r)
	case p == "/oauth/revoke":
		t.serveRevoke(w, r, body)
	default:
		writeError(w, http.StatusNotFound, "Not Found", "")
	}
}

// statusWriter remembers the status written through it. It lets the drop
// and truncate faults hijack the connection, which leaves the status 0.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (t *Tenant) openIDConfiguration() map[string]any {
	base := t.URL()
	return map[string]any{
		"issuer":                                t.Issuer(),
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"device_authorization_endpoint":         base + "/oauth/device/code",
		"end_session_endpoint":                  base + "/oidc/logout",
		"userinfo_endpoint":                     base + "/userinfo",
		"revocation_endpoint":                   base + "/oauth/revoke",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post", "web_message"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", deviceGrant},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"scopes_supported":                      append(slices.Clone(oidcScopes), currentUserScopes...),
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
}

// selfSigned makes an ECDSA certificate for addr's IP (127.0.0.1 in
// memory), localhost and memDomain.
func selfSigned(now time.Time, addr net.Addr) (tls.Certificate, *x509.CertPool, error) {
	ip := net.IPv4(127, 0, 0, 1)
	if a, ok := addr.(*net.TCPAddr); ok {
		ip = a.IP
	}
	// A random serial: browsers refuse two certificates with one issuer
	// name and serial but different keys.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("apitest: TLS serial: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("apitest: generate TLS key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"apitest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * 365 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{ip},
		DNSNames:              []string{"localhost", memDomain},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("apitest: create TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("apitest: parse TLS certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

const memDomain = "apitest.invalid"

// hostOf returns the host of a host:port domain.
func hostOf(domain string) string {
	if h, _, err := net.SplitHostPort(domain); err == nil {
		return h
	}
	return domain
}

// memListener is a net.Listener whose connections are net.Pipe pairs.
// Closing it also closes the client ends of its connections: a server
// closing a TLS connection writes close_notify, and a write to a pipe whose
// other end is not being read would block; with the client ends closed it
// fails at once. (Under testing/synctest the TLS write deadline cannot end
// that wait, as http.Server.Close holds a mutex the connections' goroutines
// wait for, so the bubble's clock does not move.)
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	clients map[*memConn]struct{} // client ends not yet closed
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{}), clients: map[*memConn]struct{}{}}
}

// memConn is the client end of a memListener connection.
type memConn struct {
	net.Conn
	l *memListener
}

func (c *memConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.clients, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		close(l.done)
		clients := l.clients
		l.clients = map[*memConn]struct{}{}
		l.mu.Unlock()
		for c := range clients {
			c.Conn.Close()
		}
	})
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	c1, c2 := net.Pipe()
	select {
	case l.conns <- c2:
		c := &memConn{Conn: c1, l: l}
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-l.done: // closed while this connection was accepted
			c1.Close()
		default:
			l.clients[c] = struct{}{}
		}
		return c, nil
	case <-l.done:
		c1.Close()
		c2.Close()
		return nil, &net.OpError{Op: "dial", Net: "memory", Err: net.ErrClosed}
	case <-ctx.Done():
		c1.Close()
		c2.Close()
		return nil, &net.OpError{Op: "dial", Net: "memory", Err: ctx.Err()}
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return memDomain }
