package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/internal/bearer"
	"github.com/auth0me/auth0me/scopeguard"
)

// User is a user's profile as the Management API returns it, from Me and
// UpdateMetadata. Its fields are plain values (see "Types" in the package
// doc): an absent field reads as its zero value, such as the zero time.Time
// for a date never set.
type User = gen.User

// Identity is one of a user's identities, in User.Identities and as
// LinkIdentity and UnlinkIdentity return them; the first is the primary one.
// UserID is the id within the provider (the part of the user's id after
// "|"): a string, whether Auth0 sent a string or a number.
type Identity = gen.Identity

// Enrollment is one of a user's multi-factor enrollments.
type Enrollment = gen.Enrollment

// DeviceCredential is a public key to register for one of the user's
// devices.
type DeviceCredential struct {
	// DeviceName is a name the user recognises the device by. Required.
	DeviceName string
	// DeviceID identifies the device: at most 36 characters of hex digits
	// and '-'. Required.
	DeviceID string
	// Value is the public key, base64-encoded. Required.
	Value string
	// ClientID is the application the credential is for; optional.
	ClientID string
}

// Me returns the profile of the token's user.
//
// Auth0: GET /api/v2/users/{id} (get_users_by_id), scope read:current_user.
func (c *Client) Me(ctx context.Context) (*User, error) {
	ex, err := c.shareGet(ctx, gen.OpGetUsersByID, func(ctx context.Context) (exchange, error) {
		return c.do(ctx, gen.OpGetUsersByID, http.MethodGet, func(ctx context.Context) (*http.Response, error) {
			return c.gen.GetUsersByID(ctx, scopeguard.Me, nil)
		})
	})
	if err != nil {
		return nil, err
	}
	return decodeObject[User](gen.OpGetUsersByID, ex)
}

// Enrollments returns the user's multi-factor enrollments; an empty slice
// when there are none.
//
// Auth0: GET /api/v2/users/{id}/enrollments (get_enrollments), scope
// read:current_user.
func (c *Client) Enrollments(ctx context.Context) ([]Enrollment, error) {
	ex, err := c.shareGet(ctx, gen.OpGetEnrollments, func(ctx context.Context) (exchange, error) {
		return c.do(ctx, gen.OpGetEnrollments, http.MethodGet, func(ctx context.Context) (*http.Response, error) {
			return c.gen.GetEnrollments(ctx, scopeguard.Me)
		})
	})
	if err != nil {
		return nil, err
	}
	return decodeArray[Enrollment](gen.OpGetEnrollments, ex)
}

