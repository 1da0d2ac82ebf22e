package proof

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

// guardOutcome is the guard's decision about one generated-client call.
type guardOutcome string

const (
	guardSend     guardOutcome = "send"
	guardScope    guardOutcome = "ErrInsufficientScope"
	guardSubject  guardOutcome = "ErrSubjectMismatch"
	guardEmptySeg guardOutcome = "ErrInvalidParameter (empty segment)"
	guardDotParts guardOutcome = "ErrInvalidParameter (dot or empty part inside one segment)"
	guardUnknown  guardOutcome = "ErrUnknownOperation"
)

// Server outcomes are "2xx", or the status and Auth0 errorCode of the
// tenant's answer, "-" standing for no errorCode.
const (
	server2xx         = "2xx"
	serverScope       = "403 insufficient_scope"
	serverUnowned     = "403 unowned_resource"
	serverNoRoute     = "404 -" // the tenant's answer to a path that is no operation
	serverNoCred      = "404 inexistent_device_credential"
	serverConflict    = "409 -"
	serverForbidden   = "403 -"
	serverInvalidBody = "400 invalid_body"
	// caseRefusal stands for the one server-only refusal a case is built
	// to provoke (diffForm.serverOnly), or 2xx when it names none.
	caseRefusal = "2xx, or the case's server-only refusal"
)

// correspondence is the expected relation between the guard's decision and
// apitest's answer to the same call sent with the guard bypassed. A case
// whose pair is not in its row is a mismatch.
var correspondence = map[guardOutcome][]string{
	// The guard sends: the tenant acts, unless the case provokes a refusal
	// the guard cannot foresee because it depends on server state — a
	// device credential that is not the caller's or does not exist, a
	// device already registered (409), a client_id of another application
	// (403 without errorCode), a device_id the tenant's schema refuses.
	// Never 403 insufficient_scope or unowned_resource, never an unrouted
	// 404: that would be the guard letting through what the server refuses.
	guardSend: {caseRefusal},
	// A token without any of the operation's scopes.
	guardScope: {serverScope},
	// A user id that is neither me nor the token's sub: the tenant checks
	// the subject before the scope, as the guard does.
	guardSubject: {serverUnowned},
	// An empty id leaves an empty segment in the path; the tenant routes
	// no such path.
	guardEmptySeg: {serverNoRoute},
	// An id "." or "..", sent as a segment of its own (the generated
	// client joins paths without resolving them), or one that stays one
	// escaped segment but has "."/".."/"" parts around a "/" ("../x" is
	// sent as ..%2Fx). The guard refuses it because a server or proxy that
	// resolves dot segments or decodes %2F would read a traversal; the
	// tenant reads it as the id of a resource that is not the caller's:
	// unowned for a user, for a credential insufficient scope or, with the
	// scope, no such credential. Never 2xx.
	guardDotParts: {serverUnowned, serverScope, serverNoCred},
	// ErrUnknownOperation has no row: a generated call always names its
	// own operation, so the guard never answers it one, and a case where it
	// did would be a mismatch.
}

// diffForm is one form of the id a case passes to the generated client:
// the acting user's id for /users operations, the credential id for
// DELETE /device-credentials/{id}, and a variant of the body for POST
// /device-credentials, which has no id.
type diffForm struct {
	name string
	// arg is the argument for caller c; the bypass gets the same, except
	// that Me, which only the guard substitutes, becomes the caller's sub.
	arg func(c *diffCaller) string
	// serverOnly is the tenant's refusal when the guard sends; "" for 2xx.
	serverOnly string
}

func literal(s string) func(*diffCaller) string { return func(*diffCaller) string { return s } }

