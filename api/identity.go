package api

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/auth0me/auth0me/gen"
)

// The generated UserProfileData keeps the keys its schema does not name in
// AdditionalProperties, through an UnmarshalJSON that decodes every value
// twice (into json.RawMessage, then into its field). Identities are decoded
// here in one pass instead, into twins of the generated types that
// TestIdentityTwinsMatchGenerated keeps in step with them.

// fastIdentity is gen.UserIdentity field for field, but for ProfileData.
type fastIdentity struct {
	AccessToken       *string      `json:"access_token,omitempty"`
	AccessTokenSecret *string      `json:"access_token_secret,omitempty"`
	Connection        string       `json:"connection"`
	IsSocial          *bool        `json:"isSocial,omitempty"`
	ProfileData       *fastProfile `json:"profileData,omitempty"`
	Provider          string       `json:"provider"`
	RefreshToken      *string      `json:"refresh_token,omitempty"`
	UserId            gen.UserId   `json:"user_id"`
}

func (f *fastIdentity) identity() Identity {
	return Identity{
		AccessToken:       f.AccessToken,
		AccessTokenSecret: f.AccessTokenSecret,
		Connection:        f.Connection,
		IsSocial:          f.IsSocial,
		ProfileData:       (*gen.UserProfileData)(f.ProfileData),
		Provider:          f.Provider,
		RefreshToken:      f.RefreshToken,
		UserId:            f.UserId,
	}
}

// fastProfile is gen.UserProfileData decoded in one pass.
type fastProfile gen.UserProfileData

func (p *fastProfile) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = fastProfile{}
	if err := errors.Join(
		take(m, "email", &p.Email),
		take(m, "email_verified", &p.EmailVerified),
		take(m, "family_name", &p.FamilyName),
		take(m, "given_name", &p.GivenName),
		take(m, "name", &p.Name),
		take(m, "phone_number", &p.PhoneNumber),
		take(m, "phone_verified", &p.PhoneVerified),
		take(m, "username", &p.Username),
	); err != nil {
		return err
	}
	if len(m) > 0 {
		p.AdditionalProperties = m
	}
	return nil
}

// take moves key k out of m into *dst, which stays nil for a null value.
func take[T string | bool](m map[string]any, k string, dst **T) error {
	v, ok := m[k]
	if !ok {
		return nil
	}
	delete(m, k)
	if v == nil {
		return nil
	}
	t, ok := v.(T)
	if !ok {
		return fmt.Errorf("profileData %s is a %T, not a %T", k, v, t)
	}
	*dst = &t
	return nil
}

// decodeIdentities reads an array of identities.
func decodeIdentities(op string, ex exchange) ([]Identity, error) {
	var fast []fastIdentity
	if err := decode(op, ex, &fast); err != nil {
		return nil, err
	}
	out := make([]Identity, len(fast))
	for i := range fast {
		out[i] = fast[i].identity()
	}
	return out, nil
}
