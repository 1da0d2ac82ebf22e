package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is a user of the tenant as a test seeds or inspects it.
//
// Identities nil means one identity derived from ID: "auth0|abc" gives
// {Connection "Username-Password-Authentication", Provider "auth0", UserID
// "abc"}; "google-oauth2|1" gives {Connection "google-oauth2", Provider
// "google-oauth2", UserID "1", IsSocial true}. The first identity is the
// primary one.
//
// Metadata values are stored as JSON values (numbers become float64), as
// they would be after a round trip through Auth0.
type User struct {
	ID            string
	Email         string
	EmailVerified bool
	Username      string
	// Name defaults to Email and Nickname to the part of Email before "@",
	// as Auth0 does for database users.
	Name       string
	Nickname   string
	GivenName  string
	FamilyName string
	Picture    string
	Blocked    bool
	// CreatedAt and UpdatedAt default to the tenant clock at AddUser.
	CreatedAt    time.Time
	UpdatedAt    time.Time
	UserMetadata map[string]any
	AppMetadata  map[string]any
	Identities   []Identity
	Enrollments  []Enrollment
}

// Identity is one element of a user's identities array.
type Identity struct {
	Connection string
	Provider   string
	// UserID is the id within the provider: the part of the user id after "|".
	UserID   string
	IsSocial bool
	// ProfileData holds a linked (secondary) identity's profile; nil for the
	// primary identity.
	ProfileData map[string]any
}

// Enrollment is a Guardian MFA enrollment, as listed by GET
// /users/{id}/enrollments.
type Enrollment struct {
	ID          string
	Status      string // "pending" or "confirmed"
	Type        string
	Name        string
	Identifier  string
	PhoneNumber string
	AuthMethod  string // authenticator, guardian, sms, webauthn-platform, webauthn-roaming
	EnrolledAt  time.Time
	LastAuth    time.Time
}

// DeviceCredential is a public key device credential held by the tenant.
type DeviceCredential struct {
	ID         string
	UserID     string
	ClientID   string
	DeviceName string
	DeviceID   string
	Type       string
	Value      string
}

// ErrUserExists is returned by AddUser for an id the tenant already holds.
var ErrUserExists = errors.New("apitest: user already exists")

// ErrInvalidUser is returned by AddUser for a user it cannot store.
var ErrInvalidUser = errors.New("apitest: invalid user")

// user is the tenant's stored form: a User whose maps hold only JSON values.
type user struct {
	User
}

// splitUserID splits "provider|id"; ok is false without a "|".
func splitUserID(id string) (provider, rest string, ok bool) {
	provider, rest, ok = strings.Cut(id, "|")
	if !ok || provider == "" || rest == "" {
		return "", "", false
	}
	return provider, rest, true
}

// socialProviders lists the providers whose connection name equals the
// provider and whose identities are social; anything else not "auth0" is
// treated as an enterprise or passwordless connection named after it.
var socialProviders = map[string]bool{
	"google-oauth2": true, "github": true, "facebook": true, "twitter": true,
	"apple": true, "windowslive": true, "linkedin": true, "amazon": true,
	"bitbucket": true, "dropbox": true, "box": true, "paypal": true,
	"instagram": true, "yahoo": true, "line": true, "discord": true,
	"slack": true, "spotify": true, "twitch": true, "salesforce": true,
	"shopify": true, "wordpress": true, "vkontakte": true, "weibo": true,
	"yandex": true, "baidu": true, "bitly": true, "dwolla": true,
	"evernote": true, "evernote-sandbox": true, "exact": true, "fitbit": true,
	"renren": true, "soundcloud": true, "thecity": true, "thecity-sandbox": true,
	"thirtysevensignals": true, "planningcenter": true, "miicard": true,
	"paypal-sandbox": true, "daccount": true,
}

// identityFor derives the single identity of a user id.
func identityFor(provider, rest string) Identity {
	id := Identity{Provider: provider, UserID: rest, Connection: provider, IsSocial: socialProviders[provider]}
	switch provider {
	case "auth0":
		id.Connection = "Username-Password-Authentication"
	case "email", "sms":
		id.Connection = provider
	}
	return id
}