// Malformed ids: "" and "." make the generated client build a path with an
// empty segment, ".." one that resolves to another path, "a/b" one escaped
// segment the guard must send intact, "../x" one escaped segment with a
// dot part (see guardDotParts). Together they reach every refusal the
// guard has for a path parameter.
var malformedForms = []diffForm{
	{name: `""`, arg: literal("")},
	{name: `"."`, arg: literal(".")},
	{name: `".."`, arg: literal("..")},
	{name: `"a/b"`, arg: literal("a/b"), serverOnly: serverNoCred},
	{name: `"../x"`, arg: literal("../x")},
}

var userForms = append([]diffForm{
	{name: "me", arg: literal(scopeguard.Me)},
	{name: "own sub", arg: func(c *diffCaller) string { return c.sub }},
	{name: "other user", arg: func(c *diffCaller) string { return c.other }},
}, malformedForms...)

var credentialForms = append([]diffForm{
	{name: "own credential", arg: func(c *diffCaller) string { return c.ownCred.ID }},
	{name: "other user's credential", arg: func(c *diffCaller) string { return c.otherCred }, serverOnly: serverNoCred},
	{name: "nonexistent credential", arg: literal("dcr_0000000000000000"), serverOnly: serverNoCred},
}, malformedForms...)

var createForms = []diffForm{
	{name: "new device", arg: literal("new")},
	{name: "device already registered", arg: literal("duplicate"), serverOnly: serverConflict},
	{name: "other application's client_id", arg: literal("foreign"), serverOnly: serverForbidden},
	{name: "device_id the schema refuses", arg: literal("baddevice"), serverOnly: serverInvalidBody},
}

// diffOp is one operation of gen.Operations, called through the
// generated client.
type diffOp struct {
	id    string
	forms []diffForm
	// userParam is set for the operations whose path names the acting
	// user, where the guard substitutes Me.
	userParam bool
	call      func(ctx context.Context, g *gen.Client, c *diffCaller, arg string) (*http.Response, error)
}

// fuzzDeviceID is the device_id FuzzDifferentialGating sends; cases of a
// fuzz worker run one at a time.
var fuzzDeviceID string

var diffOps = []diffOp{
	{id: gen.OpGetUsersByID, forms: userForms, userParam: true, call: func(ctx context.Context, g *gen.Client, _ *diffCaller, id string) (*http.Response, error) {
		return g.GetUsersByID(ctx, id, nil)
	}},
	{id: gen.OpGetEnrollments, forms: userForms, userParam: true, call: func(ctx context.Context, g *gen.Client, _ *diffCaller, id string) (*http.Response, error) {
		return g.GetEnrollments(ctx, id)
	}},
	{id: gen.OpPatchUsersByID, forms: userForms, userParam: true, call: func(ctx context.Context, g *gen.Client, _ *diffCaller, id string) (*http.Response, error) {
		md := map[string]any{"proof": "differential"}
		return g.PatchUsersByID(ctx, id, gen.PatchUsersByIDJSONRequestBody{UserMetadata: md})
	}},
	{id: gen.OpPostIdentities, forms: userForms, userParam: true, call: func(ctx context.Context, g *gen.Client, c *diffCaller, id string) (*http.Response, error) {
		return g.PostIdentities(ctx, id, gen.PostIdentitiesJSONRequestBody{LinkWith: c.secondaryIDToken})
	}},
	{id: gen.OpDeleteUserIdentityByUserID, forms: userForms, userParam: true, call: func(ctx context.Context, g *gen.Client, _ *diffCaller, id string) (*http.Response, error) {
		// An identity that is not linked: the tenant answers 200 with the
		// identities unchanged, so the case leaves no trace.
		return g.DeleteUserIdentityByUserID(ctx, id, "github", "not-linked")
	}},
	{id: gen.OpPostDeviceCredentials, forms: createForms, call: func(ctx context.Context, g *gen.Client, c *diffCaller, variant string) (*http.Response, error) {
		body := gen.PostDeviceCredentialsJSONRequestBody{DeviceName: "proof", DeviceID: "0a1b2c", Type: gen.PublicKey, Value: "cHVibGljIGtleQ=="}
		switch variant {
		case "duplicate":
			body.DeviceID = c.ownCred.DeviceID
		case "foreign":
			body.ClientID = "anotherApplicationClientID00000"
		case "baddevice":
			body.DeviceID = "not hex"
		case "fuzz":
			body.DeviceID = fuzzDeviceID
		}
		return g.PostDeviceCredentials(ctx, body)
	}},
	{id: gen.OpDeleteDeviceCredentialsByID, forms: credentialForms, call: func(ctx context.Context, g *gen.Client, _ *diffCaller, id string) (*http.Response, error) {
		return g.DeleteDeviceCredentialsByID(ctx, id)
	}},
}

