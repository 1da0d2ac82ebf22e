package cli_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/auth0me/auth0me/internal/cli"
)

// TestColor: escape codes appear only where the stream is a terminal or
// CLICOLOR_FORCE asks for them, and never with NO_COLOR, TERM=dumb or
// CLICOLOR=0, on stdout (the demo) and on stderr (an error).
func TestColor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		terminal bool
		env      map[string]string
		want     bool
	}{
		{"pipe", false, nil, false},
		{"terminal", true, map[string]string{"TERM": "xterm-256color"}, true},
		{"terminal, NO_COLOR", true, map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, false},
		{"terminal, TERM=dumb", true, map[string]string{"TERM": "dumb"}, false},
		{"terminal, CLICOLOR=0", true, map[string]string{"TERM": "xterm", "CLICOLOR": "0"}, false},
		{"pipe, CLICOLOR_FORCE", false, map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{"pipe, CLICOLOR_FORCE=0", false, map[string]string{"CLICOLOR_FORCE": "0"}, false},
		{"pipe, CLICOLOR_FORCE and NO_COLOR", false, map[string]string{"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tc.env[k] }
			var out, errw bytes.Buffer
			env := cli.Env{Stdout: &out, Stderr: &errw, Getenv: getenv, StdoutTTY: tc.terminal, Interactive: tc.terminal,
				ConfigDir: func() (string, error) { return t.TempDir(), nil }}
			if code := cli.Run(t.Context(), env, []string{"demo"}); code != cli.ExitOK {
				t.Fatalf("demo exited %d: %s", code, errw.String())
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tc.want {
				t.Errorf("demo output has escape codes: %v, want %v", got, tc.want)
			}
			errw.Reset()
			if code := cli.Run(t.Context(), env, []string{"frobnicate"}); code != cli.ExitUsage {
				t.Fatalf("frobnicate exited %d, want %d", code, cli.ExitUsage)
			}
			if got := strings.Contains(errw.String(), "\x1b["); got != tc.want {
				t.Errorf("error line %q has escape codes: %v, want %v", errw.String(), got, tc.want)
			}
		})
	}
}
