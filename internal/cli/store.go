package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

// tokenFileName is the file, in ConfigDir()/auth0me/, that holds the
// signed-in user's tokens, one entry per tenant domain.
const tokenFileName = "token.json"

// maxTokenFile bounds how much of the token file is read.
const maxTokenFile = 256 << 10

// lockRetry is how often a process waiting for the token file's lock tries
// again.
const lockRetry = 20 * time.Millisecond

// storedToken is one tenant's entry of the token file.
type storedToken struct {
	Domain       string    `json:"domain"`
	ClientID     string    `json:"client_id"`
	BaseURL      string    `json:"base_url,omitempty"` // tenant root, when not https://Domain
	Scopes       []string  `json:"scopes,omitempty"`   // the scopes asked for at login
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func (s *storedToken) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: s.AccessToken, RefreshToken: s.RefreshToken, TokenType: s.TokenType, Expiry: s.Expiry}
}

// issuer is the tenant that issued the entry's tokens, where it is
// refreshed and revoked.
func (s *storedToken) issuer() tenantAddr {
	ta := tenantAddr{domain: s.Domain, root: s.BaseURL}
	if ta.root == "" {
		ta.root = "https://" + s.Domain
	}
	return ta
}

// tokenFile is the token file's JSON: the entries by domain, and the domain
// used when none is asked for (the last one signed in to).
type tokenFile struct {
	Default string                  `json:"default,omitempty"`
	Tenants map[string]*storedToken `json:"tenants"`
}

// entry returns the entry for domain, or the default one when domain is
// "": the Default entry, else the only one.
func (tf *tokenFile) entry(domain string) (*storedToken, bool) {
	if domain == "" {
		domain = tf.Default
		if domain == "" && len(tf.Tenants) == 1 {
			for d := range tf.Tenants {
				domain = d
			}
		}
	}
	st, ok := tf.Tenants[domain]
	return st, ok
}

// remove deletes domain's entry; the default moves to the first remaining
// domain in order.
func (tf *tokenFile) remove(domain string) {
	delete(tf.Tenants, domain)
	if tf.Default == domain {
		tf.Default = ""
		if ds := slices.Sorted(maps.Keys(tf.Tenants)); len(ds) > 0 {
			tf.Default = ds[0]
		}
	}
}

// errNoTokenFile: there is no token file, or no entry for the tenant; the
// user has not signed in.
var errNoTokenFile = errors.New("not signed in")

// tokenStore reads and writes the token file. Every change is a
// read-modify-write under an exclusive lock on the lock file beside it
// (flock(2), LockFileEx on Windows), so that processes sharing the file do
// not lose each other's entries or spend a refresh token twice; the file
// itself is replaced atomically, so reading needs no lock.
type tokenStore struct {
	dir  string // ConfigDir()/auth0me
	path string
}

// store is the token store of $AUTH0ME_CONFIG_DIR, else of the auth0me
// directory in the user's config directory.
func (f *factory) store() (*tokenStore, error) {
	dir := f.env.Getenv("AUTH0ME_CONFIG_DIR")
	if dir == "" {
		base, err := f.env.ConfigDir()
		if err != nil {
			return nil, &loginErr{msg: "cannot find the user config directory for the token file", hint: "set $AUTH0ME_CONFIG_DIR", err: err}
		}
		dir = filepath.Join(base, "auth0me")
	}
	return &tokenStore{dir: dir, path: filepath.Join(dir, tokenFileName)}, nil
}

