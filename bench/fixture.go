package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/auth0me/auth0me/api/apitest"
)

// Scopes is every scope the seven current-user operations need.
var Scopes = []string{
	"read:current_user",
	"update:current_user_metadata",
	"update:current_user_identities",
	"create:current_user_device_credentials",
	"delete:current_user_device_credentials",
}

// The users Seed adds.
const (
	PrimaryID   = "auth0|6470bench0000000000000001"
	SecondaryID = "auth0|6470bench0000000000000002"
)

// Fixture is what a benchmark needs to call one tenant as one user: where
// the tenant is, the user's tokens and the secondary account to link. It
// is JSON so that a tenant running in a helper process can hand it over.
type Fixture struct {
	Domain            string `json:"domain"`
	BaseURL           string `json:"base_url"`
	ClientID          string `json:"client_id"`
	UserID            string `json:"user_id"`
	AccessToken       string `json:"access_token"`
	SecondaryIDToken  string `json:"secondary_id_token"`
	SecondaryProvider string `json:"secondary_provider"`
	SecondaryUserID   string `json:"secondary_user_id"`
}

// Config returns the Config that calls f's tenant as f's user.
func (f Fixture) Config() Config {
	return Config{Domain: f.Domain, BaseURL: f.BaseURL, Token: f.AccessToken, UserID: f.UserID}
}

// Device is the device credential the benchmarks create, shaped like the
// recordings' (device_id is hex and '-', as Auth0 requires).
func (f Fixture) Device() DeviceCredential {
	return DeviceCredential{DeviceName: "TestDevice", DeviceID: "0123abcd-0000-4000-8000-000000000001", Value: "ABCD", ClientID: f.ClientID}
}

// Metadata is the user_metadata every UpdateMetadata call sends, taken from
// the recordings.
func Metadata() map[string]any { return map[string]any{"favourite_attack": "roundhouse_kick"} }

// Seed adds the primary and secondary users to tn and mints their tokens.
func Seed(tn *apitest.Tenant) (Fixture, error) {
	for _, u := range []apitest.User{
		{ID: PrimaryID, Email: "chuck878@example.com", EmailVerified: true, Username: "test-user636",
			GivenName: "Chuck", FamilyName: "Sanchez", Nickname: "Chucky", Picture: "https://example-picture-url.jpg",
			UserMetadata: Metadata(),
			AppMetadata:  map[string]any{"facts": []any{"count_to_infinity_twice", "kill_two_stones_with_one_bird", "can_hear_sign_language"}}},
		{ID: SecondaryID, Email: "chuck203@example.com", EmailVerified: true, Username: "test-user840",
			GivenName: "Chuck", FamilyName: "Sanchez", Nickname: "Chucky", Picture: "https://example-picture-url.jpg"},
	} {
		if err := tn.AddUser(u); err != nil {
			return Fixture{}, fmt.Errorf("bench: seed: %w", err)
		}
	}
	at := tn.AccessToken(PrimaryID, Scopes...)
	id := tn.IDToken(SecondaryID)
	if at == "" || id == "" {
		return Fixture{}, fmt.Errorf("bench: seed: the tenant signed no token")
	}
	return Fixture{
		Domain:            tn.Domain(),
		BaseURL:           tn.BaseURL(),
		ClientID:          tn.ClientID(),
		UserID:            PrimaryID,
		AccessToken:       at,
		SecondaryIDToken:  id,
		SecondaryProvider: "auth0",
		SecondaryUserID:   SecondaryID[len("auth0|"):],
	}, nil
}

// ServeTenant starts a tenant with opts, seeds it, writes the Fixture as
// one JSON line to w and serves until r ends. Each line "reset" read from r
// makes the tenant forget the requests it recorded, so that a long run does
// not grow without bound; ServeTenant answers it with a line "ok".
func ServeTenant(r io.Reader, w io.Writer, opts ...apitest.Option) error {
	tn, err := apitest.Start(opts...)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer tn.Close()
	f, err := Seed(tn)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(w).Encode(f); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == "reset" {
			tn.ResetRequests()
			if _, err := io.WriteString(w, "ok\n"); err != nil {
				return fmt.Errorf("bench: %w", err)
			}
		}
	}
	return sc.Err()
}

// MintTokens returns n access tokens signed by tn for the distinct users
// auth0|user00000, auth0|user00001, ... with scope read:current_user, and
// those users' ids. It signs on every CPU.
func MintTokens(tn *apitest.Tenant, n int) (tokens, userIDs []string, err error) {
	tokens, userIDs = make([]string, n), make([]string, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				id := fmt.Sprintf("auth0|user%05d", i)
				tok := tn.AccessToken(id, "read:current_user")
				if tok == "" {
					errs[w] = fmt.Errorf("bench: the tenant signed no token for %s", id)
					return
				}
				tokens[i], userIDs[i] = tok, id
			}
		})
	}
	wg.Wait()
	return tokens, userIDs, errors.Join(errs...)
}
