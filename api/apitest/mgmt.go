package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/auth0me/auth0me/internal/bearer"
)

// route is a matched Management API operation.
type route struct {
	op     string
	userID string // path {id} of /users routes; "" for device credentials
	args   []string
}

// opScopes lists, per operation, the scopes of the OAS "expected any of"
// message, in the OAS order.
var opScopes = map[string][]string{
	OpGetUser:                {"read:users", "read:current_user", "read:user_idp_tokens"},
	OpGetEnrollments:         {"read:users", "read:current_user"},
	OpLinkIdentity:           {"update:users", "update:current_user_identities"},
	OpUnlinkIdentity:         {"update:users", "update:current_user_identities"},
	OpPatchUser:              {"update:users", "update:users_app_metadata", "update:current_user_metadata"},
	OpCreateDeviceCredential: {"create:current_user_device_credentials"},
	OpDeleteDeviceCredential: {"delete:device_credentials", "delete:current_user_device_credentials"},
}

// extraScopes are accepted beyond the OAS list without being named in the
// 403 message: Auth0's docs map create:current_user_metadata to PATCH.
var extraScopes = map[string][]string{
	OpPatchUser: {"create:current_user_metadata"},
}

// splitPath splits an escaped path below /api/v2/ into unescaped segments.
// It fails for other paths, empty segments and bad escapes.
func splitPath(escaped string) ([]string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/api/v2/")
	if !ok || rest == "" {
		return nil, false
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		s, err := url.PathUnescape(p)
		if err != nil || s == "" {
			return nil, false
		}
		parts[i] = s
	}
	return parts, true
}

// match finds the operation for method and segments.
func match(method string, seg []string) (route, bool) {
	switch {
	case len(seg) == 2 && seg[0] == "users" && method == http.MethodGet:
		return route{op: OpGetUser, userID: seg[1]}, true
	case len(seg) == 2 && seg[0] == "users" && method == http.MethodPatch:
		return route{op: OpPatchUser, userID: seg[1]}, true
	case len(seg) == 3 && seg[0] == "users" && seg[2] == "enrollments" && method == http.MethodGet:
		return route{op: OpGetEnrollments, userID: seg[1]}, true
	case len(seg) == 3 && seg[0] == "users" && seg[2] == "identities" && method == http.MethodPost:
		return route{op: OpLinkIdentity, userID: seg[1]}, true
	case len(seg) == 5 && seg[0] == "users" && seg[2] == "identities" && method == http.MethodDelete:
		return route{op: OpUnlinkIdentity, userID: seg[1], args: seg[3:]}, true
	case len(seg) == 1 && seg[0] == "device-credentials" && method == http.MethodPost:
		return route{op: OpCreateDeviceCredential}, true
	case len(seg) == 2 && seg[0] == "device-credentials" && method == http.MethodDelete:
		return route{op: OpDeleteDeviceCredential, args: seg[1:]}, true
	}
	return route{}, false
}

// serveManagement runs the /api/v2 pipeline: rate limit, route, faults,
// authentication, subject, scope, existence, operation.
func (t *Tenant) serveManagement(w http.ResponseWriter, r *http.Request, body []byte) {
	if !t.rateLimit(w, r) {
		return
	}
	seg, ok := splitPath(r.URL.EscapedPath())
	var rt route
	if ok {
		rt, ok = match(r.Method, seg)
	}

	var f Fault
	var faulty bool
	if ok {
		f, faulty = t.takeFault(rt.op)
	}
	if faulty {
		if !t.wait(r, f.Delay) {
			dropConn(w)
			return
		}
		switch {
		case f.Drop == DropBeforeAct:
			dropConn(w)
			return
		case f.Status != 0:
			writeError(w, f.Status, "", "")
			return
		case f.Oversize > 0:
			writeRaw(w, http.StatusOK, oversizeBody(f.Oversize))
			return
		}
		if f.Drop == DropAfterAct || f.Truncate {
			rec := &recorder{header: w.Header().Clone()}
			t.authorizeAndServe(rec, r, body, rt, ok)
			if f.Drop == DropAfterAct {
				dropConn(w)
				return
			}
			truncated(w, rec.status, rec.header, rec.body.Bytes())
			return
		}
	}
	t.authorizeAndServe(w, r, body, rt, ok)
}

