package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/scopeguard"
)

var tokenCmd = &command{
	name:    "token",
	summary: "Show the token's subject, scopes, expiry, audience, and which of the seven operations it allows",
	examples: []string{
		"auth0me token",
		"auth0me token --token eyJhbGciOi...",
		"AUTH0_TOKEN=$(cat token.jwt) auth0me token --json | jq .operations",
	},
	run: runToken,
}

var meCmd = &command{
	name:     "me",
	summary:  "Show the signed-in user's profile (GET /users/{id})",
	examples: []string{"auth0me me", "auth0me me --json | jq .user_metadata"},
	run:      runMe,
}

var enrollmentsCmd = &command{
	name:     "enrollments",
	summary:  "List the user's MFA enrollments (GET /users/{id}/enrollments)",
	examples: []string{"auth0me enrollments", "auth0me enrollments --json"},
	run:      runEnrollments,
}

var metadataCmd = &command{
	name:    "metadata",
	summary: "Change the user's user_metadata (PATCH /users/{id})",
	sub: []*command{
		{
			name:    "set",
			args:    "KEY=VALUE...",
			summary: "Set user_metadata keys; a VALUE that parses as JSON is sent as JSON, otherwise as a string",
			examples: []string{
				`auth0me metadata set theme=dark`,
				`auth0me metadata set age=42 newsletter=true 'address={"city":"Lyon"}'`,
				`auth0me metadata set nickname='"42"'     # the string "42", not the number`,
				`auth0me metadata set theme=null          # JSON null deletes the key, like unset`,
			},
			minArgs: 1, maxArgs: -1,
			run: runMetadataSet,
		},
		{
			name:     "unset",
			args:     "KEY...",
			summary:  "Delete user_metadata keys",
			examples: []string{"auth0me metadata unset theme", "auth0me metadata unset theme address --json"},
			minArgs:  1, maxArgs: -1,
			run: runMetadataUnset,
		},
	},
}

var linkCmd = &command{
	name:    "link",
	args:    "--id-token ID_TOKEN",
	summary: "Link a second account to the user, proven by that account's ID token (POST /users/{id}/identities)",
	examples: []string{
		"auth0me link --id-token eyJhbGciOi...",
		"auth0me link --id-token - < second-account.id_token",
	},
	flags: func(fs *flag.FlagSet, o *opts) {
		fs.StringVar(&o.idToken, "id-token", "", "the second account's RS256 `ID token` (issued to the same application); - reads it from standard input")
	},
	run: runLink,
}

var unlinkCmd = &command{
	name:     "unlink",
	args:     "PROVIDER USER_ID",
	summary:  "Unlink an identity from the user (DELETE /users/{id}/identities/{provider}/{user_id})",
	examples: []string{"auth0me unlink google-oauth2 108123456789", "auth0me unlink auth0 65a1b2c3d4e5f6 --json"},
	minArgs:  2, maxArgs: 2,
	run: runUnlink,
}

var deviceCredentialCmd = &command{
	name:    "device-credential",
	summary: "Create or delete the user's device public keys (/device-credentials)",
	sub: []*command{
		{
			name:    "create",
			args:    "--name NAME --device-id ID --value BASE64 [--client-id ID]",
			summary: "Register a device's public key (POST /device-credentials)",
			examples: []string{
				"auth0me device-credential create --name 'Ada laptop' --device-id 3f2a-09bc --value MIIBIjANBg...",
				"auth0me device-credential create --name phone --device-id 0a1b2c --value $(base64 -w0 key.pub) --client-id abc123 --json",
			},
			flags: func(fs *flag.FlagSet, o *opts) {
				fs.StringVar(&o.dcName, "name", "", "device `name` the user recognises (required)")
				fs.StringVar(&o.dcDeviceID, "device-id", "", "device `id`: up to 36 hex digits and dashes (required)")
				fs.StringVar(&o.dcValue, "value", "", "the public key, `base64` (required)")
				fs.StringVar(&o.dcClientID, "client-id", "", "application `client id` the credential is for (optional)")
			},
			run: runDeviceCredentialCreate,
		},
		{
			name:     "delete",
			args:     "ID",
			summary:  "Delete a device credential (DELETE /device-credentials/{id})",
			examples: []string{"auth0me device-credential delete dcr_0000000000000001"},
			minArgs:  1, maxArgs: 1,
			run: runDeviceCredentialDelete,
		},
	},
}

func (r *runner) printJSON(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := r.out.Write(buf.Bytes())
	return err
}

