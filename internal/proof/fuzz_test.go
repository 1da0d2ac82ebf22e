package proof

import (
	"regexp"
	"testing"

	"github.com/auth0me/auth0me/gen"
)

var deviceIDPattern = regexp.MustCompile(`^[-A-Fa-f0-9]{1,36}$`)

// FuzzDifferentialGating is the differential of TestDifferentialGating for
// arbitrary ids: any operation, scope subset and caller, with id as the
// path id (the device_id of the body for POST /device-credentials, which
// has no path id). The guard's decision and the tenant's answer must be a
// pair of the correspondence table, and what the guard sends must be what
// the bypass sends.
func FuzzDifferentialGating(f *testing.F) {
	_, callers := diffTenant(f)
	f.Fuzz(func(t *testing.T, op, mask uint8, id string, slashCaller bool) {
		if len(id) > 512 {
			return
		}
		c := callers[0]
		if slashCaller {
			c = callers[1]
		}
		d := &diffOps[int(op)%len(diffOps)]
		form := diffForm{name: "fuzz", arg: literal(id)}
		// The refusal the tenant gives when the guard sends, which the
		// guard cannot foresee: it depends on the tenant's state.
		switch d.id {
		case gen.OpDeleteDeviceCredentialsByID:
			if id != c.ownCred.ID {
				form.serverOnly = serverNoCred
			}
		case gen.OpPostDeviceCredentials:
			form.arg = literal("fuzz")
			switch {
			case id == c.ownCred.DeviceID:
				form.serverOnly = serverConflict
			case !deviceIDPattern.MatchString(id):
				form.serverOnly = serverInvalidBody
			}
			fuzzDeviceID = id
			defer func() { fuzzDeviceID = "" }()
		}
		r := c.run(t.Context(), d, form, int(mask&63))
		if r.mismatch != "" {
			t.Fatalf("%s, %s, id %q, scopes %v: %s", c.sub, d.id, id, scopeSet(int(mask&63)), r.mismatch)
		}
	})
}