func (t *Tenant) authorizeAndServe(w http.ResponseWriter, r *http.Request, body []byte, rt route, routed bool) {
	if r.Header.Get("Authorization") == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "Missing authentication", "")
		return
	}
	claims, err := t.authenticate(bearer.FromHeader(r.Header))
	switch {
	case errors.Is(err, errTokenFormat):
		writeError(w, http.StatusBadRequest, err.Error(), "Bearer")
		return
	case err != nil:
		writeUnauthorized(w, err.Error())
		return
	}
	if !routed {
		writeError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	if rt.userID != "" && rt.userID != claims.Subject {
		writeError(w, http.StatusForbidden, "User to be acted on does not match subject in bearer token.", codeUnownedResource)
		return
	}
	granted := bearer.SplitScopes(claims.Scope)
	accepted := append(slices.Clone(opScopes[rt.op]), extraScopes[rt.op]...)
	if !slices.ContainsFunc(granted, func(s string) bool { return slices.Contains(accepted, s) }) {
		writeError(w, http.StatusForbidden, "Insufficient scope, expected any of: "+strings.Join(opScopes[rt.op], ","), codeInsufficientScope)
		return
	}
	t.locked(w, func(w http.ResponseWriter) {
		c := &call{t: t, w: w, r: r, body: body, rt: rt, claims: claims}
		if rt.userID != "" {
			if _, ok := t.users[rt.userID]; !ok {
				writeError(w, http.StatusNotFound, "The user does not exist.", codeInexistentUser)
				return
			}
		}
		switch rt.op {
		case OpGetUser:
			c.getUser()
		case OpGetEnrollments:
			c.getEnrollments()
		case OpPatchUser:
			c.patchUser()
		case OpLinkIdentity:
			c.link()
		case OpUnlinkIdentity:
			c.unlink()
		case OpCreateDeviceCredential:
			c.createDeviceCredential()
		case OpDeleteDeviceCredential:
			c.deleteDeviceCredential()
		}
	})
}

// locked runs f with t.mu held, buffering its answer, and writes the answer
// after unlocking, so that a slow reader never holds up the tenant.
func (t *Tenant) locked(w http.ResponseWriter, f func(http.ResponseWriter)) {
	rec := &recorder{header: w.Header()}
	t.mu.Lock()
	f(rec)
	t.mu.Unlock()
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// call is one authorised operation; it runs with t.mu held.
type call struct {
	t      *Tenant
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	rt     route
	claims claimSet
}

func (c *call) user() *user { return c.t.users[c.rt.userID] }

func (c *call) getUser() { writeJSON(c.w, http.StatusOK, c.user().toJSON()) }

func (c *call) getEnrollments() {
	writeJSON(c.w, http.StatusOK, enrollmentsJSON(c.user().Enrollments))
}

// bodyError is a 400 invalid_body in Auth0's "Payload validation error"
// wording.
func (c *call) bodyError(detail string) {
	writeError(c.w, http.StatusBadRequest, "Payload validation error: '"+detail+"'.", codeInvalidBody)
}

// readObject decodes the body as one JSON object, keeping the order of its
// root keys. It writes the error answer and returns false when it cannot.
func (c *call) readObject() (map[string]json.RawMessage, []string, bool) {
	if len(c.body) > maxBody {
		writeError(c.w, http.StatusRequestEntityTooLarge, "Payload content length greater than maximum allowance.", "")
		return nil, nil, false
	}
	obj, keys, err := decodeObject(c.body)
	if err != nil {
		c.bodyError(err.Error())
		return nil, nil, false
	}
	return obj, keys, true
}

// payloadError is the detail of a "Payload validation error" answer.
type payloadError string

func (e payloadError) Error() string { return string(e) }

// decodeObject parses b as a single JSON object and returns its members
// and the order of its keys. Duplicate keys keep the last value.
func decodeObject(b []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, payloadError("Invalid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, payloadError("Expected type object but found type " + jsonType(tok))
	}
	obj := map[string]json.RawMessage{}
	var keys []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, payloadError("Invalid JSON")
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, payloadError("Invalid JSON")
		}
		if _, dup := obj[k]; !dup {
			keys = append(keys, k)
		}
		obj[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, payloadError("Invalid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, payloadError("Invalid JSON")
	}
	return obj, keys, nil
}

func jsonType(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	default:
		return "null"
	}
}

// badKey returns the first key at any depth of v that contains "." or "$".
func badKey(v any) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if strings.ContainsAny(k, ".$") {
				return k, true
			}
			if k2, bad := badKey(v[k]); bad {
				return k2, true
			}
		}
	case []any:
		for _, e := range v {
			if k, bad := badKey(e); bad {
				return k, true
			}
		}
	}
	return "", false
}

