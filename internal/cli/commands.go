package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/gen"
	"github.com/spf13/cobra"
)

// run picks the function a command runs: runF when a test gave one, else
// the command's own.
func run[O any](runF, own func(context.Context, *O) error) func(context.Context, *O) error {
	if runF != nil {
		return runF
	}
	return own
}

// newNoArgsCmd is a command that takes no positional arguments and runs
// runF, else own, on o; the caller adds its flags and longer help.
func newNoArgsCmd[O any](o *O, use, short, example string, runF, own func(context.Context, *O) error) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(runF, own)(cmd.Context(), o)
		},
	}
}

type meOptions struct{ f *factory }

func newCmdMe(f *factory, runF func(context.Context, *meOptions) error) *cobra.Command {
	return newNoArgsCmd(&meOptions{f: f}, "me", "Show the signed-in user's profile (GET /users/{id})", "auth0me me\nauth0me me --json | jq .user_metadata", runF, runMe)
}

type enrollmentsOptions struct{ f *factory }

func newCmdEnrollments(f *factory, runF func(context.Context, *enrollmentsOptions) error) *cobra.Command {
	return newNoArgsCmd(&enrollmentsOptions{f: f}, "enrollments", "List the user's MFA enrollments (GET /users/{id}/enrollments)", "auth0me enrollments\nauth0me enrollments --json", runF, runEnrollments)
}

func newCmdMetadata(f *factory) *cobra.Command {
	return newGroup(f, "metadata", "Read or change the user's user_metadata (GET and PATCH /users/{id})",
		newCmdMetadataGet(f, nil), newCmdMetadataSet(f, nil), newCmdMetadataUnset(f, nil))
}

type metadataGetOptions struct {
	f    *factory
	Keys []string // none: every key
}

func newCmdMetadataGet(f *factory, runF func(context.Context, *metadataGetOptions) error) *cobra.Command {
	o := &metadataGetOptions{f: f}
	return &cobra.Command{
		Use:   "get [KEY...]",
		Short: "Print user_metadata, or the given keys of it (GET /users/{id})",
		Example: `auth0me metadata get
auth0me metadata get theme langs
auth0me metadata get --json | jq .theme`,
		Args: argsRange(0, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Keys = args
			return run(runF, runMetadataGet)(cmd.Context(), o)
		},
	}
}

func runMetadataGet(ctx context.Context, o *metadataGetOptions) error {
	f := o.f
	u, err := f.me(ctx)
	if err != nil {
		return err
	}
	md := map[string]any(u.UserMetadata)
	if md == nil {
		md = map[string]any{}
	}
	if len(o.Keys) > 0 {
		picked := make(map[string]any, len(o.Keys))
		for _, k := range o.Keys {
			if v, ok := md[k]; ok {
				picked[k] = v
			}
		}
		md = picked
	}
	if f.json {
		return f.printJSON(md)
	}
	var b strings.Builder
	keys := o.Keys
	if len(keys) == 0 {
		keys = slices.Sorted(maps.Keys(md))
	}
	var rows [][]string
	for _, k := range keys {
		v, ok := md[k]
		val := "(not set)"
		if ok {
			val = jsonValue(v)
		}
		rows = append(rows, []string{k, val})
	}
	if len(rows) == 0 {
		b.WriteString("user_metadata is empty.\n")
	}
	table(&b, rows)
	_, err = io.WriteString(f.out, b.String())
	return err
}

type metadataSetOptions struct {
	f           *factory
	Assignments []string // KEY=VALUE
	String      bool     // every VALUE is a string
}