// UpdateMetadata merges md into the user's user_metadata at the first level
// and returns the updated profile. A key whose value is nil is removed; an
// empty, non-nil md removes every key (Auth0's rule); a nested object
// replaces the stored one whole. No key, at any depth (in nested objects
// and in objects inside arrays), may contain '.' or '$', and every value
// must encode as JSON (not NaN, ±Inf, a channel or a func); otherwise the
// call fails with a *ValidationError, before sending.
//
// A PATCH is retried only after a 429 answer, never after a failure where
// the server may have acted. Concurrent calls for the same user may go as
// one PATCH (see the package doc, Coalescing); each gets its result.
//
// Auth0: PATCH /api/v2/users/{id} (patch_users_by_id), scope
// update:current_user_metadata or create:current_user_metadata.
func (c *Client) UpdateMetadata(ctx context.Context, md map[string]any) (*User, error) {
	if md == nil {
		return nil, &ValidationError{Operation: gen.OpPatchUsersByID, Field: "metadata", Reason: "nil map; pass an empty map to remove every key"}
	}
	body, err := json.Marshal(gen.PatchUsersByIDJSONRequestBody{UserMetadata: md})
	if err != nil {
		// Nothing was sent: NaN, ±Inf, a channel, a func, a failing
		// MarshalJSON.
		return nil, &ValidationError{Operation: gen.OpPatchUsersByID, Field: "metadata", Reason: "cannot be encoded as JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if k, ok := badMetadataKey(body); ok {
		return nil, &ValidationError{Operation: gen.OpPatchUsersByID, Field: "metadata key", Reason: fmt.Sprintf("%q contains '.' or '$'", clip(k))}
	}
	ex, err := c.patch(ctx, md, len(body), func(ctx context.Context, merged map[string]any) (exchange, error) {
		b := body
		if merged != nil {
			// Maps that each encoded encode together.
			b, _ = json.Marshal(gen.PatchUsersByIDJSONRequestBody{UserMetadata: merged})
		}
		return c.do(ctx, gen.OpPatchUsersByID, http.MethodPatch, func(ctx context.Context) (*http.Response, error) {
			return c.gen.PatchUsersByIDWithBody(ctx, scopeguard.Me, "application/json", bytes.NewReader(b))
		})
	})
	if err != nil {
		return nil, err
	}
	return decodeObject[User](gen.OpPatchUsersByID, ex)
}

// LinkIdentity links the account whose ID token is given to the user, who
// stays the primary account, and returns the primary's identities, primary
// first. It first refuses, with an *IDTokenError and without sending, an ID
// token Auth0 would refuse: not a JWT, not RS256, without sub, with an aud
// other than the access token's azp, or for the calling user.
//
// Auth0: POST /api/v2/users/{id}/identities (post_identities), scope
// update:current_user_identities.
func (c *Client) LinkIdentity(ctx context.Context, secondaryIDToken string) ([]Identity, error) {
	if err := c.checkIDToken(ctx, secondaryIDToken); err != nil {
		return nil, err
	}
	body := gen.PostIdentitiesJSONRequestBody{LinkWith: secondaryIDToken}
	ex, err := c.do(ctx, gen.OpPostIdentities, http.MethodPost, func(ctx context.Context) (*http.Response, error) {
		return c.gen.PostIdentities(ctx, scopeguard.Me, body)
	})
	if err != nil {
		return nil, err
	}
	return decodeArray[Identity](gen.OpPostIdentities, ex)
}

// idTokenClaims are the claims of an ID token that Auth0 checks before
// linking.
type idTokenClaims struct {
	Subject  string
	Audience jwt.Audience
}

// readIDToken reads an ID token's algorithm and claims with go-jose,
// verifying nothing, and refuses what Auth0 would refuse whoever calls:
// not a JWS, not RS256, no sub.
func readIDToken(idToken string) (*idTokenClaims, error) {
	if !bearer.IsCompact(idToken) {
		return nil, &IDTokenError{Reason: "the ID token is not a signed JWT"}
	}
	jws, err := jose.ParseSignedCompact(idToken, bearer.Algorithms)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, &IDTokenError{Reason: fmt.Sprintf("the ID token is signed with %q; Auth0 links only RS256 ID tokens", clip(string(algErr.Got)))}
		}
		return nil, &IDTokenError{Reason: "the ID token is not a signed JWT"}
	}
	if len(jws.Signatures) != 1 {
		return nil, &IDTokenError{Reason: "the ID token is not a signed JWT"}
	}
	if alg := jws.Signatures[0].Header.Algorithm; alg != string(jose.RS256) {
		return nil, &IDTokenError{Reason: fmt.Sprintf("the ID token is signed with %s; Auth0 links only RS256 ID tokens", alg)}
	}
	// Claim names are case-sensitive ("Aud" is not "aud"), and
	// encoding/json matches struct fields ignoring case: the claims are
	// read into a map, whose keys are exact, and only sub and aud are
	// decoded further.
	var raw map[string]json.RawMessage
	var c idTokenClaims
	if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &raw) != nil ||
		decodeClaim(raw["sub"], &c.Subject) != nil || decodeClaim(raw["aud"], &c.Audience) != nil {
		return nil, &IDTokenError{Reason: "the ID token's claims cannot be read"}
	}
	if c.Subject == "" {
		return nil, &IDTokenError{Reason: "the ID token has no sub claim"}
	}
	return &c, nil
}

// decodeClaim decodes a claim's value into v; an absent claim leaves v as
// it is.
func decodeClaim(value json.RawMessage, v any) error {
	if value == nil {
		return nil
	}
	return json.Unmarshal(value, v)
}

func (c *Client) checkIDToken(ctx context.Context, idToken string) error {
	idc, err := readIDToken(idToken)
	if err != nil {
		return err
	}
	at, err := c.guard.Claims(ctx)
	if err != nil {
		return fmt.Errorf("api: %s: %w", gen.OpPostIdentities, err)
	}
	if len(idc.Audience) != 1 || idc.Audience[0] != at.AuthorizedParty {
		return &IDTokenError{Reason: fmt.Sprintf("the ID token's aud %q must equal the access token's azp %q",
			clip(strings.Join(idc.Audience, " ")), clip(at.AuthorizedParty))}
	}
	if idc.Subject == at.Subject {
		return &IDTokenError{Reason: "the ID token is the calling user's own; an account cannot be linked to itself"}
	}
	return nil
}

// UnlinkIdentity removes the secondary identity of provider (such as
// "google-oauth2") and userID (the id without the "provider|" prefix) from
// the user, and returns the identities that remain.
//
// Auth0: DELETE /api/v2/users/{id}/identities/{provider}/{user_id}
// (delete_user_identity_by_user_id), scope update:current_user_identities.
func (c *Client) UnlinkIdentity(ctx context.Context, provider, userID string) ([]Identity, error) {
	if err := checkSegment(gen.OpDeleteUserIdentityByUserID, "provider", provider); err != nil {
		return nil, err
	}
	if err := checkSegment(gen.OpDeleteUserIdentityByUserID, "user id", userID); err != nil {
		return nil, err
	}
	ex, err := c.do(ctx, gen.OpDeleteUserIdentityByUserID, http.MethodDelete, func(ctx context.Context) (*http.Response, error) {
		return c.gen.DeleteUserIdentityByUserID(ctx, scopeguard.Me, gen.UserIdentityProviderEnum(provider), userID)
	})
	if err != nil {
		return nil, err
	}
	return decodeArray[Identity](gen.OpDeleteUserIdentityByUserID, ex)
}