func (c *call) patchUser() {
	obj, keys, ok := c.readObject()
	if !ok {
		return
	}
	for _, k := range keys {
		if k != "user_metadata" {
			// Current-user tokens may change user_metadata only; Auth0 answers a
			// root attribute with the PATCH insufficient-scope body.
			writeError(c.w, http.StatusForbidden, "Insufficient scope, expected any of: "+strings.Join(opScopes[OpPatchUser], ","), codeInsufficientScope)
			return
		}
	}
	u := c.user()
	if raw, ok := obj["user_metadata"]; ok {
		var patch map[string]any
		if err := json.Unmarshal(raw, &patch); err != nil || patch == nil {
			c.bodyError("Expected type object but found type " + rawType(raw) + " (user_metadata)")
			return
		}
		if k, bad := badKey(patch); bad {
			c.bodyError(fmt.Sprintf("Metadata field names cannot contain '.' or '$': %s (user_metadata)", k))
			return
		}
		if len(patch) == 0 {
			u.UserMetadata = nil
		} else {
			if u.UserMetadata == nil {
				u.UserMetadata = map[string]any{}
			}
			for k, v := range patch {
				if v == nil {
					delete(u.UserMetadata, k)
				} else {
					u.UserMetadata[k] = v
				}
			}
		}
	}
	u.UpdatedAt = c.t.now()
	writeJSON(c.w, http.StatusOK, u.toJSON())
}

func rawType(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return "null"
	}
	return jsonType(tok)
}