// diffCaller is one user whose tokens drive the cases, with the state the
// cases rely on. Cases of one caller run one after another; callers run in
// parallel and share no state that a case changes.
type diffCaller struct {
	sub              string
	other            string // another user of the tenant
	secondary        string // the user linked (and unlinked again) by post_identities
	secondaryIDToken string
	ownCred          apitest.DeviceCredential
	otherCred        string // id of a credential of other

	tn      *apitest.Tenant
	rec     *recorder
	guarded [64]*gen.Client // per scope subset, through the guard onto rec
	bypass  [64]*gen.Client // per scope subset, straight to the tenant
	bearers [64]*bearer
	admin   *gen.Client // all scopes, straight to the tenant, to restore state
}

// diffResult is the outcome of one case.
type diffResult struct {
	guard    guardOutcome
	server   string
	mismatch string // why the case does not hold, or ""
}

// newDiffCaller mints the caller's 64 tokens and builds its clients.
func newDiffCaller(t testing.TB, tn *apitest.Tenant, sub, other, secondary, otherCred string, own apitest.DeviceCredential) *diffCaller {
	t.Helper()
	c := &diffCaller{
		sub: sub, other: other, secondary: secondary, otherCred: otherCred, ownCred: own,
		tn: tn, rec: &recorder{},
		secondaryIDToken: idToken(tn, secondary),
	}
	root, err := scopeguard.New(tn.BaseURL(), nil, scopeguard.WithBase(c.rec))
	if err != nil {
		t.Fatal(err)
	}
	base := tn.Client().Transport
	for mask := range 64 {
		tok := accessToken(tn, sub, scopeSet(mask)...)
		g, err := gen.NewClient(tn.BaseURL(), gen.WithHTTPClient(&http.Client{Transport: root.WithTokenSource(static(tok))}))
		if err != nil {
			t.Fatal(err)
		}
		c.guarded[mask] = g
		c.bearers[mask] = &bearer{token: tok, base: base}
		if c.bypass[mask], err = gen.NewClient(tn.BaseURL(), gen.WithHTTPClient(&http.Client{Transport: c.bearers[mask]})); err != nil {
			t.Fatal(err)
		}
	}
	c.admin = c.bypass[63]
	return c
}

