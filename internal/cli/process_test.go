package cli_test

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// removeBinary deletes what binary built; TestMain calls it.
func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// binary builds cmd/auth0me once per test binary and returns its path:
// the tests below run the command as separate processes, as users do.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		binDir, binErr = os.MkdirTemp("", "auth0me-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "auth0me")
		out, err := exec.Command(goTool, "build", "-o", binPath, "github.com/auth0me/auth0me/cmd/auth0me").CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("building auth0me: %v\n%s", binErr, binPath)
	}
	return binPath
}

// command returns the built binary with args, an environment holding only
// PATH, a scratch HOME and the harness's token directory, and buffers for
// its output.
func (h *harness) command(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	h.t.Helper()
	cmd := exec.CommandContext(h.t.Context(), binary(h.t), args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.t.TempDir(),
		"AUTH0ME_CONFIG_DIR=" + filepath.Dir(h.tokenFile()),
	}
	for k, v := range h.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// refreshCount counts the refresh_token grants the tenant received.
func refreshCount(t *testing.T, tn *apitest.Tenant) int {
	t.Helper()
	n := 0
	for _, f := range tokenRequests(t, tn) {
		if f.Get("grant_type") == "refresh_token" {
			n++
		}
	}
	return n
}

// TestParallelRefreshProcesses: eight 'auth0me me' processes started
// together after the access token expired all succeed, and exactly one
// refresh reaches the tenant: the others wait for the token file's lock,
// read the file again and use the token the first one saved. Without the
// lock, refresh-token rotation's reuse detection revoked the family and
// signed the user out.
func TestParallelRefreshProcesses(t *testing.T) {
	t.Parallel()
	// Login with 5-second access tokens, which x/oauth2 already counts as
	// expired (it refreshes 10 s early); refreshed ones live an hour.
	tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda), apitest.WithTokenLifetimes(5*time.Second, time.Hour))
	h := newHarness(t, tn)
	h.login()
	tn.SetTokenLifetimes(time.Hour, time.Hour)
	login := h.readTokenFile()

	const n = 8
	type run struct {
		cmd      *exec.Cmd
		out, err *bytes.Buffer
	}
	runs := make([]run, n)
	for i := range runs {
		cmd, out, errb := h.command("me")
		runs[i] = run{cmd, out, errb}
	}
	for _, r := range runs {
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range runs {
		err := r.cmd.Wait()
		res := result{code: r.cmd.ProcessState.ExitCode(), stdout: r.out.String(), stderr: r.err.String()}
		h.checkSecrets(res)
		if err != nil || !strings.Contains(res.stdout, userAda) {
			t.Errorf("process %d: %v\nstdout: %s\nstderr: %s", i, err, res.stdout, res.stderr)
		}
	}
	if got := refreshCount(t, tn); got != 1 {
		t.Errorf("%d refresh requests reached the tenant, want exactly 1", got)
	}
	gets := 0
	for _, r := range tn.Requests() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.EscapedPath, "/api/v2/users/") && r.Status == http.StatusOK {
			gets++
		}
	}
	if gets != n {
		t.Errorf("%d profile reads answered 200, want %d", gets, n)
	}
	now := h.readTokenFile()
	if now.RefreshToken == login.RefreshToken || !now.Expiry.After(login.Expiry) {
		t.Errorf("the token file does not hold the refreshed, rotated tokens")
	}
	t.Logf("%d processes, %d refresh request(s), %d profile reads", n, refreshCount(t, tn), gets)
}

// TestInterruptLogin sends a real SIGINT or SIGTERM to a built binary
// waiting in each login flow: it exits 130 or 143, the shell's 128 plus
// the signal's number, says so on one line, and leaves no token file.
func TestInterruptLogin(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	for _, tc := range []struct {
		name    string
		args    []string
		waiting string // what stderr says once the flow waits
		signal  syscall.Signal
		exit    int
	}{
		{"browser", []string{"--no-browser"}, "Waiting for the browser", syscall.SIGINT, cli.ExitInterrupted},
		{"device", []string{"--device"}, "Waiting for approval", syscall.SIGINT, cli.ExitInterrupted},
		{"device SIGTERM", []string{"--device"}, "Waiting for approval", syscall.SIGTERM, cli.ExitTerminated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tn := apitest.New(t, testUsers, apitest.WithLoginUser(userAda))
			h := newHarness(t, tn)
			cmd, _, _ := h.command(append([]string{"login", "--client-id", tn.ClientID(), "--base-url", tn.URL()}, tc.args...)...)
			cmd.Stderr = nil
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var seen strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				seen.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), tc.waiting) {
					break
				}
			}
			if err := cmd.Process.Signal(tc.signal); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
				seen.WriteString(sc.Text() + "\n")
			}
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tc.exit {
				t.Errorf("exit %d after %v, want %d; stderr:\n%s", code, tc.signal, tc.exit, seen.String())
			}
			if !strings.HasSuffix(seen.String(), "\nauth0me: interrupted\n") {
				t.Errorf("stderr does not end with 'auth0me: interrupted':\n%s", seen.String())
			}
			if _, err := os.Stat(h.tokenFile()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an interrupted login left a token file: %v", err)
			}
			t.Logf("login %s: %v -> exit %d", tc.name, tc.signal, cmd.ProcessState.ExitCode())
		})
	}
}

// TestCompletionBash loads 'auth0me completion bash' into bash and, where
// the bash-completion package is installed, completes a command, a
// subcommand, a flag and a help topic through the built binary.
func TestCompletionBash(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	bin := binary(t)
	script := `source <(auth0me completion bash) && complete -p auth0me`
	const helpers = "/usr/share/bash-completion/bash_completion"
	_, statErr := os.Stat(helpers)
	if statErr == nil {
		script = "source " + helpers + "\n" + script + `
try() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); __start_auth0me auth0me 2>/dev/null; echo "[$*] -> ${COMPREPLY[*]}"; }
try auth0me enr
try auth0me metadata s
try auth0me me --d
try auth0me help ex
`
	}
	cmd := exec.CommandContext(t.Context(), bash, "-c", script)
	cmd.Env = []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := []string{"complete -o default -F __start_auth0me auth0me"}
	if statErr == nil {
		want = append(want, "[auth0me enr] -> enrollments", "[auth0me metadata s] -> set", "[auth0me me --d] -> --debug --domain", "[auth0me help ex] -> exit-codes")
	} else {
		t.Logf("%s missing: only loading the script is checked", helpers)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w+"\n") {
			t.Errorf("bash completion output lacks %q:\n%s", w, out)
		}
	}
	t.Logf("%s", out)
}
