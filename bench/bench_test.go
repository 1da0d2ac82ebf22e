package bench_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bench"
)

// TestClients runs the seven operations with every library against one
// tenant and checks the requests the tenant saw, so that each adapter is
// known to call the operation it is named after.
func TestClients(t *testing.T) {
	t.Parallel()
	for _, lib := range bench.Libraries {
		t.Run(string(lib), func(t *testing.T) {
			t.Parallel()
			tn, err := apitest.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(tn.Close)
			f, err := bench.Seed(tn)
			if err != nil {
				t.Fatal(err)
			}
			c, err := bench.New(lib, f.Config())
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			steps := []struct {
				name string
				do   func() error
			}{
				{"Me", func() error { return c.Me(ctx) }},
				{"Enrollments", func() error { return c.Enrollments(ctx) }},
				{"UpdateMetadata", func() error { return c.UpdateMetadata(ctx, map[string]any{"color": "red"}) }},
				{"LinkIdentity", func() error { return c.LinkIdentity(ctx, f.SecondaryIDToken) }},
				{"UnlinkIdentity", func() error { return c.UnlinkIdentity(ctx, f.SecondaryProvider, f.SecondaryUserID) }},
				{"DeviceCredentials", func() error {
					id, err := c.CreateDeviceCredential(ctx, f.Device())
					if err != nil {
						return err
					}
					if id == "" {
						return errors.New("empty credential id")
					}
					return c.DeleteDeviceCredential(ctx, id)
				}},
			}
			for _, s := range steps {
				if err := s.do(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
			}
			u, ok := tn.User(bench.PrimaryID)
			if !ok || u.UserMetadata["color"] != "red" {
				t.Errorf("user_metadata after UpdateMetadata = %v, want color red", u.UserMetadata)
			}
			var got []string
			for _, r := range tn.Requests() {
				p := r.EscapedPath
				if i := strings.LastIndex(p, "/"); strings.HasPrefix(p, "/api/v2/device-credentials/") {
					p = p[:i] + "/{id}"
				}
				got = append(got, r.Method+" "+p)
			}
			want := []string{
				"GET /api/v2/users/auth0%7C6470bench0000000000000001",
				"GET /api/v2/users/auth0%7C6470bench0000000000000001/enrollments",
				"PATCH /api/v2/users/auth0%7C6470bench0000000000000001",
				"POST /api/v2/users/auth0%7C6470bench0000000000000001/identities",
				"DELETE /api/v2/users/auth0%7C6470bench0000000000000001/identities/auth0/6470bench0000000000000002",
				"POST /api/v2/device-credentials",
				"DELETE /api/v2/device-credentials/{id}",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRecorded checks the in-memory transport answers each operation with
// the recorded status and a body of the right shape.
func TestRecorded(t *testing.T) {
	t.Parallel()
	recs, err := bench.LoadRecordings(bench.DefaultRecordings)
	if errors.Is(err, bench.ErrNoRecordings) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	rec, err := bench.NewRecorded(recs)
	if err != nil {
		t.Fatal(err)
	}
	const base = "http://127.0.0.1:1/api/v2/"
	tests := []struct {
		method, path string
		op           bench.Op
		status       int
		bodyHas      string
	}{
		{http.MethodGet, "users/auth0%7Cx", bench.OpMe, 200, `"user_id":"auth0|63d17c4a9d503d76c056c160"`},
		{http.MethodGet, "users/auth0%7Cx/enrollments", bench.OpEnrollments, 200, `[]`},
		{http.MethodPatch, "users/auth0%7Cx", bench.OpUpdate, 200, `"last_password_reset"`},
		{http.MethodPost, "users/auth0%7Cx/identities", bench.OpLink, 201, `"profileData"`},
		{http.MethodDelete, "users/auth0%7Cx/identities/auth0/y", bench.OpUnlink, 200, `"provider":"auth0"`},
		{http.MethodPost, "device-credentials", bench.OpCreateDevice, 201, `{"id":"test_credential"}`},
		{http.MethodDelete, "device-credentials/dcr_1", bench.OpDeleteDevice, 204, ``},
		{http.MethodGet, "clients", "", 404, `"statusCode":404`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(context.Background(), tt.method, base+tt.path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rec.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.bodyHas) {
				t.Errorf("got %d %q, want %d with %q", resp.StatusCode, body, tt.status, tt.bodyHas)
			}
			if tt.op != "" {
				if st, _ := rec.Answer(tt.op); st != tt.status {
					t.Errorf("Answer(%s) status = %d, want %d", tt.op, st, tt.status)
				}
			}
		})
	}
}

func TestParseBench(t *testing.T) {
	t.Parallel()
	out := `goos: linux
BenchmarkOp/net=memory/op=Me/lib=auth0me-2   	     100	     58224 ns/op	   14138 B/op	     185 allocs/op
BenchmarkOp/net=memory/op=Me/lib=auth0me-2   	     100	     60000 ns/op	   14138 B/op	     185 allocs/op
BenchmarkOp/net=memory/op=Me/lib=auth0me-2   	     100	     70000 ns/op	   14138 B/op	     185 allocs/op
BenchmarkOp/net=memory/op=Me/lib=go-auth0-v1-2   	     100	     37507 ns/op	    8338 B/op	     113 allocs/op
BenchmarkOp/net=memory/op=Me/lib=go-auth0-v3-2   	     100	     99036 ns/op	   21835 B/op	     348 allocs/op
BenchmarkGoodput/K=16/lib=auth0me-2 	       1	3528682866 ns/op	        14.29 %429	         0 failed	         1.185 x-min
PASS
`
	s, err := bench.ParseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 6 {
		t.Fatalf("parsed %d samples, want 6", len(s))
	}
	if diff := cmp.Diff(map[string]string{"net": "memory", "op": "Me", "lib": "auth0me"}, s[0].Keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if v, n := bench.Median(s, "Op", "ns/op", map[string]string{"op": "Me", "lib": "auth0me"}); v != 60000 || n != 3 {
		t.Errorf("Median = %v over %d, want 60000 over 3", v, n)
	}
	lib, v, ok := bench.Best(s, "Op", "allocs/op", map[string]string{"op": "Me"}, bench.Peers)
	if !ok || lib != bench.V1 || v != 113 {
		t.Errorf("Best = %s %v %v, want go-auth0-v1 113 true", lib, v, ok)
	}
	if v, _ := bench.Median(s, "Goodput", "x-min", map[string]string{"K": "16"}); v != 1.185 {
		t.Errorf("x-min = %v, want 1.185", v)
	}
}