// link attaches the account named by the link_with ID token to the path
// user (the primary).
func (c *call) link() {
	obj, keys, ok := c.readObject()
	if !ok {
		return
	}
	for _, k := range keys {
		if k != "link_with" {
			c.bodyError("Additional properties not allowed: " + k)
			return
		}
	}
	raw, ok := obj["link_with"]
	if !ok {
		c.bodyError("Missing required property: link_with")
		return
	}
	var idt string
	if err := json.Unmarshal(raw, &idt); err != nil {
		c.bodyError("Expected type string but found type " + rawType(raw) + " (link_with)")
		return
	}
	bad := func(msg string) { writeError(c.w, http.StatusBadRequest, msg, "") }
	p, err := parseJWS(idt)
	if err != nil {
		bad("Invalid token (link_with).")
		return
	}
	if p.alg != "RS256" {
		bad("JWT (link_with) must have an alg of RS256.")
		return
	}
	claims, err := c.t.verify(p)
	if err != nil || claims.Expiry == nil || !c.t.now().Before(claims.Expiry.Time()) {
		bad("Invalid token (link_with).")
		return
	}
	if claims.Subject == "" {
		bad("JWT (link_with) must contains sub claim.")
		return
	}
	provider, rest, ok := splitUserID(claims.Subject)
	if !ok {
		bad("JWT (link_with) contains an invalid sub claim.")
		return
	}
	if claims.Issuer != c.claims.Issuer {
		bad("JWT (link_with) must have the same issuer as the calling user.")
		return
	}
	if len(claims.Audience) == 0 {
		bad("JWT (link_with) contains an invalid aud claim.")
		return
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != c.claims.Azp {
		bad("JWT (link_with) must have an aud claim that matches that of the calling token's azp.")
		return
	}
	primary := c.user()
	if claims.Subject == primary.ID {
		bad("Main identity and the new one are the same.")
		return
	}
	for _, id := range primary.Identities {
		if id.Provider == provider && id.UserID == rest {
			writeError(c.w, http.StatusConflict, "Specified identity already exists.", "")
			return
		}
	}
	secondary, ok := c.t.users[claims.Subject]
	if !ok {
		bad("Provided secondary account not found.")
		return
	}
	// The secondary's identities move to the primary; the first carries the
	// secondary's profile. Its metadata is discarded.
	moved := make([]Identity, len(secondary.Identities))
	for i, id := range secondary.Identities {
		if i == 0 {
			id.ProfileData = secondary.profileData()
		}
		moved[i] = id
	}
	primary.Identities = append(primary.Identities, moved...)
	primary.UpdatedAt = c.t.now()
	delete(c.t.users, secondary.ID)
	for _, cred := range c.t.creds {
		if cred.UserID == secondary.ID {
			cred.UserID = primary.ID
		}
	}
	writeJSON(c.w, http.StatusCreated, identitiesJSON(primary.Identities, primary.profileData()))
}

// unlink detaches identity {provider}/{user_id} from the path user.
func (c *call) unlink() {
	provider, rest := c.rt.args[0], c.rt.args[1]
	primary := c.user()
	if primary.Identities[0].Provider == provider && primary.Identities[0].UserID == rest {
		writeError(c.w, http.StatusBadRequest, "Main identity cannot be removed.", "")
		return
	}
	i := slices.IndexFunc(primary.Identities, func(id Identity) bool { return id.Provider == provider && id.UserID == rest })
	if i < 0 {
		// Not linked: nothing to remove; answer the identities unchanged.
		writeJSON(c.w, http.StatusOK, identitiesJSON(primary.Identities, primary.profileData()))
		return
	}
	gone := primary.Identities[i]
	primary.Identities = slices.Delete(slices.Clone(primary.Identities), i, i+1)
	primary.UpdatedAt = c.t.now()
	now := c.t.now()
	id := provider + "|" + rest
	if _, taken := c.t.users[id]; !taken {
		nu := &user{User: User{ID: id, CreatedAt: now, UpdatedAt: now}}
		pd := gone.ProfileData
		str := func(k string) string { s, _ := pd[k].(string); return s }
		nu.Email, nu.GivenName, nu.FamilyName = str("email"), str("given_name"), str("family_name")
		nu.Username, nu.Nickname, nu.Name, nu.Picture = str("username"), str("nickname"), str("name"), str("picture")
		nu.EmailVerified, _ = pd["email_verified"].(bool)
		if nu.Name == "" {
			nu.Name = nu.Email
		}
		gone.ProfileData = nil
		nu.Identities = []Identity{gone}
		c.t.users[id] = nu
	}
	writeJSON(c.w, http.StatusOK, identitiesJSON(primary.Identities, primary.profileData()))
}

var deviceIDPattern = regexp.MustCompile(`^[-A-Fa-f0-9]+$`)

func (c *call) createDeviceCredential() {
	obj, _, ok := c.readObject()
	if !ok {
		return
	}
	str := func(k string) (string, bool) {
		raw, ok := obj[k]
		if !ok {
			c.bodyError("Missing required property: " + k)
			return "", false
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			c.bodyError("Expected type string but found type " + rawType(raw) + " (" + k + ")")
			return "", false
		}
		return s, true
	}
	name, ok := str("device_name")
	if !ok {
		return
	}
	typ, ok := str("type")
	if !ok {
		return
	}
	value, ok := str("value")
	if !ok {
		return
	}
	deviceID, ok := str("device_id")
	if !ok {
		return
	}
	switch {
	case name == "":
		c.bodyError("String is too short (0 chars), minimum 1 (device_name)")
		return
	case typ != "public_key":
		c.bodyError("No enum match for: \"" + typ + "\" (type)")
		return
	case value == "":
		c.bodyError("String is too short (0 chars), minimum 1 (value)")
		return
	case len(deviceID) > 36:
		c.bodyError(fmt.Sprintf("String is too long (%d chars), maximum 36 (device_id)", len(deviceID)))
		return
	case !deviceIDPattern.MatchString(deviceID):
		c.bodyError("String does not match pattern ^[-A-Fa-f0-9]+$: " + deviceID + " (device_id)")
		return
	}
	clientID := c.claims.Azp
	if _, given := obj["client_id"]; given {
		cid, ok := str("client_id")
		if !ok {
			return
		}
		if cid != c.claims.Azp {
			writeError(c.w, http.StatusForbidden, "Cannot create device credentials for that client.", "")
			return
		}
	}
	owner := c.claims.Subject
	if _, ok := c.t.users[owner]; !ok {
		writeError(c.w, http.StatusForbidden, "Cannot create device credentials for that user.", "")
		return
	}
	for _, cr := range c.t.creds {
		if cr.UserID == owner && cr.DeviceID == deviceID && cr.Type == "public_key" {
			writeError(c.w, http.StatusConflict, "A public key already exists for the device.", "")
			return
		}
	}
	id := newID("dcr_", 16)
	c.t.creds[id] = &DeviceCredential{ID: id, UserID: owner, ClientID: clientID, DeviceName: name, DeviceID: deviceID, Type: typ, Value: value}
	writeJSON(c.w, http.StatusCreated, map[string]string{"id": id})
}

func (c *call) deleteDeviceCredential() {
	cr, ok := c.t.creds[c.rt.args[0]]
	if !ok || cr.UserID != c.claims.Subject {
		// A credential of another user is answered as if it did not exist.
		writeError(c.w, http.StatusNotFound, "The device credential does not exist.", "inexistent_device_credential")
		return
	}
	delete(c.t.creds, cr.ID)
	c.w.Header().Set("Content-Type", contentTypeJSON)
	c.w.WriteHeader(http.StatusNoContent)
}
