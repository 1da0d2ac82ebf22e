package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	v1 "github.com/auth0/go-auth0/management"
	v3 "github.com/auth0/go-auth0/v3/management"
	v3client "github.com/auth0/go-auth0/v3/management/client"
	"github.com/auth0/go-auth0/v3/management/option"
)

// Library names a client library under test.
type Library string

// The libraries, auth0me first; the peers are Auth0's own Go SDK.
const (
	Auth0me Library = "auth0me"
	V1      Library = "go-auth0-v1"
	V3      Library = "go-auth0-v3"
)

// Libraries lists every library in report order.
var Libraries = []Library{Auth0me, V1, V3}

// Peers lists the libraries auth0me is compared with.
var Peers = []Library{V1, V3}

// DeviceCredential is the input of CreateDeviceCredential.
type DeviceCredential struct {
	DeviceName, DeviceID, Value, ClientID string
}

// Client is one library's way of doing the seven operations as the user
// whose token it holds. Results are decoded by the library and dropped:
// what is measured is the library's work up to a decoded value.
type Client interface {
	Me(ctx context.Context) error
	Enrollments(ctx context.Context) error
	UpdateMetadata(ctx context.Context, md map[string]any) error
	LinkIdentity(ctx context.Context, idToken string) error
	UnlinkIdentity(ctx context.Context, provider, userID string) error
	CreateDeviceCredential(ctx context.Context, d DeviceCredential) (string, error)
	DeleteDeviceCredential(ctx context.Context, id string) error
}

// Config says how to build a Client.
type Config struct {
	// Domain is the tenant's host:port and BaseURL its Management API base,
	// "http://127.0.0.1:PORT/api/v2/".
	Domain, BaseURL string
	// Token is the user's access token and UserID its sub; the peers need
	// the id spelled out, auth0me reads it from the token.
	Token, UserID string
	// HTTPClient, when non-nil, is handed to the library (its transport
	// is what the in-memory variant replaces). Nil keeps the library's
	// default client.
	HTTPClient *http.Client
	// Retries keeps the library's default retry settings; false turns
	// retries off.
	Retries bool
	// Uncoalesced turns auth0me's coalescing off.
	Uncoalesced bool
}

// New builds lib's Client for cfg.
func New(lib Library, cfg Config) (Client, error) {
	switch lib {
	case Auth0me:
		return newAuth0me(cfg)
	case V1:
		return newV1(cfg)
	case V3:
		return newV3(cfg)
	}
	return nil, fmt.Errorf("bench: unknown library %q", lib)
}

// v1Client is go-auth0 v1.35.0's management package.
type v1Client struct {
	m  *v1.Management
	id string
}

func newV1(cfg Config) (*v1Client, error) {
	// WithInsecure switches the scheme to http and sets a static token,
	// so WithStaticToken must come after it. New prefixes "https://" to the
	// domain and parses it, so host:port keeps its port.
	// For an https tenant (apitest's memory network) the scheme stays.
	opts := []v1.Option{v1.WithStaticToken(cfg.Token)}
	if !strings.HasPrefix(cfg.BaseURL, "https://") {
		opts = []v1.Option{v1.WithInsecure(), v1.WithStaticToken(cfg.Token)}
	}
	if !cfg.Retries {
		opts = append(opts, v1.WithNoRetries())
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, v1.WithClient(cfg.HTTPClient))
	}
	m, err := v1.New(cfg.Domain, opts...)
	if err != nil {
		return nil, fmt.Errorf("bench: go-auth0 v1: %w", err)
	}
	return &v1Client{m: m, id: cfg.UserID}, nil
}

func (c *v1Client) Me(ctx context.Context) error {
	_, err := c.m.User.Read(ctx, c.id)
	return err
}

func (c *v1Client) Enrollments(ctx context.Context) error {
	_, err := c.m.User.Enrollments(ctx, c.id)
	return err
}

func (c *v1Client) UpdateMetadata(ctx context.Context, md map[string]any) error {
	return c.m.User.Update(ctx, c.id, &v1.User{UserMetadata: &md})
}

