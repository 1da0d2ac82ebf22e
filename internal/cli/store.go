package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// tokenFileName is the file, in ConfigDir()/auth0me/, that holds the
// signed-in user's tokens.
const tokenFileName = "token.json"

// maxTokenFile bounds how much of the token file is read.
const maxTokenFile = 256 << 10

// storedToken is the token file's JSON.
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

// errNoTokenFile: there is no token file; the user has not signed in.
var errNoTokenFile = errors.New("not signed in")

// tokenStore reads and writes the token file. Its methods are safe for
// concurrent use.
type tokenStore struct {
	mu   sync.Mutex
	dir  string // ConfigDir()/auth0me
	path string
}

func (f *factory) store() (*tokenStore, error) {
	base, err := f.env.ConfigDir()
	if err != nil {
		return nil, &loginErr{msg: "cannot find the user config directory for the token file", err: err}
	}
	dir := filepath.Join(base, "auth0me")
	return &tokenStore{dir: dir, path: filepath.Join(dir, tokenFileName)}, nil
}

// load reads the token file; errNoTokenFile when it does not exist.
func (s *tokenStore) load() (*storedToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoTokenFile
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

// decodeTokenFile parses the token file. Its errors never quote the file.
func decodeTokenFile(b []byte) (*storedToken, error) {
	var st storedToken
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&st); err != nil {
		return nil, errors.New("token file is not valid JSON")
	}
	if dec.More() {
		return nil, errors.New("token file holds more than one JSON value")
	}
	switch {
	case st.AccessToken == "":
		return nil, errors.New("token file has no access_token")
	case st.Domain == "":
		return nil, errors.New("token file has no domain")
	case st.RefreshToken != "" && st.ClientID == "":
		return nil, errors.New("token file has a refresh_token but no client_id")
	}
	return &st, nil
}

// save writes st atomically: a 0600 temporary file in the 0700 directory,
// renamed over the token file.
func (s *tokenStore) save(st *storedToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	// MkdirAll leaves an existing directory's mode alone; ours holds
	// secrets only.
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
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

// remove deletes the token file; it reports whether there was one.
func (s *tokenStore) remove() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// persistingSource hands out the token of a refreshing source and writes
// every new one (a refreshed access token, a rotated refresh token) to the
// token file. It is safe for concurrent use.
type persistingSource struct {
	mu    sync.Mutex
	src   oauth2.TokenSource
	store *tokenStore
	st    storedToken // last saved
}

func (p *persistingSource) Token() (*oauth2.Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, err := p.src.Token()
	if err != nil {
		return nil, &loginErr{msg: "cannot refresh the access token", hint: "run 'auth0me login' again", err: err}
	}
	if t.AccessToken != p.st.AccessToken || (t.RefreshToken != "" && t.RefreshToken != p.st.RefreshToken) {
		p.st.AccessToken = t.AccessToken
		if t.RefreshToken != "" {
			p.st.RefreshToken = t.RefreshToken
		}
		p.st.TokenType = t.TokenType
		p.st.Expiry = t.Expiry
		if err := p.store.save(&p.st); err != nil {
			return nil, &loginErr{msg: "cannot save the refreshed token", err: err}
		}
	}
	return t, nil
}