// AddUser adds u to the tenant. It fails with ErrUserExists when the id is
// taken and ErrInvalidUser when the id has no "provider|" prefix or the
// metadata is not JSON.
func (t *Tenant) AddUser(u User) error {
	provider, rest, ok := splitUserID(u.ID)
	if !ok {
		return fmt.Errorf("%w: id %q is not of the form provider|id", ErrInvalidUser, u.ID)
	}
	um, err := jsonObject(u.UserMetadata)
	if err != nil {
		return fmt.Errorf("%w: user_metadata: %v", ErrInvalidUser, err)
	}
	am, err := jsonObject(u.AppMetadata)
	if err != nil {
		return fmt.Errorf("%w: app_metadata: %v", ErrInvalidUser, err)
	}
	s := &user{User: u}
	s.UserMetadata, s.AppMetadata = um, am
	if u.Identities == nil {
		s.Identities = []Identity{identityFor(provider, rest)}
	} else {
		s.Identities = make([]Identity, len(u.Identities))
		for i, id := range u.Identities {
			pd, err := jsonObject(id.ProfileData)
			if err != nil {
				return fmt.Errorf("%w: identity profileData: %v", ErrInvalidUser, err)
			}
			id.ProfileData = pd
			s.Identities[i] = id
		}
	}
	if len(s.Identities) == 0 {
		return fmt.Errorf("%w: a user needs at least one identity", ErrInvalidUser)
	}
	s.Enrollments = append([]Enrollment(nil), u.Enrollments...)
	if s.Name == "" {
		s.Name = s.Email
	}
	if s.Nickname == "" && s.Email != "" {
		s.Nickname, _, _ = strings.Cut(s.Email, "@")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.users[u.ID]; dup {
		return fmt.Errorf("%w: %q", ErrUserExists, u.ID)
	}
	now := t.now()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = s.CreatedAt
	}
	t.users[u.ID] = s
	return nil
}

// User returns a deep copy of the current state of the user with id, and
// whether it exists. A user linked as a secondary no longer exists.
func (t *Tenant) User(id string) (User, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.users[id]
	if !ok {
		return User{}, false
	}
	return u.clone(), true
}

// AddDeviceCredential seeds a device credential; an empty ID is generated.
// It returns the stored credential's id.
func (t *Tenant) AddDeviceCredential(c DeviceCredential) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.ID == "" {
		c.ID = newID("dcr_", 16)
	}
	if _, dup := t.creds[c.ID]; dup {
		return "", fmt.Errorf("apitest: device credential %q already exists", c.ID)
	}
	if c.Type == "" {
		c.Type = "public_key"
	}
	t.creds[c.ID] = &c
	return c.ID, nil
}

// DeviceCredentials returns copies of the credentials held for userID.
func (t *Tenant) DeviceCredentials(userID string) []DeviceCredential {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []DeviceCredential
	for _, c := range t.creds {
		if c.UserID == userID {
			out = append(out, *c)
		}
	}
	return out
}

// SetEnrollments replaces the enrollments of user id.
func (t *Tenant) SetEnrollments(id string, es []Enrollment) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.users[id]
	if !ok {
		return fmt.Errorf("apitest: no user %q", id)
	}
	u.Enrollments = append([]Enrollment(nil), es...)
	return nil
}

func (u *user) clone() User {
	c := u.User
	c.UserMetadata = cloneMap(u.UserMetadata)
	c.AppMetadata = cloneMap(u.AppMetadata)
	c.Identities = make([]Identity, len(u.Identities))
	for i, id := range u.Identities {
		id.ProfileData = cloneMap(id.ProfileData)
		c.Identities[i] = id
	}
	c.Enrollments = append([]Enrollment(nil), u.Enrollments...)
	return c
}

// jsonObject normalises m to JSON values by a round trip. nil stays nil.
func jsonObject(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}

// Auth0 timestamps: UTC with milliseconds, e.g. 2023-01-25T19:00:50.719Z.
const auth0Time = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(auth0Time) }

// userJSON is the GET /users/{id} body, in the key order of real responses.
type userJSON struct {
	Blocked       bool           `json:"blocked"`
	CreatedAt     string         `json:"created_at"`
	Email         string         `json:"email,omitempty"`
	EmailVerified *bool          `json:"email_verified,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	Identities    []identityJSON `json:"identities"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	UpdatedAt     string         `json:"updated_at"`
	UserID        string         `json:"user_id"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	Username      string         `json:"username,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
}