func (c *v1Client) LinkIdentity(ctx context.Context, idToken string) error {
	_, err := c.m.User.Link(ctx, c.id, &v1.UserIdentityLink{LinkWith: &idToken})
	return err
}

func (c *v1Client) UnlinkIdentity(ctx context.Context, provider, userID string) error {
	_, err := c.m.User.Unlink(ctx, c.id, provider, userID)
	return err
}

func (c *v1Client) CreateDeviceCredential(ctx context.Context, d DeviceCredential) (string, error) {
	typ := "public_key"
	dc := &v1.DeviceCredential{DeviceName: &d.DeviceName, DeviceID: &d.DeviceID, Value: &d.Value, ClientID: &d.ClientID, Type: &typ}
	if err := c.m.DeviceCredentials.Create(ctx, dc); err != nil {
		return "", err
	}
	return dc.GetID(), nil
}

func (c *v1Client) DeleteDeviceCredential(ctx context.Context, id string) error {
	return c.m.DeviceCredentials.Delete(ctx, id)
}

// v3Client is go-auth0 v3.0.0's Fern-generated management client.
type v3Client struct {
	m    *v3client.Management
	id   string
	opts []option.RequestOption // per-call options; nil for a per-user client
}

func newV3(cfg Config) (*v3Client, error) {
	base := cfg.BaseURL
	if n := len(base); n > 0 && base[n-1] == '/' {
		base = base[:n-1] // v3 joins paths as baseURL + "/users/..."
	}
	opts := []option.RequestOption{option.WithBaseURL(base), option.WithToken(cfg.Token)}
	if !cfg.Retries {
		opts = append(opts, option.WithoutRetries())
	}
	if cfg.HTTPClient != nil {
		// This replaces the client v3's New builds, and with it the
		// transports that set User-Agent and Auth0-Client: the in-memory
		// figures for v3 leave that work out.
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	m, err := v3client.New(cfg.Domain, opts...)
	if err != nil {
		return nil, fmt.Errorf("bench: go-auth0 v3: %w", err)
	}
	return &v3Client{m: m, id: cfg.UserID}, nil
}

func (c *v3Client) Me(ctx context.Context) error {
	_, err := c.m.Users.Get(ctx, c.id, &v3.GetUserRequestParameters{}, c.opts...)
	return err
}

func (c *v3Client) Enrollments(ctx context.Context) error {
	_, err := c.m.Users.Enrollments.Get(ctx, c.id, c.opts...)
	return err
}

func (c *v3Client) UpdateMetadata(ctx context.Context, md map[string]any) error {
	um := v3.UserMetadata(md)
	_, err := c.m.Users.Update(ctx, c.id, &v3.UpdateUserRequestContent{UserMetadata: &um}, c.opts...)
	return err
}

func (c *v3Client) LinkIdentity(ctx context.Context, idToken string) error {
	_, err := c.m.Users.Identities.Link(ctx, c.id, &v3.LinkUserIdentityRequestContent{LinkWith: &idToken}, c.opts...)
	return err
}

func (c *v3Client) UnlinkIdentity(ctx context.Context, provider, userID string) error {
	p := v3.UserIdentityProviderEnum(provider)
	_, err := c.m.Users.Identities.Delete(ctx, c.id, &p, userID, c.opts...)
	return err
}

func (c *v3Client) CreateDeviceCredential(ctx context.Context, d DeviceCredential) (string, error) {
	res, err := c.m.DeviceCredentials.CreatePublicKey(ctx, &v3.CreatePublicKeyDeviceCredentialRequestContent{
		DeviceName: d.DeviceName,
		Type:       v3.DeviceCredentialPublicKeyTypeEnumPublicKey,
		Value:      d.Value,
		DeviceID:   d.DeviceID,
		ClientID:   &d.ClientID,
	}, c.opts...)
	if err != nil {
		return "", err
	}
	return res.ID, nil
}

func (c *v3Client) DeleteDeviceCredential(ctx context.Context, id string) error {
	return c.m.DeviceCredentials.Delete(ctx, id, c.opts...)
}
