package cli_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// served is a running 'auth0me serve'.
type served struct {
	lines  []string // printed until the tenant was ready
	stop   context.CancelFunc
	done   chan int // the exit status, once Run returns
	stderr *strings.Builder
}

// startServe runs 'auth0me serve args...' in-process until the test ends
// (or stop), and returns once it printed a line for which ready is true.
func startServe(t *testing.T, ready func(string) bool, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &served{stop: cancel, done: make(chan int, 1), stderr: &strings.Builder{}}
	env := cli.Env{Stdout: pw, Stderr: s.stderr, Getenv: func(string) string { return "" }}
	go func() {
		code := cli.Run(ctx, env, append([]string{"serve"}, args...))
		pw.Close()
		s.done <- code
	}()
	t.Cleanup(func() {
		cancel()
		pr.Close()
		code := <-s.done
		s.done <- code
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve ended before it was ready: %q", s.lines)
			}
			s.lines = append(s.lines, l)
			if ready(l) {
				go func() { // keep the pipe flowing
					for range lines {
					}
				}()
				return s
			}
		case <-timeout:
			t.Fatalf("serve not ready within 30s: %q", s.lines)
		}
	}
}

func (s *served) wait(t *testing.T) int {
	t.Helper()
	s.stop()
	select {
	case code := <-s.done:
		s.done <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of its context")
		return -1
	}
}

func TestServeJSON(t *testing.T) {
	t.Parallel()
	s := startServe(t, func(string) bool { return true }, "--json", "--allowed-origin", "http://localhost:5173", "--user", "auth0|alice", "--user", "google-oauth2|42")
	var got map[string]any
	if err := json.Unmarshal([]byte(s.lines[0]), &got); err != nil {
		t.Fatalf("first line is not the JSON object: %v\n%s", err, s.lines[0])
	}
	url, _ := got["url"].(string)
	token, _ := got["token"].(string)
	domain, ok := strings.CutPrefix(url, "http://")
	if !ok || !strings.HasPrefix(domain, "127.0.0.1:") || !strings.HasPrefix(token, "eyJ") {
		t.Fatalf("url %q, token %.10q", url, token)
	}
	want := map[string]any{
		"domain":          domain,
		"url":             url,
		"base_url":        url + "/api/v2/",
		"client_id":       apitest.DefaultClientID,
		"audience":        "https://" + domain + "/api/v2/",
		"issuer":          "https://" + domain + "/",
		"login_user":      "auth0|alice",
		"users":           []any{"auth0|alice", "google-oauth2|42"},
		"allowed_origins": []any{"http://localhost:5173"},
		"token":           token,
		"exports":         []any{"export AUTH0ME_BASE_URL=" + url, "export AUTH0_TOKEN=" + token},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("serve --json (-want +got):\n%s", diff)
	}

	// The export lines point this command at the tenant.
	env := map[string]string{}
	for _, e := range want["exports"].([]any) {
		k, v, _ := strings.Cut(strings.TrimPrefix(e.(string), "export "), "=")
		env[k] = v
	}
	var out strings.Builder
	dir := t.TempDir()
	code := cli.Run(t.Context(), cli.Env{Stdout: &out, Getenv: func(k string) string { return env[k] },
		ConfigDir: func() (string, error) { return dir, nil }}, []string{"me", "--json"})
	if code != cli.ExitOK || !strings.Contains(out.String(), `"user_id": "auth0|alice"`) {
		t.Errorf("auth0me me with the printed exports: exit %d\n%s", code, out.String())
	}

	// CORS for the allowed origin.
	req, _ := http.NewRequestWithContext(t.Context(), "OPTIONS", url+"/api/v2/users/me", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "GET")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}

	if code := s.wait(t); code != cli.ExitOK {
		t.Errorf("exit %d after the context ended, want 0; stderr: %s", code, s.stderr)
	}
	if _, err := http.Get(url + "/.well-known/jwks.json"); err == nil {
		t.Error("the tenant still answers after serve returned")
	}
}

func TestServeTLSText(t *testing.T) {
	t.Parallel()
	s := startServe(t, func(l string) bool { return l == "Press Ctrl-C to stop." }, "--tls", "--plan", "free")
	rows := map[string]string{}
	for _, l := range s.lines {
		if k, v, ok := strings.Cut(l, "  "); ok {
			rows[k] = strings.TrimSpace(v)
		}
	}
	url, caFile := rows["URL"], rows["CA file"]
	if !strings.HasPrefix(url, "https://127.0.0.1:") || caFile == "" {
		t.Fatalf("output:\n%s", strings.Join(s.lines, "\n"))
	}
	for _, want := range []string{"  export AUTH0ME_BASE_URL=" + url, "  export SSL_CERT_FILE=" + caFile, "  export NODE_EXTRA_CA_CERTS=" + caFile} {
		if !slices.Contains(s.lines, want) {
			t.Errorf("no line %q in:\n%s", want, strings.Join(s.lines, "\n"))
		}
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("CA file %s holds no certificate", caFile)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := c.Get(url + "/api/v2/users/me")
	c.CloseIdleConnections()
	if err != nil {
		t.Fatalf("a client trusting only the CA file: %v", err)
	}
	res.Body.Close()
	if res.Header.Get("X-RateLimit-Limit") != "2" {
		t.Errorf("--plan free: X-RateLimit-Limit %q, want 2", res.Header.Get("X-RateLimit-Limit"))
	}
	if code := s.wait(t); code != cli.ExitOK {
		t.Errorf("exit %d, want 0", code)
	}
	if !strings.Contains(s.stderr.String(), "stopped") {
		t.Errorf("stderr %q", s.stderr)
	}
	if _, err := os.Stat(caFile); !os.IsNotExist(err) {
		t.Errorf("CA file %s left behind: %v", caFile, err)
	}
}

func TestServeUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--plan", "gold"},
		{"--addr", "0.0.0.0:0"},
		{"--addr", "nonsense"},
		{"--allowed-origin", "ftp://x.example"},
		{"--user", "no-provider"},
		{"extra-argument"},
	} {
		var errb strings.Builder
		code := cli.Run(t.Context(), cli.Env{Stderr: &errb, Getenv: func(string) string { return "" }}, append([]string{"serve"}, args...))
		if code != cli.ExitUsage {
			t.Errorf("serve %q: exit %d, want %d; stderr: %s", args, code, cli.ExitUsage, errb.String())
		}
	}
}
