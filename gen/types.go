package gen

import (
	"encoding/json"
	"errors"
)

// This file is written by hand: the type the generator is told to use in
// place of the spec's UserId schema (exclude-schemas in oapi-codegen.yaml),
// and nil-safe getters for the generated pointer fields.

// UserID is an identity's user id, without its "provider|" prefix. Auth0
// sends it as a JSON string or, for some providers, a number (a wordpress
// identity's 72894558); either way it holds the text, a number's digits
// exactly as sent (ids beyond 2^53 lose nothing). It marshals as a JSON
// string, so a decoded UserID decodes again to the same value.
type UserID string

// UnmarshalJSON reads a JSON string or number. null leaves u unchanged, as
// encoding/json does for other types.
func (u *UserID) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return errUserID
	}
	switch c := b[0]; {
	case c == 'n' && string(b) == "null":
		return nil
	case c == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*u = UserID(s)
		return nil
	case c == '-' || '0' <= c && c <= '9':
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return errUserID
		}
		*u = UserID(n)
		return nil
	}
	return errUserID
}

var errUserID = errors.New("gen: user_id is neither a string nor a number")

// GetFields returns the fields parameter, or "" when it is not set. The
// optional query parameters stay pointers: an absent include_fields and
// false differ.
func (p *GetUsersByIDParams) GetFields() string {
	if p == nil || p.Fields == nil {
		return ""
	}
	return *p.Fields
}

// GetIncludeFields returns the include_fields parameter, or false when it
// is not set.
func (p *GetUsersByIDParams) GetIncludeFields() bool {
	if p == nil || p.IncludeFields == nil {
		return false
	}
	return *p.IncludeFields
}
