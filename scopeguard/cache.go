package scopeguard

import (
	"net/url"
	"slices"
	"strings"
	"sync"
)

// DefaultCacheSize is the number of distinct tokens whose decoded claims a
// Transport and its views keep unless WithCacheSize says otherwise.
const DefaultCacheSize = 1024

// entry is everything the per-request path needs about one token, computed
// once when the token is first seen.
type entry struct {
	token  string
	auth   string  // "Bearer " + token
	claims *Claims // never modified after the entry is built
	sub    string  // claims.Subject
	escSub string  // url.PathEscape(sub)

	rd       redactor // removes the token from error messages
	admin    bool     // client-credentials token, or no sub
	audOK    bool     // aud includes the base URL's Management API audience
	subCheck string   // why sub may not stand in a path segment, or ""

	allowed []bool    // per route: the token holds one of its scopes
	paths   []subPath // per route: final path when the only parameter is Me
}

// subPath is the path of a request whose only parameter is the acting user,
// with Me replaced by sub, in both forms url.URL keeps.
type subPath struct{ esc, dec string }

// cache maps tokens to entries. It is bounded: when full, an arbitrary entry
// (the first of a map iteration, which Go randomises) is evicted. It is safe
// for concurrent use; the hit path takes a read lock and does not allocate.
type cache struct {
	mu  sync.RWMutex
	m   map[string]*entry
	max int
}

func newCache(max int) *cache {
	return &cache{m: make(map[string]*entry, min(max, 64)), max: max}
}

func (c *cache) get(token string) *entry {
	c.mu.RLock()
	e := c.m[token]
	c.mu.RUnlock()
	return e
}

func (c *cache) put(e *entry) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[e.token]; ok {
		return old
	}
	for len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[e.token] = e
	return e
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// newEntry decodes token and precomputes what RoundTrip needs for the
// shared configuration s.
func (s *shared) newEntry(token string) (*entry, error) {
	claims, err := ParseClaims(token)
	if err != nil {
		return nil, err
	}
	e := &entry{
		token:   token,
		rd:      newRedactor(token),
		auth:    "Bearer " + token,
		claims:  claims,
		sub:     claims.Subject,
		escSub:  url.PathEscape(claims.Subject),
		admin:   claims.Subject == "" || claims.IsClientCredentials(),
		allowed: make([]bool, len(s.routes)),
		paths:   make([]subPath, len(s.routes)),
	}
	e.subCheck = checkParam(e.sub)
	// Exactly, as Auth0 compares it.
	e.audOK = slices.ContainsFunc(s.audiences, claims.HasAudience)
	for i := range s.routes {
		r := &s.routes[i]
		e.allowed[i] = claims.Allows(r.op)
		if r.user < 0 || r.params != 1 || e.subCheck != "" {
			continue
		}
		var esc, dec strings.Builder
		esc.WriteString(s.basePath)
		dec.WriteString(s.basePath)
		for j, sg := range r.segs {
			if j > 0 {
				esc.WriteByte('/')
				dec.WriteByte('/')
			}
			if j == r.user {
				esc.WriteString(e.escSub)
				dec.WriteString(e.sub)
				continue
			}
			esc.WriteString(sg.lit)
			dec.WriteString(sg.lit)
		}
		e.paths[i] = subPath{esc: esc.String(), dec: dec.String()}
	}
	return e, nil
}