// run runs one case: the call through the guard (which sends onto the
// recorder, never to the tenant), then the same call without the guard.
func (c *diffCaller) run(ctx context.Context, op *diffOp, f diffForm, mask int) diffResult {
	arg := f.arg(c)
	var res diffResult

	// (a) The guard's decision.
	_, gerr := op.call(ctx, c.guarded[mask], c, arg)
	sent := c.rec.take()
	leaks.err("differential: guard", gerr)
	res.guard = classifyGuard(gerr)
	switch {
	case res.guard == "":
		return diffResult{mismatch: fmt.Sprintf("the guard failed with an error that is no decision: %v", gerr)}
	case res.guard == guardSend && len(sent) != 1:
		return diffResult{guard: res.guard, mismatch: fmt.Sprintf("the guard let the call through but %d requests reached its base transport", len(sent))}
	case res.guard != guardSend && len(sent) != 0:
		return diffResult{guard: res.guard, mismatch: fmt.Sprintf("the guard refused (%v) but sent %d requests", gerr, len(sent))}
	}

	// (b) The tenant's answer with the guard bypassed. Me is the guard's
	// placeholder, which the tenant does not know: the bypass names the
	// user the guard substitutes.
	if op.userParam && arg == scopeguard.Me {
		arg = c.sub
	}
	b := c.bearers[mask]
	b.last = nil
	resp, err := op.call(ctx, c.bypass[mask], c, arg)
	if err != nil {
		return diffResult{guard: res.guard, mismatch: fmt.Sprintf("the bypassed call failed: %v", err)}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return diffResult{guard: res.guard, mismatch: fmt.Sprintf("reading the tenant's answer: %v", err)}
	}
	res.server = classifyServer(resp.StatusCode, body)
	if res.server != server2xx {
		leaks.add("differential: tenant answer", string(body))
	}

	// What the guard sends is exactly what the bypass sent: method, path
	// (Me substituted by the escaped sub), body, and the token.
	if res.guard == guardSend && b.last != nil {
		g, w := sent[0], *b.last
		if g.Method != w.Method || g.Path != w.Path || !bytes.Equal(g.Body, w.Body) || g.Auth != w.Auth {
			res.mismatch = fmt.Sprintf("the guard sent %s %s (%d body bytes, token attached: %t); the bypass sent %s %s (%d body bytes)",
				g.Method, g.Path, len(g.Body), g.Auth == w.Auth, w.Method, w.Path, len(w.Body))
		}
	}

	if res.mismatch == "" && !corresponds(res.guard, res.server, f.serverOnly) {
		res.mismatch = fmt.Sprintf("guard %s, tenant %s (%s)", res.guard, res.server, clipText(string(body)))
	}
	if resp.StatusCode/100 == 2 {
		if err := c.restore(ctx, op.id, arg, body); err != nil {
			res.mismatch = strings.TrimPrefix(res.mismatch+"; ", "; ") + "restoring state: " + err.Error()
		}
	}
	return res
}

// corresponds reports whether the pair is in the correspondence table.
func corresponds(g guardOutcome, server, serverOnly string) bool {
	for _, want := range correspondence[g] {
		if want == caseRefusal {
			want = cmpOr(serverOnly, server2xx)
		}
		if want == server {
			return true
		}
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// restore undoes what a successful bypassed call changed.
func (c *diffCaller) restore(ctx context.Context, op, arg string, body []byte) error {
	switch op {
	case gen.OpPostIdentities:
		provider, rest, _ := strings.Cut(c.secondary, "|")
		return expectStatus(c.admin.DeleteUserIdentityByUserID(ctx, c.sub, gen.UserIdentityProviderEnum(provider), rest))(http.StatusOK)
	case gen.OpPostDeviceCredentials:
		var created struct{ ID string }
		if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
			return fmt.Errorf("created credential has no id: %s", clipText(string(body)))
		}
		return expectStatus(c.admin.DeleteDeviceCredentialsByID(ctx, created.ID))(http.StatusNoContent)
	case gen.OpDeleteDeviceCredentialsByID:
		if arg != c.ownCred.ID {
			return fmt.Errorf("deleted credential %q, which is not the caller's", arg)
		}
		_, err := c.tn.AddDeviceCredential(c.ownCred)
		return err
	}
	return nil
}

func expectStatus(resp *http.Response, err error) func(int) error {
	return func(want int) error {
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("status %d, want %d: %s", resp.StatusCode, want, clipText(string(b)))
		}
		return nil
	}
}

// classifyGuard maps the guarded call's error to the guard's decision; ""
// for an error that is none.
func classifyGuard(err error) guardOutcome {
	var pe *scopeguard.ParamError
	switch {
	case err == nil:
		return guardSend
	case errors.Is(err, scopeguard.ErrInsufficientScope):
		return guardScope
	case errors.Is(err, scopeguard.ErrSubjectMismatch):
		return guardSubject
	case errors.As(err, &pe) && pe.Value == "":
		return guardEmptySeg
	case errors.Is(err, scopeguard.ErrInvalidParameter):
		return guardDotParts
	case errors.Is(err, scopeguard.ErrUnknownOperation):
		return guardUnknown
	}
	return ""
}

