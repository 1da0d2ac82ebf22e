package api

import (
	"encoding/json"
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

// profileStrings and profileBools are the keys of gen.UserProfileData's
// typed fields.
var (
	profileStrings = []string{"email", "family_name", "given_name", "name", "phone_number", "username"}
	profileBools   = []string{"email_verified", "phone_verified"}
)

func (p *fastProfile) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = fastProfile{}
	for _, k := range profileStrings {
		v, ok := m[k]
		if !ok {
			continue
		}
		delete(m, k)
		if v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("profileData %s is a %T, not a string", k, v)
		}
		*p.stringField(k) = &s
	}
	for _, k := range profileBools {
		v, ok := m[k]
		if !ok {
			continue
		}
		delete(m, k)
		if v == nil {
			continue
		}
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("profileData %s is a %T, not a boolean", k, v)
		}
		*p.boolField(k) = &b
	}
	if len(m) > 0 {
		p.AdditionalProperties = m
	}
	return nil
}

func (p *fastProfile) stringField(k string) **string {
	switch k {
	case "email":
		return &p.Email
	case "family_name":
		return &p.FamilyName
	case "given_name":
		return &p.GivenName
	case "name":
		return &p.Name
	case "phone_number":
		return &p.PhoneNumber
	default: // "username"
		return &p.Username
	}
}

func (p *fastProfile) boolField(k string) **bool {
	if k == "email_verified" {
		return &p.EmailVerified
	}
	return &p.PhoneVerified
}

// decodeIdentities reads an array of identities.
func decodeIdentities(op string, ex exchange) ([]Identity, error) {
	var fast []fastIdentity
	if err := json.Unmarshal(ex.body, &fast); err != nil {
		return nil, &ResponseError{Operation: op, StatusCode: ex.resp.StatusCode, Err: fmt.Errorf("decoding JSON: %w", err)}
	}
	out := make([]Identity, len(fast))
	for i := range fast {
		out[i] = fast[i].identity()
	}
	return out, nil
}