func newCmdMetadataSet(f *factory, runF func(context.Context, *metadataSetOptions) error) *cobra.Command {
	o := &metadataSetOptions{f: f}
	cmd := &cobra.Command{
		Use:   "set KEY=VALUE...",
		Short: "Set user_metadata keys; a VALUE that parses as JSON is sent as JSON, otherwise as a string",
		Long:  `Set user_metadata keys. A VALUE that parses as JSON is sent as JSON (null\ndeletes the key), otherwise as a string. A VALUE that starts with {, [ or " must\nbe valid JSON; --string sends every VALUE as the string it is.`,
		Example: `auth0me metadata set theme=dark
auth0me metadata set age=42 newsletter=true 'address={"city":"Lyon"}'
auth0me metadata set nickname='"42"'   # the string "42", not the number
auth0me metadata set theme=null        # JSON null deletes the key, like unset
auth0me metadata set --string 'motto={not json}'`,
		Args: argsRange(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Assignments = args
			return run(runF, runMetadataSet)(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.String, "string", false, "store every VALUE as the string it is, even one that looks like JSON")
	return cmd
}

type metadataUnsetOptions struct {
	f    *factory
	Keys []string
}

func newCmdMetadataUnset(f *factory, runF func(context.Context, *metadataUnsetOptions) error) *cobra.Command {
	o := &metadataUnsetOptions{f: f}
	return &cobra.Command{
		Use:     "unset KEY...",
		Short:   "Delete user_metadata keys",
		Example: "auth0me metadata unset theme\nauth0me metadata unset theme address --json",
		Args:    argsRange(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Keys = args
			return run(runF, runMetadataUnset)(cmd.Context(), o)
		},
	}
}

type linkOptions struct {
	f       *factory
	IDToken string
}

func newCmdLink(f *factory, runF func(context.Context, *linkOptions) error) *cobra.Command {
	o := &linkOptions{f: f}
	cmd := newNoArgsCmd(o, "link --id-token ID_TOKEN",
		"Link a second account to the user, proven by that account's ID token (POST /users/{id}/identities)",
		"auth0me link --id-token eyJhbGciOi...\nauth0me link --id-token - < second-account.id_token", runF, runLink)
	cmd.Flags().StringVar(&o.IDToken, "id-token", "", "the second account's RS256 `ID_TOKEN` (issued to the same application); - reads it from standard input")
	return cmd
}

type unlinkOptions struct {
	f        *factory
	Provider string
	UserID   string
	Yes      bool
}

func newCmdUnlink(f *factory, runF func(context.Context, *unlinkOptions) error) *cobra.Command {
	o := &unlinkOptions{f: f}
	cmd := &cobra.Command{
		Use:   "unlink PROVIDER USER_ID",
		Short: "Unlink an identity from the user (DELETE /users/{id}/identities/{provider}/{user_id})",
		Long: `Unlink an identity from the user. When the token may read the profile
(read:current_user), unlink first checks that the identity is linked, and says
so when it is not. On a terminal it asks for confirmation, unless --yes is
given; it never asks when standard input is not a terminal.`,
		Example: "auth0me unlink google-oauth2 108123456789\nauth0me unlink auth0 65a1b2c3d4e5f6 --yes --json",
		Args:    argsRange(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Provider, o.UserID = args[0], args[1]
			return run(runF, runUnlink)(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func newCmdDeviceCredential(f *factory) *cobra.Command {
	return newGroup(f, "device-credential", "Create or delete the user's device public keys (/device-credentials)",
		newCmdDeviceCredentialCreate(f, nil), newCmdDeviceCredentialDelete(f, nil))
}

type deviceCredentialCreateOptions struct {
	f                               *factory
	Name, DeviceID, Value, ClientID string
}

func newCmdDeviceCredentialCreate(f *factory, runF func(context.Context, *deviceCredentialCreateOptions) error) *cobra.Command {
	o := &deviceCredentialCreateOptions{f: f}
	cmd := newNoArgsCmd(o, "create", "Register a device's public key (POST /device-credentials)",
		`auth0me device-credential create --name 'Ada laptop' \
    --device-id 3f2a-09bc --value MIIBIjANBg...
auth0me device-credential create --name phone --device-id 0a1b2c \
    --value "$(base64 -w0 key.pub)" --client-id abc123 --json`, runF, runDeviceCredentialCreate)
	fl := cmd.Flags()
	fl.StringVar(&o.Name, "name", "", "device `NAME` the user recognises (required)")
	fl.StringVar(&o.DeviceID, "device-id", "", "device `ID`: up to 36 hex digits and dashes (required)")
	fl.StringVar(&o.Value, "value", "", "the public key, `BASE64` (required)")
	fl.StringVar(&o.ClientID, "client-id", "", "application `CLIENT_ID` the credential is for (optional)")
	return cmd
}

type deviceCredentialDeleteOptions struct {
	f   *factory
	ID  string
	Yes bool
}

func newCmdDeviceCredentialDelete(f *factory, runF func(context.Context, *deviceCredentialDeleteOptions) error) *cobra.Command {
	o := &deviceCredentialDeleteOptions{f: f}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a device credential (DELETE /device-credentials/{id})",
		Long: `Delete a device credential. On a terminal it asks for confirmation, unless
--yes is given; it never asks when standard input is not a terminal.`,
		Example: "auth0me device-credential delete dcr_0000000000000001\nauth0me device-credential delete dcr_0000000000000001 --yes",
		Args:    argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			return run(runF, runDeviceCredentialDelete)(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// confirm asks question on stderr and reads the answer from standard
// input, when standard input is a terminal and yes is false; otherwise it
// does not ask and goes ahead. Only y or yes goes ahead.
func (f *factory) confirm(yes bool, question string) error {
	if yes || !f.env.StdinTTY {
		return nil
	}
	fmt.Fprintf(f.errw, "%s [y/N] ", question)
	line, _ := bufio.NewReader(f.env.Stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &usageErr{msg: "not confirmed; nothing was sent", kind: "declined"}
}

func (f *factory) printJSON(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := f.out.Write(buf.Bytes())
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

// timeOrDash renders a time Auth0 may leave out, the zero time, as "-".
func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmtTime(t)
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

// me reads the signed-in user's profile.
func (f *factory) me(ctx context.Context) (*api.User, error) {
	c, _, err := f.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Me(ctx)
}

func runMe(ctx context.Context, o *meOptions) error {
	f := o.f
	u, err := f.me(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return f.printJSON(u)
	}
	return f.printUser(u)
}

func (f *factory) printUser(u *api.User) error {
	var b strings.Builder
	email := u.Email
	if email != "" {
		if u.EmailVerified {
			email += " (verified)"
		} else {
			email += " (not verified)"
		}
	}
	rows := [][]string{
		{"User ID", u.UserID},
		{"Email", orDash(email)},
		{"Name", orDash(u.Name)},
		{"Nickname", orDash(u.Nickname)},
	}
	if u.Username != "" {
		rows = append(rows, []string{"Username", u.Username})
	}
	if u.PhoneNumber != "" {
		rows = append(rows, []string{"Phone", u.PhoneNumber})
	}
	if u.Blocked {
		rows = append(rows, []string{"Blocked", "yes"})
	}
	rows = append(rows,
		[]string{"Created", timeOrDash(u.CreatedAt)},
		[]string{"Updated", timeOrDash(u.UpdatedAt)},
	)
	if !u.LastLogin.IsZero() {
		rows = append(rows, []string{"Last login", timeOrDash(u.LastLogin)})
	}
	if u.LoginsCount != 0 {
		rows = append(rows, []string{"Logins", fmt.Sprint(u.LoginsCount)})
	}
	for i, id := range u.Identities {
		label := ""
		if i == 0 {
			label = "Identities"
		}
		// Three cells: the connections line up under each other.
		rows = append(rows, []string{label, id.Provider + "|" + string(id.UserID), identityNote(id, i == 0)})
	}
	rows = append(rows, metadataRows("User metadata", u.UserMetadata)...)
	rows = append(rows, metadataRows("App metadata", u.AppMetadata)...)
	table(&b, rows)
	_, err := io.WriteString(f.out, b.String())
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

func identityNote(id api.Identity, primary bool) string {
	s := "(connection " + id.Connection
	if id.IsSocial {
		s += ", social"
	}
	if primary {
		s += ", primary"
	}
	return s + ")"
}

func runEnrollments(ctx context.Context, o *enrollmentsOptions) error {
	f := o.f
	c, _, err := f.client(ctx)
	if err != nil {
		return err
	}
	es, err := c.Enrollments(ctx)
	if err != nil {
		return err
	}
	if f.json {
		if es == nil {
			es = []api.Enrollment{}
		}
		return f.printJSON(es)
	}
	if len(es) == 0 {
		_, err := fmt.Fprintln(f.out, "No MFA enrollments.")
		return err
	}
	rows := [][]string{{"ID", "STATUS", "METHOD", "NAME", "IDENTIFIER", "ENROLLED", "LAST USED"}}
	for _, e := range es {
		method := string(e.AuthMethod)
		if method == "" {
			method = e.Type
		}
		ident := e.Identifier
		if ident == "" {
			ident = e.PhoneNumber
		}
		rows = append(rows, []string{orDash(e.ID), orDash(string(e.Status)), orDash(method), orDash(e.Name), orDash(ident), timeOrDash(e.EnrolledAt), timeOrDash(e.LastAuth)})
	}
	var b strings.Builder
	table(&b, rows)
	_, err = io.WriteString(f.out, b.String())
	return err
}

// parseAssignments reads KEY=VALUE arguments: VALUE is JSON when it parses
// as JSON (null meaning delete), else the string itself. A VALUE that
// starts like a JSON object, array or string ({, [ or ") must parse: a
// broken one is a usage error rather than a string stored by surprise.
// raw (--string) takes every VALUE as the string itself.
func parseAssignments(args []string, raw bool) (map[string]any, error) {
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
		if raw {
			md[k] = v
			continue
		}
		val, err := parseValue(v)
		if err != nil {
			return nil, usagef("the value of %s is not valid JSON (%v); pass --string to store it as a string", k, err)
		}
		md[k] = val
	}
	return md, nil
}

// parseValue returns v decoded as JSON (numbers kept exact) when it is one
// JSON value, else v as a string; an error when v starts like a JSON
// object, array or string and is not one JSON value.
func parseValue(v string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var out any
	err := dec.Decode(&out)
	if err == nil {
		if _, tail := dec.Token(); tail != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	switch {
	case err == nil:
		return out, nil
	case strings.IndexAny(strings.TrimSpace(v), `{["`) == 0:
		return nil, err
	}
	return v, nil
}

func runMetadataSet(ctx context.Context, o *metadataSetOptions) error {
	md, err := parseAssignments(o.Assignments, o.String)
	if err != nil {
		return err
	}
	return o.f.updateMetadata(ctx, md)
}

func runMetadataUnset(ctx context.Context, o *metadataUnsetOptions) error {
	md := make(map[string]any, len(o.Keys))
	for _, k := range o.Keys {
		if k == "" {
			return usagef("empty key")
		}
		md[k] = nil
	}
	return o.f.updateMetadata(ctx, md)
}

func (f *factory) updateMetadata(ctx context.Context, md map[string]any) error {
	c, _, err := f.client(ctx)
	if err != nil {
		return err
	}
	u, err := c.UpdateMetadata(ctx, md)
	if err != nil {
		return argError(err, map[string]string{"metadata key": "KEY"})
	}
	if f.json {
		return f.printJSON(u)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Updated user_metadata of %s:\n", u.UserID)
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
	rows := metadataRows("", u.UserMetadata)
	for i := range rows {
		rows[i][0] = " "
	}
	table(&b, rows)
	_, err = io.WriteString(f.out, b.String())
	return err
}

func runLink(ctx context.Context, o *linkOptions) error {
	f := o.f
	idt := o.IDToken
	if idt == "" {
		return usagef("link needs --id-token: the ID token of the account to link")
	}
	if idt == "-" {
		var err error
		if idt, err = f.readStdin("--id-token -", "ID token"); err != nil {
			return err
		}
	}
	c, _, err := f.client(ctx)
	if err != nil {
		return err
	}
	ids, err := c.LinkIdentity(ctx, idt)
	if err != nil {
		return err
	}
	return f.printIdentities("Linked.", ids)
}

func runUnlink(ctx context.Context, o *unlinkOptions) error {
	f := o.f
	c, sess, err := f.client(ctx)
	if err != nil {
		return err
	}
	target := o.Provider + "|" + o.UserID
	// With read:current_user, look first: say so when the identity is not
	// linked (Auth0 answers 200 either way).
	subject, checked := "the user", false
	if claims, err := sess.claims(); err == nil {
		subject = claims.Subject
		// Only when the unlink itself is allowed: otherwise the guard's
		// refusal says more.
		if claims.Allows(operation(gen.OpDeleteUserIdentityByUserID)) && claims.Allows(operation(gen.OpGetUsersByID)) {
			u, err := c.Me(ctx)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(u.Identities, func(id api.Identity) bool {
				return id.Provider == o.Provider && string(id.UserID) == o.UserID
			}) {
				if f.json {
					return f.printJSON(nonNilIdentities(u.Identities))
				}
				_, err := fmt.Fprintf(f.out, "%s is not linked to %s; nothing was unlinked.\n", target, subject)
				return err
			}
			checked = true
		}
	}
	if err := f.confirm(o.Yes, "Unlink "+target+" from "+subject+"?"); err != nil {
		return err
	}
	ids, err := c.UnlinkIdentity(ctx, o.Provider, o.UserID)
	if err != nil {
		return argError(err, map[string]string{"provider": "PROVIDER", "user id": "USER_ID"})
	}
	headline := "Unlinked " + target + "."
	if !checked {
		headline = "Unlinked " + target + " (if it was linked: this token cannot read the profile to check)."
	}
	return f.printIdentities(headline, ids)
}

func nonNilIdentities(ids []api.Identity) []api.Identity {
	if ids == nil {
		return []api.Identity{}
	}
	return ids
}

func (f *factory) printIdentities(headline string, ids []api.Identity) error {
	if f.json {
		return f.printJSON(nonNilIdentities(ids))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s The user now has %d identit%s:\n", headline, len(ids), map[bool]string{true: "y", false: "ies"}[len(ids) == 1])
	rows := [][]string{{"  PROVIDER", "USER ID", "CONNECTION", "SOCIAL", "EMAIL"}}
	for i, id := range ids {
		email := orDash(id.ProfileData.Email)
		social := "no"
		if id.IsSocial {
			social = "yes"
		}
		p := "  " + id.Provider
		if i == 0 {
			p += " (primary)"
		}
		rows = append(rows, []string{p, string(id.UserID), id.Connection, social, email})
	}
	table(&b, rows)
	_, err := io.WriteString(f.out, b.String())
	return err
}

func runDeviceCredentialCreate(ctx context.Context, o *deviceCredentialCreateOptions) error {
	f := o.f
	var missing []string
	for _, fl := range []struct{ name, v string }{{"--name", o.Name}, {"--device-id", o.DeviceID}, {"--value", o.Value}} {
		if fl.v == "" {
			missing = append(missing, fl.name)
		}
	}
	if len(missing) > 0 {
		return usagef("device-credential create needs %s", strings.Join(missing, ", "))
	}
	c, _, err := f.client(ctx)
	if err != nil {
		return err
	}
	id, err := c.CreateDeviceCredential(ctx, api.DeviceCredential{DeviceName: o.Name, DeviceID: o.DeviceID, Value: o.Value, ClientID: o.ClientID})
	if err != nil {
		return argError(err, map[string]string{"DeviceName": "--name", "DeviceID": "--device-id", "Value": "--value", "ClientID": "--client-id"})
	}
	if f.json {
		return f.printJSON(map[string]string{"id": id})
	}
	_, err = fmt.Fprintf(f.out, "Created device credential %s for %q (device %s).\n", id, o.Name, o.DeviceID)
	return err
}

func runDeviceCredentialDelete(ctx context.Context, o *deviceCredentialDeleteOptions) error {
	f := o.f
	c, _, err := f.client(ctx)
	if err != nil {
		return err
	}
	if err := f.confirm(o.Yes, "Delete device credential "+o.ID+"?"); err != nil {
		return err
	}
	if err := c.DeleteDeviceCredential(ctx, o.ID); err != nil {
		return argError(err, map[string]string{"id": "ID"})
	}
	if f.json {
		return f.printJSON(map[string]any{"id": o.ID, "deleted": true})
	}
	_, err = fmt.Fprintf(f.out, "Deleted device credential %s.\n", o.ID)
	return err
}