var deviceIDPattern = regexp.MustCompile(`^[-A-Fa-f0-9]+$`)

// CreateDeviceCredential registers a public key for one of the user's
// devices and returns the new credential's id. The type is always
// public_key. Required fields and the device id's form are checked before
// sending. A POST is retried only after a 429 answer.
//
// Auth0: POST /api/v2/device-credentials (post_device-credentials), scope
// create:current_user_device_credentials.
func (c *Client) CreateDeviceCredential(ctx context.Context, dc DeviceCredential) (string, error) {
	switch {
	case dc.DeviceName == "":
		return "", &ValidationError{Operation: gen.OpPostDeviceCredentials, Field: "DeviceName", Reason: "required"}
	case dc.Value == "":
		return "", &ValidationError{Operation: gen.OpPostDeviceCredentials, Field: "Value", Reason: "required"}
	case dc.DeviceID == "":
		return "", &ValidationError{Operation: gen.OpPostDeviceCredentials, Field: "DeviceID", Reason: "required"}
	case len(dc.DeviceID) > 36 || !deviceIDPattern.MatchString(dc.DeviceID):
		return "", &ValidationError{Operation: gen.OpPostDeviceCredentials, Field: "DeviceID", Reason: "at most 36 characters of hex digits and '-'"}
	}
	body := gen.PostDeviceCredentialsJSONRequestBody{
		DeviceName: dc.DeviceName,
		DeviceID:   dc.DeviceID,
		Value:      dc.Value,
		Type:       gen.PublicKey,
		ClientID:   dc.ClientID,
	}
	ex, err := c.do(ctx, gen.OpPostDeviceCredentials, http.MethodPost, func(ctx context.Context) (*http.Response, error) {
		return c.gen.PostDeviceCredentials(ctx, body)
	})
	if err != nil {
		return "", err
	}
	out, err := decodeObject[gen.CreatePublicKeyDeviceCredentialResponseContent](gen.OpPostDeviceCredentials, ex)
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", badResponse(gen.OpPostDeviceCredentials, ex, errors.New("the answer has no credential id"))
	}
	return out.ID, nil
}

// DeleteDeviceCredential deletes one of the user's device credentials.
//
// A DELETE is retried after a failure where the server may have acted (a
// connection dropped after sending). When such a retry is answered 404, the
// credential is gone, but whether this call deleted it, or it never existed
// or was never the user's, cannot be told: no operation the token allows
// reads a credential back. That outcome is a *MaybeDeletedError, which
// matches ErrNotFound, rather than a success that may be false.
//
// Auth0: DELETE /api/v2/device-credentials/{id}
// (delete_device-credentials_by_id), scope
// delete:current_user_device_credentials.
func (c *Client) DeleteDeviceCredential(ctx context.Context, id string) error {
	if err := checkSegment(gen.OpDeleteDeviceCredentialsByID, "id", id); err != nil {
		return err
	}
	_, err := c.do(ctx, gen.OpDeleteDeviceCredentialsByID, http.MethodDelete, func(ctx context.Context) (*http.Response, error) {
		return c.gen.DeleteDeviceCredentialsByID(ctx, id)
	})
	if err == nil {
		return nil
	}
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.uncertain {
		return &MaybeDeletedError{ID: id, Err: apiErr}
	}
	return err
}

// badMetadataKey returns the first key containing '.' or '$' of the objects
// nested, at any depth, in the body of a metadata PATCH (whose one top-level
// key is user_metadata), and whether there is one.
func badMetadataKey(body []byte) (string, bool) {
	if !bytes.ContainsAny(body, ".$") {
		return "", false // no key can hold what the body does not
	}
	var top map[string]any
	if json.Unmarshal(body, &top) != nil {
		return "", false
	}
	var walk func(v any) (string, bool)
	walk = func(v any) (string, bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if strings.ContainsAny(k, ".$") {
					return k, true
				}
				if k, ok := walk(e); ok {
					return k, true
				}
			}
		case []any:
			for _, e := range v {
				if k, ok := walk(e); ok {
					return k, true
				}
			}
		}
		return "", false
	}
	return walk(top["user_metadata"])
}

// checkSegment refuses path parameters that would resolve to another
// endpoint once in the URL.
func checkSegment(op, field, v string) error {
	switch v {
	case "":
		return &ValidationError{Operation: op, Field: field, Reason: "empty"}
	case ".", "..":
		return &ValidationError{Operation: op, Field: field, Reason: fmt.Sprintf("%q is not an id", v)}
	}
	return nil
}
