package bench_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bench"
)

// tenantEnv, when "1", makes the test binary a tenant helper process.
const tenantEnv = "AUTH0ME_BENCH_TENANT"

func TestMain(m *testing.M) {
	if os.Getenv(tenantEnv) == "1" {
		if err := bench.ServeTenant(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	remoteOnce.close()
	memOnce.close()
	os.Exit(code)
}

// remote is a tenant in a helper process (this test binary, re-executed),
// so that the loopback benchmarks' B/op and allocs/op count the client's
// allocations only, and the server's garbage is collected elsewhere.
type remote struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	f   bench.Fixture
}

func startRemote() (*remote, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), tenantEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &remote{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := r.out.ReadBytes('\n')
	if err != nil {
		r.close()
		return nil, fmt.Errorf("tenant helper: %w", err)
	}
	if err := json.Unmarshal(line, &r.f); err != nil {
		r.close()
		return nil, fmt.Errorf("tenant helper: %w", err)
	}
	return r, nil
}

// reset makes the helper forget its recorded requests.
func (r *remote) reset() error {
	if _, err := io.WriteString(r.in, "reset\n"); err != nil {
		return err
	}
	line, err := r.out.ReadString('\n')
	if err != nil || line != "ok\n" {
		return fmt.Errorf("tenant helper: reset: %q, %v", line, err)
	}
	return nil
}

func (r *remote) close() {
	r.in.Close()
	r.cmd.Wait()
}

// lazy starts a fixture once, on first use.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
	stop func()
}

func (l *lazy[T]) get(tb testing.TB, start func() (T, func(), error)) T {
	tb.Helper()
	l.once.Do(func() { l.v, l.stop, l.err = start() })
	switch {
	case errors.Is(l.err, bench.ErrNoRecordings):
		tb.Skip(l.err)
	case l.err != nil:
		tb.Fatal(l.err)
	}
	return l.v
}

func (l *lazy[T]) close() {
	if l.stop != nil {
		l.stop()
	}
}

var remoteOnce lazy[*remote]

func loopback(tb testing.TB) *remote {
	return remoteOnce.get(tb, func() (*remote, func(), error) {
		r, err := startRemote()
		if err != nil {
			return nil, nil, err
		}
		return r, r.close, nil
	})
}

// memFixture is an in-process tenant used only to sign tokens for the
// in-memory variant (nothing is sent to it) plus the recorded transport.
type memFixture struct {
	tn  *apitest.Tenant
	f   bench.Fixture
	rec *bench.Recorded
}

var memOnce lazy[*memFixture]

func memory(tb testing.TB) *memFixture {
	return memOnce.get(tb, func() (*memFixture, func(), error) {
		recs, err := bench.LoadRecordings(bench.DefaultRecordings)
		if err != nil {
			return nil, nil, err
		}
		rec, err := bench.NewRecorded(recs)
		if err != nil {
			return nil, nil, err
		}
		tn, err := apitest.Start()
		if err != nil {
			return nil, nil, err
		}
		f, err := bench.Seed(tn)
		if err != nil {
			tn.Close()
			return nil, nil, err
		}
		return &memFixture{tn: tn, f: f, rec: rec}, tn.Close, nil
	})
}

// memClient is the *http.Client every library gets in the in-memory variant.
func (m *memFixture) client() *http.Client { return &http.Client{Transport: m.rec} }