// table writes aligned rows.
func table(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func derefTime(p *time.Time) string {
	if p == nil {
		return "-"
	}
	return fmtTime(*p)
}

// jsonValue renders a metadata value as compact JSON.
func jsonValue(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// tokenReport is the token command's JSON.
type tokenReport struct {
	Subject    string      `json:"subject"`
	Issuer     string      `json:"issuer"`
	Audience   []string    `json:"audience"`
	Client     string      `json:"authorized_party,omitempty"`
	Scopes     []string    `json:"scopes"`
	IssuedAt   time.Time   `json:"issued_at,omitzero"`
	ExpiresAt  time.Time   `json:"expires_at,omitzero"`
	Expired    bool        `json:"expired"`
	Source     string      `json:"source"`
	Operations []opAllowed `json:"operations"`
}

type opAllowed struct {
	ID      string   `json:"id"`
	Method  string   `json:"method"`
	Path    string   `json:"path"`
	AnyOf   []string `json:"scopes_any_of"`
	Allowed bool     `json:"allowed"`
}

func runToken(ctx context.Context, r *runner, _ []string) error {
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	tok, err := sess.ts.Token()
	if err != nil {
		return err
	}
	claims, err := scopeguard.ParseClaims(tok.AccessToken)
	if err != nil {
		return &loginErr{msg: "the token is not a readable JWT", err: err}
	}
	rep := tokenReport{
		Subject:   claims.Subject,
		Issuer:    claims.Issuer,
		Audience:  claims.Audience,
		Client:    claims.AuthorizedParty,
		Scopes:    claims.Scopes,
		IssuedAt:  claims.IssuedAt.UTC(),
		ExpiresAt: claims.Expiry.UTC(),
		Expired:   !claims.Expiry.IsZero() && !time.Now().Before(claims.Expiry),
		Source:    sess.source,
	}
	if rep.Scopes == nil {
		rep.Scopes = []string{}
	}
	for _, op := range operations() {
		rep.Operations = append(rep.Operations, opAllowed{ID: op.ID, Method: op.Method, Path: op.Path, AnyOf: op.Scopes, Allowed: claims.Allows(op)})
	}
	if r.o.json {
		return r.printJSON(rep)
	}
	var b strings.Builder
	exp := fmtTime(rep.ExpiresAt)
	switch {
	case rep.ExpiresAt.IsZero():
		exp = "- (no exp claim)"
	case rep.Expired:
		exp += " (expired)"
	default:
		exp += fmt.Sprintf(" (in %v)", time.Until(rep.ExpiresAt).Round(time.Minute))
	}
	scopes := strings.Join(rep.Scopes, " ")
	if scopes == "" {
		scopes = "(none)"
	}
	table(&b, [][]string{
		{"Subject", rep.Subject},
		{"Issuer", rep.Issuer},
		{"Audience", strings.Join(rep.Audience, " ")},
		{"Client (azp)", rep.Client},
		{"Scopes", scopes},
		{"Issued", fmtTime(rep.IssuedAt)},
		{"Expires", exp},
		{"Source", rep.Source},
	})
	if claims.IsClientCredentials() {
		b.WriteString("\nThis is a client-credentials (admin) token, not a user's: the guard refuses it.\n")
	}
	b.WriteString("\nOperations:\n")
	rows := [][]string{}
	for _, op := range rep.Operations {
		verdict, why := "allowed", "with "+strings.Join(grantedOf(op.AnyOf, claims), " ")
		if !op.Allowed {
			verdict, why = "refused", "needs "+strings.Join(op.AnyOf, " or ")
		}
		rows = append(rows, []string{"  " + verdict, op.Method, op.Path, why})
	}
	table(&b, rows)
	_, err = io.WriteString(r.out, b.String())
	return err
}

func grantedOf(anyOf []string, c *scopeguard.Claims) []string {
	var out []string
	for _, s := range anyOf {
		if c.HasScope(s) {
			out = append(out, s)
		}
	}
	return out
}

func runMe(ctx context.Context, r *runner, _ []string) error {
	c, _, err := r.client(ctx)
	if err != nil {
		return err
	}
	u, err := c.Me(ctx)
	if err != nil {
		return err
	}
	if r.o.json {
		return r.printJSON(u)
	}
	return r.printUser(u)
}

func (r *runner) printUser(u *api.User) error {
	var b strings.Builder
	email := deref(u.Email)
	if email != "" {
		if deref(u.EmailVerified) {
			email += " (verified)"
		} else {
			email += " (not verified)"
		}
	}
	rows := [][]string{
		{"User ID", deref(u.UserId)},
		{"Email", orDash(email)},
		{"Name", orDash(deref(u.Name))},
		{"Nickname", orDash(deref(u.Nickname))},
	}
	if u.Username != nil {
		rows = append(rows, []string{"Username", *u.Username})
	}
	if u.PhoneNumber != nil {
		rows = append(rows, []string{"Phone", *u.PhoneNumber})
	}
	if deref(u.Blocked) {
		rows = append(rows, []string{"Blocked", "yes"})
	}
	rows = append(rows,
		[]string{"Created", derefTime(u.CreatedAt)},
		[]string{"Updated", derefTime(u.UpdatedAt)},
	)
	if u.LastLogin != nil {
		rows = append(rows, []string{"Last login", derefTime(u.LastLogin)})
	}
	if u.LoginsCount != nil {
		rows = append(rows, []string{"Logins", fmt.Sprint(*u.LoginsCount)})
	}
	if u.Identities != nil {
		for i, id := range *u.Identities {
			label := ""
			if i == 0 {
				label = "Identities"
			}
			rows = append(rows, []string{label, identityLine(string(deref(id.Provider)), id.UserId, deref(id.Connection), deref(id.IsSocial), i == 0)})
		}
	}
	rows = append(rows, metadataRows("User metadata", map[string]any(deref(u.UserMetadata)))...)
	rows = append(rows, metadataRows("App metadata", map[string]any(deref(u.AppMetadata)))...)
	table(&b, rows)
	_, err := io.WriteString(r.out, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func metadataRows(label string, md map[string]any) [][]string {
	if len(md) == 0 {
		return [][]string{{label, "(none)"}}
	}
	var rows [][]string
	for i, k := range slices.Sorted(maps.Keys(md)) {
		l := ""
		if i == 0 {
			l = label
		}
		rows = append(rows, []string{l, k + " = " + jsonValue(md[k])})
	}
	return rows
}

// userIDString renders an identity's user_id, a string or a number.
func userIDString(id *gen.UserId) string {
	if id == nil {
		return "?"
	}
	b, err := id.MarshalJSON()
	if err != nil {
		return "?"
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return string(b)
}

func identityLine(provider string, uid *gen.UserId, connection string, social, primary bool) string {
	s := provider + "|" + userIDString(uid) + "  (connection " + connection
	if social {
		s += ", social"
	}
	if primary {
		s += ", primary"
	}
	return s + ")"
}

func runEnrollments(ctx context.Context, r *runner, _ []string) error {
	c, _, err := r.client(ctx)
	if err != nil {
		return err
	}
	es, err := c.Enrollments(ctx)
	if err != nil {
		return err
	}
	if r.o.json {
		if es == nil {
			es = []api.Enrollment{}
		}
		return r.printJSON(es)
	}
	if len(es) == 0 {
		_, err := fmt.Fprintln(r.out, "No MFA enrollments.")
		return err
	}
	rows := [][]string{{"ID", "STATUS", "METHOD", "NAME", "IDENTIFIER", "ENROLLED", "LAST USED"}}
	for _, e := range es {
		method := string(deref(e.AuthMethod))
		if method == "" {
			method = deref(e.Type)
		}
		ident := deref(e.Identifier)
		if ident == "" {
			ident = deref(e.PhoneNumber)
		}
		rows = append(rows, []string{orDash(deref(e.Id)), orDash(string(deref(e.Status))), orDash(method), orDash(deref(e.Name)), orDash(ident), derefTime(e.EnrolledAt), derefTime(e.LastAuth)})
	}
	var b strings.Builder
	table(&b, rows)
	_, err = io.WriteString(r.out, b.String())
	return err
}

// parseAssignments reads KEY=VALUE arguments: VALUE is JSON when it parses
// as JSON (null meaning delete), else the string itself.
func parseAssignments(args []string) (map[string]any, error) {
	md := make(map[string]any, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, usagef("%q is not KEY=VALUE", a)
		}
		if k == "" {
			return nil, usagef("%q has an empty key", a)
		}
		if _, dup := md[k]; dup {
			return nil, usagef("key %q is given twice", k)
		}
		md[k] = parseValue(v)
	}
	return md, nil
}

// parseValue returns v decoded as JSON (numbers kept exact) when it is one
// JSON value, else v as a string.
func parseValue(v string) any {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return v
	}
	if _, err := dec.Token(); err != io.EOF {
		return v // trailing data: not one JSON value
	}
	return out
}

func runMetadataSet(ctx context.Context, r *runner, args []string) error {
	md, err := parseAssignments(args)
	if err != nil {
		return err
	}
	return r.updateMetadata(ctx, md)
}

func runMetadataUnset(ctx context.Context, r *runner, args []string) error {
	md := make(map[string]any, len(args))
	for _, k := range args {
		if k == "" {
			return usagef("empty key")
		}
		md[k] = nil
	}
	return r.updateMetadata(ctx, md)
}

func (r *runner) updateMetadata(ctx context.Context, md map[string]any) error {
	c, _, err := r.client(ctx)
	if err != nil {
		return err
	}
	u, err := c.UpdateMetadata(ctx, md)
	if err != nil {
		return err
	}
	if r.o.json {
		return r.printJSON(u)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Updated user_metadata of %s:\n", deref(u.UserId))
	var set, unset []string
	for _, k := range slices.Sorted(maps.Keys(md)) {
		if md[k] == nil {
			unset = append(unset, k)
		} else {
			set = append(set, k)
		}
	}
	if len(set) > 0 {
		fmt.Fprintf(&b, "  set:   %s\n", strings.Join(set, " "))
	}
	if len(unset) > 0 {
		fmt.Fprintf(&b, "  unset: %s\n", strings.Join(unset, " "))
	}
	b.WriteString("Now:\n")
	rows := metadataRows("", map[string]any(deref(u.UserMetadata)))
	for i := range rows {
		rows[i][0] = " "
	}
	table(&b, rows)
	_, err = io.WriteString(r.out, b.String())
	return err
}

func runLink(ctx context.Context, r *runner, _ []string) error {
	idt := r.o.idToken
	if idt == "" {
		return usagef("link needs --id-token: the ID token of the account to link")
	}
	if idt == "-" {
		b, err := io.ReadAll(io.LimitReader(r.env.Stdin, scopeguard.MaxTokenLen+1))
		if err != nil {
			return usagef("cannot read the ID token from standard input: %v", err)
		}
		idt = strings.TrimSpace(string(b))
		if idt == "" {
			return usagef("no ID token on standard input")
		}
	}
	c, _, err := r.client(ctx)
	if err != nil {
		return err
	}
	ids, err := c.LinkIdentity(ctx, idt)
	if err != nil {
		return err
	}
	return r.printIdentities("Linked.", ids)
}

func runUnlink(ctx context.Context, r *runner, args []string) error {
	c, _, err := r.client(ctx)
	if err != nil {
		return err
	}
	ids, err := c.UnlinkIdentity(ctx, args[0], args[1])
	if err != nil {
		return err
	}
	return r.printIdentities("Unlinked "+args[0]+"|"+args[1]+".", ids)
}

func (r *runner) printIdentities(headline string, ids []api.Identity) error {
	if r.o.json {
		if ids == nil {
			ids = []api.Identity{}
		}
		return r.printJSON(ids)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s The user now has %d identit%s:\n", headline, len(ids), map[bool]string{true: "y", false: "ies"}[len(ids) == 1])
	rows := [][]string{{"  PROVIDER", "USER ID", "CONNECTION", "SOCIAL", "EMAIL"}}
	for i, id := range ids {
		email := "-"
		if id.ProfileData != nil && id.ProfileData.Email != nil {
			email = *id.ProfileData.Email
		}
		social := "no"
		if deref(id.IsSocial) {
			social = "yes"
		}
		p := "  " + id.Provider
		if i == 0 {
			p += " (primary)"
		}
		rows = append(rows, []string{p, userIDString(&id.UserId), id.Connection, social, email})
	}
	table(&b, rows)
	_, err := io.WriteString(r.out, b.String())
	return err
}

func runDeviceCredentialCreate(ctx context.Context, r *runner, _ []string) error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"--name", r.o.dcName}, {"--device-id", r.o.dcDeviceID}, {"--value", r.o.dcValue}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return usagef("device-credential create needs %s", strings.Join(missing, ", "))
	}
	c, _, err := r.client(ctx)
	if err != nil {
		return err
	}
	id, err := c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: r.o.dcName, DeviceID: r.o.dcDeviceID, Value: r.o.dcValue, ClientID: r.o.dcClientID})
	if err != nil {
		return err
	}
	if r.o.json {
		return r.printJSON(map[string]string{"id": id})
	}
	_, err = fmt.Fprintf(r.out, "Created device credential %s for %q (device %s).\n", id, r.o.dcName, r.o.dcDeviceID)
	return err
}

func runDeviceCredentialDelete(ctx context.Context, r *runner, args []string) error {
	c, _, err := r.client(ctx)
	if err != nil {
		return err
	}
	if err := c.DeleteDeviceCredential(ctx, args[0]); err != nil {
		return err
	}
	if r.o.json {
		return r.printJSON(map[string]any{"id": args[0], "deleted": true})
	}
	_, err = fmt.Fprintf(r.out, "Deleted device credential %s.\n", args[0])
	return err
}
