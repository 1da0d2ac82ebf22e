package proof

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/auth0me/auth0me/api"
	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/bff"
)

// bffRequest is one request a browser sends to the bff Handler.
type bffRequest struct{ method, path, body string }

// bffRequests reach every route, with good and refused bodies; link is the
// body of a link with a real ID token.
func bffRequests(link string) []bffRequest {
	return []bffRequest{
		{"GET", "/me", ""},
		{"GET", "/me/enrollments", ""},
		{"PATCH", "/me/metadata", `{"theme": "dark"}`},
		{"PATCH", "/me/metadata", `{"theme": null, "role": "admin"}`},
		{"PATCH", "/me/metadata", `{"theme": "neon"}`},
		{"PATCH", "/me/metadata", `{}`},
		{"POST", "/me/identities", link},
		{"POST", "/me/identities", `{"id_token": "x.y.z"}`},
		{"DELETE", "/me/identities/github/sec", ""},
		{"DELETE", "/me/identities/github/..", ""},
		{"POST", "/me/device-credentials", `{"device_name": "d", "device_id": "ab12", "value": "cHVi"}`},
		{"POST", "/me/device-credentials", `{"device_name": "d", "device_id": "no!", "value": "cHVi"}`},
		{"DELETE", "/me/device-credentials/dcr_nothere", ""},
		{"GET", "/users/auth0%7Calice", ""},
	}
}

