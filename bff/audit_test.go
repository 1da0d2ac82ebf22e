package bff_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/auth0me/auth0me/bff"
)

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		delete(m, "time")
		out = append(out, m)
	}
	return out
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var logs logBuffer
	h := f.handler(t, bff.Allow(allRoutes...), bff.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	sess := f.signIn(alice, allScopes...)
	serve(h, request("GET", "/me", sess, ""))                                             // a read: not logged
	serve(h, request("PATCH", "/me/metadata", sess, `{"theme": "dark", "colors": null}`)) // ok
	serve(h, request("PATCH", "/me/metadata", sess, `{"role": "admin"}`))                 // refused by the policy
	r := request("DELETE", "/me/device-credentials/dcr_1", sess, "")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	serve(h, r) // cross-origin: the user is not looked up
	serve(h, request("DELETE", "/me/device-credentials/dcr_missing", sess, ""))

	want := []map[string]any{
		{"level": "INFO", "msg": "bff: audit", "user": alice, "route": "PATCH /me/metadata", "outcome": "ok", "status": 200.0,
			"keys": []any{"theme", "colors"}, "deleted": []any{"colors"}},
		{"level": "INFO", "msg": "bff: audit", "user": alice, "route": "PATCH /me/metadata", "outcome": "metadata_key_not_allowed", "status": 400.0},
		{"level": "INFO", "msg": "bff: audit", "user": "", "route": "DELETE /me/device-credentials/{id}", "outcome": "cross_origin", "status": 403.0},
		{"level": "INFO", "msg": "bff: audit", "user": alice, "route": "DELETE /me/device-credentials/{id}", "outcome": "not_found", "status": 404.0, "id": "dcr_missing"},
	}
	got := logs.lines(t)
	for _, l := range got {
		if d, ok := l["duration"].(float64); !ok || d <= 0 {
			t.Errorf("line %v: no duration", l)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "duration" })); diff != "" {
		t.Errorf("audit lines (-want +got):\n%s", diff)
	}
	if strings.Contains(logs.buf.String(), "dark") {
		t.Error("a metadata value was logged")
	}

	// Values only when asked.
	var withValues logBuffer
	h = f.handler(t, bff.Allow(bff.WriteMetadata), bff.WithLoggedValues(), bff.WithLogger(slog.New(slog.NewJSONHandler(&withValues, nil))))
	serve(h, request("PATCH", "/me/metadata", sess, `{"theme": "light"}`))
	if l := withValues.lines(t); len(l) != 1 || l[0]["values"] != `{"theme":"light"}` {
		t.Errorf("lines with values: %v", l)
	}
}
