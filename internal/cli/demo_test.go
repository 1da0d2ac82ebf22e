package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDemo runs 'auth0me demo' as the README's first command does, in text
// and --json form.
func TestDemo(t *testing.T) {
	t.Parallel()
	for _, form := range []string{"text", "json"} {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.client = nil // the process default, as 'go run ./cmd/auth0me demo' has
			args := []string{"demo"}
			name := "demo"
			if form == "json" {
				args = append(args, "--json")
				name += ".json"
			}
			res := h.run(args...)
			if res.code != 0 {
				t.Fatalf("demo: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
			if res.stderr != "" {
				t.Errorf("demo wrote to stderr: %q", res.stderr)
			}
			if _, err := os.Stat(h.tokenFile()); err == nil {
				t.Errorf("demo wrote a token file")
			}
			golden(t, name, h.render(res))
			if form == "json" {
				var rep struct {
					Steps []struct {
						Refused bool `json:"refused"`
						Sent    int  `json:"requests_sent"`
					} `json:"steps"`
				}
				if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
					t.Fatal(err)
				}
				var ops, refused int
				for _, s := range rep.Steps[1:] {
					if s.Refused {
						refused++
						if s.Sent != 0 {
							t.Errorf("a refusal sent %d requests", s.Sent)
						}
					} else {
						ops++
					}
				}
				if ops != 7 || refused != 2 {
					t.Errorf("demo ran %d operations and %d refusals, want 7 and 2", ops, refused)
				}
			} else if !strings.Contains(res.stdout, "insufficient scope") || !strings.Contains(res.stdout, "does not match the token subject") {
				t.Errorf("demo does not show the guard's two errors:\n%s", res.stdout)
			}
		})
	}
}
