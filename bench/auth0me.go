package bench

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api"
)

// auth0meClient is the library under test.
type auth0meClient struct{ c *api.Client }

func newAuth0me(cfg Config) (*auth0meClient, error) {
	c, err := api.New(cfg.Domain, StaticToken(cfg.Token), auth0meOptions(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("bench: auth0me: %w", err)
	}
	return &auth0meClient{c: c}, nil
}

func auth0meOptions(cfg Config, extra ...api.Option) []api.Option {
	opts := []api.Option{api.WithBaseURL(cfg.BaseURL)}
	if !cfg.Retries {
		opts = append(opts, api.WithoutRetries())
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, api.WithHTTPClient(cfg.HTTPClient))
	}
	if cfg.Uncoalesced {
		opts = append(opts, api.WithoutCoalescing())
	}
	return append(opts, extra...)
}

// StaticToken is the token source every library is given: a fixed token,
// as oauth2.StaticTokenSource makes it.
func StaticToken(tok string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"})
}

func (a *auth0meClient) Me(ctx context.Context) error {
	_, err := a.c.Me(ctx)
	return err
}

func (a *auth0meClient) Enrollments(ctx context.Context) error {
	_, err := a.c.Enrollments(ctx)
	return err
}

func (a *auth0meClient) UpdateMetadata(ctx context.Context, md map[string]any) error {
	_, err := a.c.UpdateMetadata(ctx, md)
	return err
}

func (a *auth0meClient) LinkIdentity(ctx context.Context, idToken string) error {
	_, err := a.c.LinkIdentity(ctx, idToken)
	return err
}

func (a *auth0meClient) UnlinkIdentity(ctx context.Context, provider, userID string) error {
	_, err := a.c.UnlinkIdentity(ctx, provider, userID)
	return err
}

func (a *auth0meClient) CreateDeviceCredential(ctx context.Context, d DeviceCredential) (string, error) {
	return a.c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: d.DeviceName, DeviceID: d.DeviceID, Value: d.Value, ClientID: d.ClientID})
}

func (a *auth0meClient) DeleteDeviceCredential(ctx context.Context, id string) error {
	return a.c.DeleteDeviceCredential(ctx, id)
}