// TestBFFAnswers drives a bff.Handler through every route against apitest
// with each scope set, each status fault and unusable tokens, and against
// an upstream that echoes the caller's token in every error body. Every
// answer (status, headers, body) and every log line goes to the leak scan;
// no answer may be a 500.
func TestBFFAnswers(t *testing.T) {
	defer leaks.markRan("bff")
	tn := apitest.New(t)
	addUsers(t, tn, apitest.User{ID: "auth0|alice", Email: "alice@example.com", UserMetadata: map[string]any{"theme": "light"}},
		apitest.User{ID: "github|sec", Email: "sec@example.com"})
	client, err := api.New(tn.Domain(), static(""), api.WithBaseURL(tn.BaseURL()),
		api.WithLogger(leaks.logger("bff client")), api.WithMaxRetries(1), api.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	link, _ := json.Marshal(map[string]string{"id_token": idToken(tn, "github|sec")})
	reqs := bffRequests(string(link))

	run := func(t *testing.T, client *api.Client, ts oauth2.TokenSource, tsErr error) {
		t.Helper()
		h, err := bff.New(client, func(*http.Request) (oauth2.TokenSource, error) { return ts, tsErr },
			bff.Allow(bff.ReadProfile, bff.ReadEnrollments, bff.WriteMetadata, bff.LinkIdentity,
				bff.UnlinkIdentity, bff.CreateDeviceCredential, bff.DeleteDeviceCredential),
			bff.WithMetadataPolicy(bff.MetadataPolicy{Keys: map[string]bff.MetadataKey{"theme": {Schema: `{"enum": ["light", "dark"]}`}}}),
			bff.WithUserLimit(rate.Inf, 1),
			bff.WithLogger(leaks.logger("bff")), bff.WithLoggedValues())
		if err != nil {
			t.Fatal(err)
		}
		for _, rq := range reqs {
			r := httptest.NewRequestWithContext(t.Context(), rq.method, rq.path, strings.NewReader(rq.body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var head strings.Builder
			w.Header().Write(&head)
			leaks.add("bff response", fmt.Sprintf("%s %s: %d\n%s\n%s", rq.method, rq.path, w.Code, head.String(), w.Body))
			if w.Code == http.StatusInternalServerError {
				t.Errorf("%s %s: 500 %s", rq.method, rq.path, w.Body)
			}
		}
	}

	t.Run("scopes", func(t *testing.T) {
		for _, scopes := range [][]string{allScopes, {"read:current_user"}, nil} {
			run(t, client, static(accessToken(tn, "auth0|alice", scopes...)), nil)
		}
	})
	t.Run("tenant faults", func(t *testing.T) {
		tok := accessToken(tn, "auth0|alice", allScopes...)
		for _, f := range []apitest.Fault{
			{Status: 400}, {Status: 401}, {Status: 403}, {Status: 404}, {Status: 409}, {Status: 429}, {Status: 500},
			{Drop: apitest.DropBeforeAct}, {Drop: apitest.DropAfterAct}, {Truncate: true},
		} {
			for _, op := range []string{apitest.OpGetUser, apitest.OpGetEnrollments, apitest.OpPatchUser, apitest.OpLinkIdentity,
				apitest.OpUnlinkIdentity, apitest.OpCreateDeviceCredential, apitest.OpDeleteDeviceCredential} {
				tn.InjectFault(op, f)
			}
			run(t, client, static(tok), nil)
			tn.ClearFaults()
		}
	})
	t.Run("unusable tokens", func(t *testing.T) {
		claims := tn.AccessTokenClaims("auth0|alice", allScopes...)
		claims["exp"] = time.Now().Add(-time.Hour).Unix()
		expired, err := tn.SignToken(claims)
		if err != nil {
			t.Fatal(err)
		}
		leaks.token("expired access token", expired)
		wrongKey, err := tn.SignToken(tn.AccessTokenClaims("auth0|alice", allScopes...), apitest.SignedWithHS256([]byte("0123456789abcdef0123456789abcdef")))
		if err != nil {
			t.Fatal(err)
		}
		leaks.token("HS256 access token", wrongKey)
		tok := accessToken(tn, "auth0|alice", allScopes...)
		run(t, client, static(expired), nil)
		run(t, client, static(wrongKey), nil)
		// A token source and a user function whose errors hold the token.
		run(t, client, failingSource{errors.New("refresh failed for " + tok)}, nil)
		run(t, client, nil, errors.New("session holds "+tok))
	})
	t.Run("upstream echoing the token", func(t *testing.T) {
		echo := newEchoServer(t)
		host := strings.TrimPrefix(echo.srv.URL, "http://")
		claims := tn.AccessTokenClaims("auth0|alice", allScopes...)
		claims["aud"] = "https://" + host + "/api/v2/"
		tok, err := tn.SignToken(claims)
		if err != nil {
			t.Fatal(err)
		}
		leaks.token("access token", tok)
		ec, err := api.New(host, static(""), api.WithBaseURL(echo.srv.URL+"/api/v2/"),
			api.WithLogger(leaks.logger("bff client")), api.WithoutRetries())
		if err != nil {
			t.Fatal(err)
		}
		for _, status := range []int{400, 401, 403, 404, 409, 429, 500, 200} {
			echo.setStatus(status)
			run(t, ec, static(tok), nil)
		}
		if echo.received() == 0 {
			t.Error("the echoing upstream received nothing")
		}
	})
}

type failingSource struct{ err error }

func (s failingSource) Token() (*oauth2.Token, error) { return nil, s.err }

// echoServer answers every request with its status and a body that puts the
// request's bearer token in every field of Auth0's error shape (and, for
// 200, in a profile's identities, where Auth0 puts identity providers'
// tokens).
type echoServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int
	n      int
}

func newEchoServer(t *testing.T) *echoServer {
	e := &echoServer{status: 400}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		e.mu.Lock()
		status := e.status
		e.n++
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", tok)
		w.WriteHeader(status)
		body := map[string]any{"statusCode": status, "error": tok, "message": "bad token " + tok, "errorCode": tok}
		if status == 200 {
			body = map[string]any{"user_id": "auth0|alice", "user_metadata": map[string]any{"theme": "dark"},
				"identities": []any{map[string]any{"provider": "auth0", "user_id": "alice", "connection": "c", "access_token": tok, "profileData": map[string]any{"t": tok}}}}
		}
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *echoServer) setStatus(s int) {
	e.mu.Lock()
	e.status = s
	e.mu.Unlock()
}

func (e *echoServer) received() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}
