package spectrim

import (
	"strings"

	"github.com/auth0me/auth0me/gen"
)

// The rules of the current-user document live here, in code, so that trimming
// a new upstream document applies them again instead of relying on hand edits.

// opRule selects one upstream operation, by its operationId (package gen's
// constant, generated from the committed document), and says how to trim it.
type opRule struct {
	id string
	// summary and description are the project's own words.
	summary, description string
	// actingUser names the path parameter that holds the acting user's id.
	actingUser string
	// extraScopes are current-user scopes the documentation grants for the
	// operation although the upstream security list omits them.
	extraScopes []string
	// body, when set, replaces the request body schema's properties by the
	// listed ones and closes it to any other.
	body *bodyRule
}

type bodyRule struct {
	keep     []string
	required []string
}

// operations are the seven operations a user-scoped token may call, in the
// order of the documentation's scope table.
var operations = []opRule{
	{
		id:          gen.OpGetUsersByID,
		summary:     "Read the current user",
		description: "Returns the profile of the user the token was issued for.",
		actingUser:  "id",
	},
	{
		id:          gen.OpGetEnrollments,
		summary:     "List the current user's MFA enrollments",
		description: "Returns every multi-factor enrollment of the token's user; an empty array when there is none.",
		actingUser:  "id",
	},
	{
		id:          gen.OpPostIdentities,
		summary:     "Link an identity to the current user",
		description: "Links the account whose ID token is given in link_with to the token's user, who stays the primary account. Returns the primary's identities, primary first.",
		actingUser:  "id",
		body:        &bodyRule{keep: []string{"link_with"}, required: []string{"link_with"}},
	},
	{
		id:          gen.OpDeleteUserIdentityByUserID,
		summary:     "Unlink an identity from the current user",
		description: "Removes a secondary identity, named by its provider and its id without the provider prefix, from the token's user. Returns the identities that remain.",
		actingUser:  "id",
	},
	{
		id:          gen.OpPatchUsersByID,
		summary:     "Update the current user's metadata",
		description: "Merges user_metadata into the token's user at the first level: a key set to null is removed, and an empty object removes every key. A user-scoped token may change nothing else.",
		actingUser:  "id",
		extraScopes: []string{"create:current_user_metadata"},
		// user_metadata is required here because a user-scoped token may
		// send nothing else, and an empty object (remove every key) must be
		// sent rather than left out as a zero value.
		body: &bodyRule{keep: []string{"user_metadata"}, required: []string{"user_metadata"}},
	},
	{
		id:          gen.OpPostDeviceCredentials,
		summary:     "Create a public-key device credential for the current user",
		description: "Stores a public key for one of the token's user's devices. Returns the new credential's id.",
		body: &bodyRule{
			keep:     []string{"client_id", "device_id", "device_name", "type", "value"},
			required: []string{"device_id", "device_name", "type", "value"},
		},
	},
	{
		id:          gen.OpDeleteDeviceCredentialsByID,
		summary:     "Delete one of the current user's device credentials",
		description: "Deletes a device credential of the token's user.",
	},
}

// sameAs replaces references to upstream schemas that describe what another
// schema already does, so the generated code has one type for one thing: an
// identity is a UserIdentity whether it comes in a user's identities, from
// link or from unlink (FACTS.md §1.1, §1.3, §1.4: the same fields; the user's
// list types provider as an enum and leaves every field optional), and a user
// is a GetUserResponseContent whether read or updated (§1.5: the same field
// set). Upstream names are used here; goNames renames in the output.
var sameAs = map[string]object{
	"UpdateUserResponseContent":         {"$ref": "#/components/schemas/GetUserResponseContent"},
	"UserIdentitySchema":                {"$ref": "#/components/schemas/UserIdentity"},
	"DeleteUserIdentityResponseContent": {"type": "array", "items": object{"$ref": "#/components/schemas/UserIdentity"}},
}

// goNames renames schemas in the document, so that the generated types read
// as what they are (gen.User, not gen.GetUserResponseContent) and package api
// can show them under the same names. Free-form objects (metadata) are not
// named at all: a reference to one is replaced by the schema itself, which
// the generator makes a plain map[string]interface{} (see isFreeForm).
var goNames = map[string]string{
	"GetUserResponseContent": "User",
	"UserIdentity":           "Identity",
	"UsersEnrollment":        "Enrollment",
	"UserProfileData":        "ProfileData",
}

// schemaDescriptions are the project's words for the schemas users of
// package api read, by the document's names (goNames); the generator makes
// them the types' doc comments. The other rules name schemas as upstream
// does.
var schemaDescriptions = map[string]string{
	"User":        "is a user's profile, as reading or updating the current user returns it.",
	"Identity":    "is one of a user's identities; the first of a user's identities is the primary one. user_id is the id within the provider, without the provider's prefix.",
	"Enrollment":  "is one of a user's multi-factor enrollments.",
	"ProfileData": "is a linked identity's profile, as its provider gave it.",
}

// extraProperties are properties Auth0 sends that the upstream schema does
// not name: a linked identity's profileData holds the secondary's nickname and
// picture (FACTS.md §1.3, the recorded link and unlink answers).
var extraProperties = map[string]object{
	"UserProfileData": {
		"nickname": object{"type": "string"},
		"picture":  object{"type": "string"},
	},
}

// Objects with named properties are closed (additionalProperties: false), so
// each becomes a plain Go struct that encoding/json decodes in one pass and
// encodes leaving out what is absent; keys the schema does not name are not
// kept. Free-form objects (metadata: no named properties) stay maps and keep
// everything. See closeObject.

// scopeDescriptions are the project's words for the current-user scopes.
var scopeDescriptions = map[string]string{
	"read:current_user":                      "Read the signed-in user's profile and enrollments",
	"update:current_user_identities":         "Link and unlink the signed-in user's identities",
	"update:current_user_metadata":           "Change the signed-in user's user_metadata",
	"create:current_user_metadata":           "Add to the signed-in user's user_metadata",
	"create:current_user_device_credentials": "Create device credentials for the signed-in user",
	"delete:current_user_device_credentials": "Delete the signed-in user's device credentials",
}

// statusDescriptions are the project's words for each response status.
var statusDescriptions = map[string]string{
	"200": "Success.",
	"201": "Created.",
	"204": "Deleted; no body.",
	"400": "The request is malformed or breaks a rule of the operation.",
	"401": "The token is missing, malformed, expired, badly signed or meant for another audience.",
	"403": "The token lacks the scope, or names another user than its subject.",
	"404": "The user does not exist.",
	"409": "The resource already exists.",
	"429": "Rate limited; see the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.",
}

// Names of the extensions this document adds.
const (
	// ExtActingUser marks the path parameter that holds the acting user's id.
	ExtActingUser = "x-auth0me-acting-user"
	// extSkipOptionalPointer is oapi-codegen's: false keeps an optional
	// query parameter a pointer, because there absent and zero differ
	// (include_fields=false excludes the listed fields), while the
	// generator's configuration makes every other optional field a plain
	// value (gen/oapi-codegen.yaml).
	extSkipOptionalPointer = "x-go-type-skip-optional-pointer"
	// securityScheme is the name of the document's only security scheme.
	securityScheme = "currentUser"
)

// isCurrentUserScope reports whether an upstream scope is one a user-scoped
// token can hold.
func isCurrentUserScope(s string) bool {
	return strings.Contains(s, ":current_user")
}