// read reads the whole token file; an empty one when it does not exist.
func (s *tokenStore) read() (*tokenFile, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &tokenFile{Tenants: map[string]*storedToken{}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxTokenFile {
		return nil, fmt.Errorf("token file %s is larger than %d bytes", s.path, maxTokenFile)
	}
	return decodeTokenFile(b)
}

// load returns domain's entry ("" for the default one); errNoTokenFile
// when there is none.
func (s *tokenStore) load(domain string) (*storedToken, error) {
	tf, err := s.read()
	if err != nil {
		return nil, err
	}
	st, ok := tf.entry(domain)
	if !ok {
		return nil, errNoTokenFile
	}
	return st, nil
}

// decodeTokenFile parses the token file. A file holding one entry at its
// top level (as auth0me wrote it before it kept several tenants) reads as
// that entry. Its errors never quote the file.
func decodeTokenFile(b []byte) (*tokenFile, error) {
	var probe struct {
		tokenFile
		storedToken
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&probe); err != nil {
		return nil, errors.New("token file is not valid JSON")
	}
	if dec.More() {
		return nil, errors.New("token file holds more than one JSON value")
	}
	tf := probe.tokenFile
	if tf.Tenants == nil {
		tf.Tenants = map[string]*storedToken{}
	}
	if probe.AccessToken != "" || probe.Domain != "" {
		if len(tf.Tenants) > 0 {
			return nil, errors.New("token file mixes a single entry and tenants")
		}
		st := probe.storedToken
		tf.Tenants[st.Domain] = &st
	}
	for d, st := range tf.Tenants {
		switch {
		case st == nil || st.AccessToken == "":
			return nil, errors.New("token file has no access_token")
		case st.Domain == "":
			return nil, errors.New("token file has no domain")
		case st.Domain != d:
			return nil, errors.New("token file holds an entry under another domain's name")
		case st.RefreshToken != "" && st.ClientID == "":
			return nil, errors.New("token file has a refresh_token but no client_id")
		}
	}
	if _, ok := tf.Tenants[tf.Default]; tf.Default != "" && !ok {
		return nil, errors.New("token file's default names no entry")
	}
	return &tf, nil
}

// update runs fn on the token file under the exclusive lock and writes the
// result back when fn returns true. Waiting for the lock ends with ctx.
func (s *tokenStore) update(ctx context.Context, fn func(tf *tokenFile) (bool, error)) error {
	if err := s.mkdir(); err != nil {
		return err
	}
	lock := flock.New(s.path+".lock", flock.SetPermissions(0o600))
	ok, err := lock.TryLockContext(ctx, lockRetry)
	if !ok {
		if err == nil {
			err = ctx.Err()
		}
		return fmt.Errorf("cannot lock the token file: %w", err)
	}
	defer lock.Unlock()
	tf, err := s.read()
	if err != nil {
		return err
	}
	changed, err := fn(tf)
	if err != nil || !changed {
		return err
	}
	if len(tf.Tenants) == 0 {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return s.write(tf)
}

// mkdir makes the 0700 directory of the token file.
func (s *tokenStore) mkdir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	// MkdirAll leaves an existing directory's mode alone; ours holds
	// secrets only.
	return os.Chmod(s.dir, 0o700)
}

// write replaces the token file atomically: a 0600 temporary file in the
// 0700 directory, renamed over it.
func (s *tokenStore) write(tf *tokenFile) error {
	b, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".token-*.json")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	ok = true
	return nil
}

// save stores st as its domain's entry and makes it the default.
func (s *tokenStore) save(ctx context.Context, st *storedToken) error {
	return s.update(ctx, func(tf *tokenFile) (bool, error) {
		tf.Tenants[st.Domain] = st
		tf.Default = st.Domain
		return true, nil
	})
}

// fileSource hands out the access token of one entry of the token file,
// refreshing it when it has expired. A refresh happens under the token
// file's lock and starts by reading the file again: when another process
// has refreshed the entry meanwhile, its token is used, and the refresh
// token (which Auth0 rotates, and revokes the whole family of when one is
// used twice) is spent by one process only. It is safe for concurrent use.
type fileSource struct {
	ctx   context.Context // for the lock wait and the refresh; carries x/oauth2's HTTP client
	store *tokenStore

	mu  sync.Mutex
	cur storedToken
}

func (s *fileSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.cur.token(); t.Valid() {
		return t, nil
	}
	var refreshErr error
	err := s.store.update(s.ctx, func(tf *tokenFile) (bool, error) {
		st, ok := tf.Tenants[s.cur.Domain]
		if !ok {
			return false, errNoTokenFile
		}
		if t := st.token(); t.Valid() {
			s.cur = *st // refreshed by another process
			return false, nil
		}
		if st.RefreshToken == "" {
			refreshErr = errors.New("the access token has expired and there is no refresh token")
			return false, nil
		}
		cfg := oauthConfig(st.issuer(), st.ClientID, st.Scopes)
		t, err := cfg.TokenSource(s.ctx, &oauth2.Token{RefreshToken: st.RefreshToken}).Token()
		if err != nil {
			refreshErr = err
			return false, nil
		}
		st.AccessToken, st.TokenType, st.Expiry = t.AccessToken, t.TokenType, t.Expiry
		if t.RefreshToken != "" {
			st.RefreshToken = t.RefreshToken
		}
		s.cur = *st
		return true, nil
	})
	switch {
	case errors.Is(err, errNoTokenFile):
		return nil, &loginErr{msg: "signed out of " + s.cur.Domain + " meanwhile", hint: "run 'auth0me login' again"}
	case err != nil:
		return nil, &loginErr{msg: "cannot refresh the access token", err: err}
	case refreshErr != nil:
		return nil, &loginErr{msg: "cannot refresh the access token", hint: "run 'auth0me login' again", err: refreshErr}
	}
	return s.cur.token(), nil
}

// completeDomains completes --domain with the tenants of the token file.
func (f *factory) completeDomains(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	if s, err := f.store(); err == nil {
		if tf, err := s.read(); err == nil {
			for _, d := range slices.Sorted(maps.Keys(tf.Tenants)) {
				if strings.HasPrefix(d, prefix) {
					out = append(out, d)
				}
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
