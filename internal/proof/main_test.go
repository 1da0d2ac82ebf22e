package proof

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the binary when any goroutine outlives the tests: tenants,
// servers, connections and retry timers must all be gone.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// collector gathers every token the suites mint and every error string and
// log line the code under test produces, for TestNoTokenLeaks to scan.
type collector struct {
	mu      sync.Mutex
	secrets map[string]string // chunk of a token -> what it is a chunk of
	tokens  int
	texts   []text
	ran     map[string]bool
}

type text struct{ source, s string }

var leaks = &collector{secrets: map[string]string{}, ran: map[string]bool{}}

// chunk is the length of the token fragments the scan looks for. A leak of
// any 2*chunk-1 consecutive characters of a token's payload or signature
// contains one whole aligned chunk.
const chunk = 24

// token records a minted token: the whole of it, and chunks of its payload
// and signature. The header is left out: it is the same for every token a
// tenant signs and secret to no one.
func (c *collector) token(kind, tok string) string {
	if tok == "" {
		return tok
	}
	parts := strings.Split(tok, ".")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens++
	for i, p := range parts {
		if i == 0 {
			continue
		}
		for j := 0; j+chunk <= len(p); j += chunk {
			c.secrets[p[j:j+chunk]] = kind
		}
	}
	return tok
}

// err records the message of a non-nil error.
func (c *collector) err(source string, err error) {
	if err != nil {
		c.add(source, err.Error())
	}
}

func (c *collector) add(source, s string) {
	c.mu.Lock()
	c.texts = append(c.texts, text{source, s})
	c.mu.Unlock()
}

// logger returns a debug-level slog.Logger whose lines are recorded.
func (c *collector) logger(source string) *slog.Logger {
	return slog.New(slog.NewTextHandler(lineWriter{c, source}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lineWriter struct {
	c      *collector
	source string
}

// Write records one line: slog handlers write each record in one call.
func (w lineWriter) Write(p []byte) (int, error) {
	w.c.add(w.source+" log", string(p))
	return len(p), nil
}

func (c *collector) markRan(suite string) {
	c.mu.Lock()
	c.ran[suite] = true
	c.mu.Unlock()
}

func (c *collector) hasRun(suite string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ran[suite]
}

// hit is one token fragment found in a text.
type hit struct {
	source, what string
}

// scan returns every recorded text that holds a fragment of a recorded
// token, and how many texts and tokens it looked at.
func (c *collector) scan() (hits []hit, texts, tokens int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.texts {
		if h, ok := findSecret(t.s, c.secrets); ok {
			hits = append(hits, hit{t.source, h})
		}
	}
	return hits, len(c.texts), c.tokens
}

// findSecret looks up every chunk-long window of s. A whole token holds
// chunks of its payload and signature, so it is found too.
func findSecret(s string, secrets map[string]string) (string, bool) {
	for i := 0; i+chunk <= len(s); i++ {
		if what, ok := secrets[s[i:i+chunk]]; ok {
			return what, true
		}
	}
	return "", false
}
