package cli

import (
	"net/url"
	"slices"
	"strings"

	"github.com/auth0me/auth0me/gen"
	"github.com/auth0me/auth0me/internal/baseurl"
)

// tenantAddr says where a tenant is: its domain (which names the audience)
// and its root URL (where /authorize, /oauth/* and /api/v2/ are).
type tenantAddr struct {
	domain string // e.g. "tenant.eu.auth0.com" or "127.0.0.1:43121"
	root   string // e.g. "https://tenant.eu.auth0.com"; no trailing slash
}

func (t tenantAddr) audience() string  { return "https://" + t.domain + "/api/v2/" }
func (t tenantAddr) apiBase() string   { return t.root + "/api/v2/" }
func (t tenantAddr) authURL() string   { return t.root + "/authorize" }
func (t tenantAddr) tokenURL() string  { return t.root + "/oauth/token" }
func (t tenantAddr) deviceURL() string { return t.root + "/oauth/device/code" }
func (t tenantAddr) revokeURL() string { return t.root + "/oauth/revoke" }
func (t tenantAddr) customRoot() string { // what the token file records
	if t.root == "https://"+t.domain {
		return ""
	}
	return t.root
}

// normalizeDomain accepts "tenant.auth0.com", "https://tenant.auth0.com/"
// and the like, and returns the bare host[:port].
func normalizeDomain(d string) (string, error) {
	d = strings.TrimSpace(d)
	if s, ok := strings.CutPrefix(d, "https://"); ok {
		d = s
	}
	d = strings.TrimSuffix(d, "/")
	if d == "" || strings.ContainsAny(d, "/?#@ \t") {
		return "", usagef("invalid domain %q: want a host name such as tenant.eu.auth0.com", d)
	}
	if _, err := url.Parse("https://" + d + "/"); err != nil {
		return "", usagef("invalid domain %q", d)
	}
	return d, nil
}

// parseRoot validates a --base-url (or $AUTH0ME_BASE_URL, as name says):
// https, or http to a loopback host; an apitest BaseURL ending in /api/v2/
// is accepted too.
func parseRoot(name, raw string) (string, string, error) {
	u, err := baseurl.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", "", usagef("invalid %s %q: %v; want a URL such as http://127.0.0.1:8080", name, raw, err)
	}
	p := strings.TrimSuffix(u.Path, "/")
	p = strings.TrimSuffix(p, "/api/v2")
	return u.Scheme + "://" + u.Host + p, u.Host, nil
}

// resolveTenant combines the selected domain (see selectedDomain),
// --base-url (or $AUTH0ME_BASE_URL) and a fallback domain (from the token
// file or the token); it returns ok false when no domain is known.
func (f *factory) resolveTenant(fallbackDomain, fallbackRoot string) (tenantAddr, bool, error) {
	domain, err := f.selectedDomain()
	if err != nil {
		return tenantAddr{}, false, err
	}
	var root, rootHost string
	base, name := f.baseURL, "--base-url"
	if base == "" {
		base, name = f.env.Getenv("AUTH0ME_BASE_URL"), "$AUTH0ME_BASE_URL"
	}
	if base != "" {
		if root, rootHost, err = parseRoot(name, base); err != nil {
			return tenantAddr{}, false, err
		}
	}
	if domain == "" {
		domain = fallbackDomain
	}
	if root == "" && domain == fallbackDomain {
		root = fallbackRoot
	}
	if domain == "" {
		domain = rootHost
	}
	if domain == "" {
		return tenantAddr{}, false, nil
	}
	d, err := normalizeDomain(domain)
	if err != nil {
		return tenantAddr{}, false, err
	}
	if root == "" {
		root = "https://" + d
	}
	return tenantAddr{domain: d, root: root}, true, nil
}

// domainFromAudience finds https://{domain}/api/v2/ among a token's aud.
func domainFromAudience(aud []string) string {
	for _, a := range aud {
		if s, ok := strings.CutPrefix(a, "https://"); ok {
			if d, ok := strings.CutSuffix(s, "/api/v2/"); ok && d != "" && !strings.Contains(d, "/") {
				return d
			}
		}
	}
	return ""
}

// opOrder is the order in which the command lists operations: reading
// first, then identities, metadata and device credentials, as the README's
// table does. Operations gen.Operations adds later come last.
var opOrder = []string{
	gen.OpGetUsersByID, gen.OpGetEnrollments, gen.OpPostIdentities, gen.OpDeleteUserIdentityByUserID,
	gen.OpPatchUsersByID, gen.OpPostDeviceCredentials, gen.OpDeleteDeviceCredentialsByID,
}

// operations returns gen.Operations in opOrder.
func operations() []gen.Operation {
	ops := slices.Clone(gen.Operations)
	rank := func(id string) int {
		if i := slices.Index(opOrder, id); i >= 0 {
			return i
		}
		return len(opOrder)
	}
	slices.SortStableFunc(ops, func(a, b gen.Operation) int { return rank(a.ID) - rank(b.ID) })
	return ops
}

// operation returns the operation of gen.Operations with id; the zero
// Operation (which nothing allows) when there is none.
func operation(id string) gen.Operation {
	i := slices.IndexFunc(gen.Operations, func(op gen.Operation) bool { return op.ID == id })
	if i < 0 {
		return gen.Operation{}
	}
	return gen.Operations[i]
}

// currentUserScopes are the scopes of the seven operations.
func currentUserScopes() []string {
	var out []string
	for _, op := range operations() {
		for _, s := range op.Scopes {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// loginScopes is what login asks for: the given current-user scopes (all
// six by default) plus openid and offline_access.
func loginScopes(given []string) []string {
	var out []string
	for _, g := range given {
		for _, s := range strings.FieldsFunc(g, func(r rune) bool { return r == ' ' || r == ',' }) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		out = currentUserScopes()
	}
	for _, s := range []string{"openid", "offline_access"} {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
