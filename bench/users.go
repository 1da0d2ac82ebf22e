package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"

	"github.com/auth0/go-auth0/v3/management/option"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/scopeguard"
)

// V3PerCall is go-auth0 v3 used the other way it allows for many users:
// one client, the user's token passed to every call with option.WithToken.
const V3PerCall Library = "go-auth0-v3-percall"

// MultiUserLibraries lists the ways of serving many users, in report order.
var MultiUserLibraries = []Library{Auth0me, V1, V3, V3PerCall}

// Users makes a Client per user that shares what its library lets it
// share: auth0me's per-user views (ForToken) of one root Client;
// a go-auth0 v1 or v3 Management per user (neither has a per-user view);
// or, for V3PerCall, one v3 client with the token given on each call.
type Users struct {
	lib  Library
	cfg  Config
	root *api.Client // Auth0me
	v3   *v3Client   // V3PerCall
}

// NewUsers prepares lib to serve many users of the tenant in cfg (whose
// Token and UserID are ignored). cacheSize, when positive, sets the
// auth0me claims cache size (scopeguard.WithCacheSize).
func NewUsers(lib Library, cfg Config, cacheSize int) (*Users, error) {
	u := &Users{lib: lib, cfg: cfg}
	switch lib {
	case Auth0me:
		var extra []api.Option
		if cacheSize > 0 {
			extra = append(extra, api.WithGuardOptions(scopeguard.WithCacheSize(cacheSize)))
		}
		// The root's own token source is never used for a call.
		root, err := api.New(cfg.Domain, StaticToken("unused"), auth0meOptions(cfg, extra...)...)
		if err != nil {
			return nil, fmt.Errorf("bench: auth0me: %w", err)
		}
		u.root = root
	case V3PerCall:
		c := cfg
		c.Token = ""
		v, err := newV3(c)
		if err != nil {
			return nil, err
		}
		u.v3 = v
	case V1, V3:
	default:
		return nil, fmt.Errorf("bench: unknown library %q", lib)
	}
	return u, nil
}

// User returns a Client acting as userID with token.
func (u *Users) User(token, userID string) (Client, error) {
	switch u.lib {
	case Auth0me:
		return &auth0meClient{c: u.root.ForToken(StaticToken(token))}, nil
	case V3PerCall:
		return &v3Client{m: u.v3.m, id: userID, opts: []option.RequestOption{option.WithToken(token)}}, nil
	}
	c := u.cfg
	c.Token, c.UserID = token, userID
	return New(u.lib, c)
}

// MemoryUse is what ManyUsers measured.
type MemoryUse struct {
	// PerView is the live heap per user after making every user's Client.
	PerView float64
	// PerCached is the further live heap per user after one call each:
	// what the library keeps about a token it has used (auth0me's claims
	// cache entry).
	PerCached float64
}

// ManyUsers makes a Client for each of tokens (userIDs[i] is the sub of
// tokens[i]), keeps them all, then calls Me once with each, and reports
// the live heap each step added per user, after a full GC. The tokens are
// allocated by the caller before the first measurement and are not
// counted. hc is the http.Client the libraries get (the in-memory
// transport).
func ManyUsers(lib Library, cfg Config, hc *http.Client, tokens, userIDs []string) (MemoryUse, error) {
	cfg.HTTPClient = hc
	u, err := NewUsers(lib, cfg, len(tokens)+1)
	if err != nil {
		return MemoryUse{}, err
	}
	clients := make([]Client, len(tokens))
	h0 := liveHeap()
	for i, tok := range tokens {
		if clients[i], err = u.User(tok, userIDs[i]); err != nil {
			return MemoryUse{}, err
		}
	}
	h1 := liveHeap()
	for i, c := range clients {
		if err := c.Me(bgctx); err != nil {
			return MemoryUse{}, fmt.Errorf("bench: %s: user %d: %w", lib, i, err)
		}
	}
	h2 := liveHeap()
	n := float64(len(tokens))
	runtime.KeepAlive(clients)
	runtime.KeepAlive(u)
	return MemoryUse{PerView: float64(h1-h0) / n, PerCached: float64(h2-h1) / n}, nil
}

var bgctx = context.Background()

func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