// identityJSON is one identities element; profileData comes first as in the
// link and unlink recordings.
type identityJSON struct {
	ProfileData profileJSON `json:"profileData,omitempty"`
	Connection  string      `json:"connection"`
	UserID      string      `json:"user_id"`
	Provider    string      `json:"provider"`
	IsSocial    bool        `json:"isSocial"`
}

type enrollmentJSON struct {
	ID          string `json:"id,omitempty"`
	Status      string `json:"status,omitempty"`
	Type        string `json:"type,omitempty"`
	Name        string `json:"name,omitempty"`
	Identifier  string `json:"identifier,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	AuthMethod  string `json:"auth_method,omitempty"`
	EnrolledAt  string `json:"enrolled_at,omitempty"`
	LastAuth    string `json:"last_auth,omitempty"`
}

func (u *user) toJSON() userJSON {
	j := userJSON{
		Blocked:    u.Blocked,
		CreatedAt:  fmtTime(u.CreatedAt),
		Email:      u.Email,
		FamilyName: u.FamilyName,
		GivenName:  u.GivenName,
		Identities: identitiesJSON(u.Identities, nil),
		Name:       u.Name,
		Nickname:   u.Nickname,
		Picture:    u.Picture,
		UpdatedAt:  fmtTime(u.UpdatedAt),
		UserID:     u.ID,
		Username:   u.Username,
	}
	if u.Email != "" {
		v := u.EmailVerified
		j.EmailVerified = &v
	}
	if len(u.UserMetadata) > 0 {
		j.UserMetadata = u.UserMetadata
	}
	if len(u.AppMetadata) > 0 {
		j.AppMetadata = u.AppMetadata
	}
	return j
}

// identitiesJSON renders ids; primaryProfile, when non-nil, is shown as the
// first identity's profileData (link and unlink responses do this).
func identitiesJSON(ids []Identity, primaryProfile map[string]any) []identityJSON {
	out := make([]identityJSON, len(ids))
	for i, id := range ids {
		out[i] = identityJSON{ProfileData: id.ProfileData, Connection: id.Connection, UserID: id.UserID, Provider: id.Provider, IsSocial: id.IsSocial}
		if len(out[i].ProfileData) == 0 {
			out[i].ProfileData = nil
		}
	}
	if primaryProfile != nil && len(out) > 0 {
		out[0].ProfileData = primaryProfile
	}
	return out
}

// profileData is the profile Auth0 keeps for u once it becomes (or when
// showing it as) an identity, with the keys of the link recording.
func (u *user) profileData() map[string]any {
	p := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	set("email", u.Email)
	set("given_name", u.GivenName)
	set("family_name", u.FamilyName)
	set("username", u.Username)
	set("nickname", u.Nickname)
	set("picture", u.Picture)
	if u.Email != "" {
		p["email_verified"] = u.EmailVerified
	}
	return p
}

// profileJSON marshals profileData with the keys of the link recording
// first, in its order, then any other keys sorted.
type profileJSON map[string]any

var profileOrder = []string{"email", "given_name", "family_name", "username", "nickname", "picture", "email_verified"}

func (p profileJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	put := func(k string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(marshal(k))
		b.WriteByte(':')
		b.Write(marshal(p[k]))
	}
	for _, k := range profileOrder {
		if _, ok := p[k]; ok {
			put(k)
		}
	}
	rest := make([]string, 0, len(p))
	for k := range p {
		if !slices.Contains(profileOrder, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		put(k)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func enrollmentsJSON(es []Enrollment) []enrollmentJSON {
	out := make([]enrollmentJSON, len(es))
	for i, e := range es {
		out[i] = enrollmentJSON{ID: e.ID, Status: e.Status, Type: e.Type, Name: e.Name, Identifier: e.Identifier, PhoneNumber: e.PhoneNumber, AuthMethod: e.AuthMethod}
		if !e.EnrolledAt.IsZero() {
			out[i].EnrolledAt = fmtTime(e.EnrolledAt)
		}
		if !e.LastAuth.IsZero() {
			out[i].LastAuth = fmtTime(e.LastAuth)
		}
	}
	return out
}
