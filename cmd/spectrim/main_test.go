package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	june      = "../../../shared/auth0/management-api-oas.2026-06-25.json"
	march     = "../../../shared/auth0/management-api-oas.2026-03-20.json"
	committed = "../../spec/current-user.yaml"
)

func runSpectrim(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestExitStatus: 0 same, 1 drift, 2 error, as --help documents.
func TestExitStatus(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(june); err != nil {
		t.Skipf("needs %s (the shared folder beside the checkout)", june)
	}
	code, out, _ := runSpectrim("-diff", committed, june)
	if code != 0 || !strings.Contains(out, "matches") {
		t.Errorf("committed vs June: exit %d\n%s", code, out)
	}
	for _, want := range []string{"delete:current_user", "create:current_user_metadata"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not name the policy difference %s:\n%s", want, out)
		}
	}
	code, out, _ = runSpectrim("-diff", committed, march)
	if code != 1 || !strings.Contains(out, "differs") {
		t.Errorf("committed vs March: exit %d, want 1 (drift)\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"openapi":"3.0.0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-diff", committed, bad},
		{"-diff", committed, "/nonexistent"},
		{"-diff", "/nonexistent", june},
		{},
		{"-o", "x", "-diff", committed, june},
		{"-nosuchflag", june},
	} {
		if code, _, _ := runSpectrim(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// TestHelpDocumentsExitStatus: --help exits 0 and states the exit codes.
func TestHelpDocumentsExitStatus(t *testing.T) {
	t.Parallel()
	code, _, help := runSpectrim("--help")
	if code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	for _, want := range []string{"0  written", "1  with -diff", "2  error", "-diff"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q:\n%s", want, help)
		}
	}
}