// classifyServer maps the tenant's answer to "2xx" or "<status> <errorCode>".
func classifyServer(status int, body []byte) string {
	if status/100 == 2 {
		return server2xx
	}
	var eb struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &eb)
	return fmt.Sprintf("%d %s", status, cmpOr(eb.ErrorCode, "-"))
}

func clipText(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// diffTenant starts the tenant of the differential: two callers (one whose
// id holds a '/', sent as %2F), another user, the callers' secondaries
// and device credentials.
func diffTenant(t testing.TB) (*apitest.Tenant, []*diffCaller) {
	t.Helper()
	tn := apitest.New(t)
	const other = "auth0|bob"
	addUsers(t, tn,
		apitest.User{ID: "auth0|alice", Email: "alice@example.com"},
		apitest.User{ID: "samlp|corp/alice", Email: "alice@corp.example"},
		apitest.User{ID: other, Email: "bob@example.com", UserMetadata: map[string]any{"untouched": true}},
		apitest.User{ID: "google-oauth2|sec-alice", Email: "alice@gmail.example"},
		apitest.User{ID: "github|sec-corp", Email: "corp@github.example"},
	)
	otherCred, err := tn.AddDeviceCredential(apitest.DeviceCredential{UserID: other, ClientID: tn.ClientID(), DeviceName: "bob's phone", DeviceID: "b0b", Value: "a2V5"})
	if err != nil {
		t.Fatal(err)
	}
	var callers []*diffCaller
	for i, s := range []struct{ sub, secondary string }{
		{"auth0|alice", "google-oauth2|sec-alice"},
		{"samlp|corp/alice", "github|sec-corp"},
	} {
		own := apitest.DeviceCredential{ID: fmt.Sprintf("dcr_proof%011d", i), UserID: s.sub, ClientID: tn.ClientID(), DeviceName: "phone", DeviceID: "dd01", Type: "public_key", Value: "a2V5"}
		if _, err := tn.AddDeviceCredential(own); err != nil {
			t.Fatal(err)
		}
		callers = append(callers, newDiffCaller(t, tn, s.sub, other, s.secondary, otherCred, own))
	}
	return tn, callers
}

// TestDifferentialGating runs every scope subset × operation × id form for
// each caller through the guard and, bypassing it, through the tenant, and
// requires every pair to be in the correspondence table.
func TestDifferentialGating(t *testing.T) {
	defer leaks.markRan("differential")
	tn, callers := diffTenant(t)
	type pair struct {
		guard  guardOutcome
		server string
	}
	results := make([]map[pair]int, len(callers))
	mismatches := make([][]string, len(callers))
	t.Run("callers", func(t *testing.T) {
		for i, c := range callers {
			t.Run(c.sub, func(t *testing.T) {
				t.Parallel()
				counts := map[pair]int{}
				for oi := range diffOps {
					op := &diffOps[oi]
					for _, f := range op.forms {
						for mask := range 64 {
							r := c.run(t.Context(), op, f, mask)
							counts[pair{r.guard, r.server}]++
							if r.mismatch != "" {
								mismatches[i] = append(mismatches[i], fmt.Sprintf("%s, %s, id %s, scopes [%s]: %s",
									c.sub, op.id, f.name, strings.Join(scopeSet(mask), " "), r.mismatch))
							}
						}
					}
				}
				results[i] = counts
			})
		}
	})

	total := map[pair]int{}
	cases := 0
	var bad []string
	for i := range callers {
		for p, n := range results[i] {
			total[p] += n
			cases += n
		}
		bad = append(bad, mismatches[i]...)
	}
	for i, m := range bad {
		if i == 20 {
			t.Errorf("... and %d more mismatches", len(bad)-20)
			break
		}
		t.Error(m)
	}
	// Every row of the table was exercised, so that none holds vacuously.
	for g := range correspondence {
		seen := false
		for p := range total {
			seen = seen || p.guard == g
		}
		if !seen {
			t.Errorf("no case had guard outcome %s", g)
		}
	}
	var lines []string
	for p, n := range total {
		lines = append(lines, fmt.Sprintf("  %-58s ↔ %-34s %5d", p.guard, p.server, n))
	}
	sort.Strings(lines)
	t.Logf("guard ↔ tenant pairs:\n%s", strings.Join(lines, "\n"))

	// The cases left the tenant as they found it.
	for _, c := range callers {
		u, ok := tn.User(c.sub)
		if !ok || len(u.Identities) != 1 {
			t.Errorf("%s: identities after the cases: %+v", c.sub, u.Identities)
		}
		if _, ok := tn.User(c.secondary); !ok {
			t.Errorf("%s: secondary %s is no longer a user", c.sub, c.secondary)
		}
		if got := tn.DeviceCredentials(c.sub); len(got) != 1 || got[0].ID != c.ownCred.ID {
			t.Errorf("%s: device credentials after the cases: %+v", c.sub, got)
		}
	}
	if u, _ := tn.User("auth0|bob"); u.UserMetadata["untouched"] != true || len(u.UserMetadata) != 1 || len(tn.DeviceCredentials("auth0|bob")) != 1 {
		t.Errorf("another user was changed: %+v", u)
	}

	want := 0
	for _, op := range diffOps {
		want += len(op.forms) * 64 * len(callers)
	}
	if cases != want {
		t.Errorf("ran %d cases, want %d", cases, want)
	}
	msg := fmt.Sprintf("differential gating: %d cases (%d callers × 64 scope subsets × %d operation/id-form pairs), %d mismatches",
		cases, len(callers), want/64/len(callers), len(bad))
	t.Log(msg)
	fmt.Println(msg)
}

// TestDifferentialDetectsAWrongGuard shows the differential can fail: a
// guard built from an operation table with one wrong entry produces
// mismatches. It swaps gen.Operations while building the guard, so it does
// not run in parallel with anything (no top-level test of this package
// does).
func TestDifferentialDetectsAWrongGuard(t *testing.T) {
	for _, tc := range []struct {
		name   string
		op     string
		mutate func(*gen.Operation)
	}{
		{"wrong scope", gen.OpGetUsersByID, func(o *gen.Operation) { o.Scopes = []string{"update:current_user_metadata"} }},
		{"no subject check", gen.OpPatchUsersByID, func(o *gen.Operation) { o.UserParam = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn, callers := diffTenant(t)
			c := callers[0]
			orig := gen.Operations
			ops := slices.Clone(orig)
			i := slices.IndexFunc(ops, func(o gen.Operation) bool { return o.ID == tc.op })
			tc.mutate(&ops[i])
			gen.Operations = ops
			root, err := scopeguard.New(tn.BaseURL(), nil, scopeguard.WithBase(c.rec))
			gen.Operations = orig
			if err != nil {
				t.Fatal(err)
			}
			for mask := range 64 {
				tok := c.bearers[mask].token
				if c.guarded[mask], err = gen.NewClient(tn.BaseURL(), gen.WithHTTPClient(&http.Client{Transport: root.WithTokenSource(static(tok))})); err != nil {
					t.Fatal(err)
				}
			}
			di := slices.IndexFunc(diffOps, func(o diffOp) bool { return o.id == tc.op })
			n := 0
			for _, f := range diffOps[di].forms {
				for mask := range 64 {
					if c.run(t.Context(), &diffOps[di], f, mask).mismatch != "" {
						n++
					}
				}
			}
			if n == 0 {
				t.Errorf("a guard with %s for %s produced no mismatch", tc.name, tc.op)
			}
			t.Logf("%s: %d mismatches", tc.name, n)
		})
	}
}
