package bench

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRecording(t *testing.T) {
	t.Parallel()
	y := `---
version: 2
interactions:
    - id: 0
      request:
        body: |
            {"a":1}
        url: https://x.auth0.com/api/v2/users/auth0%7Cabc
        method: PATCH
      response:
        body: '{"name":"O''Brien"}'
        status: 200 OK
        code: 200
    - id: 1
      request:
        body: ""
        url: https://x.auth0.com/api/v2/device-credentials/d1
        method: DELETE
      response:
        body: ""
        code: 204
    - id: 2
      request:
        url: https://x.auth0.com/api/v2/things
        method: POST
      response:
        body: |
            line one
            line two
        code: 201
`
	its, err := parseRecording([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Method, Path string
		Code         int
		Body         string
	}
	var got []row
	for _, it := range its {
		got = append(got, row{it.Method, it.URL.EscapedPath(), it.Status, string(it.Body)})
	}
	want := []row{
		{"PATCH", "/api/v2/users/auth0%7Cabc", 200, `{"name":"O'Brien"}`},
		{"DELETE", "/api/v2/device-credentials/d1", 204, ""},
		{"POST", "/api/v2/things", 201, "line one\nline two\n"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("interactions (-want +got):\n%s", diff)
	}
}

func TestParseRecordingRejects(t *testing.T) {
	t.Parallel()
	for name, y := range map[string]string{
		"no code":         "interactions:\n    - id: 0\n      request:\n        url: https://x/a\n        method: GET\n      response:\n        body: ''\n",
		"bad code":        "interactions:\n    - id: 0\n      request:\n        url: https://x/a\n        method: GET\n      response:\n        code: two\n",
		"open quote body": "interactions:\n    - id: 0\n      request:\n        url: https://x/a\n        method: GET\n      response:\n        body: 'abc\n        code: 200\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseRecording([]byte(y)); err == nil {
				t.Error("parseRecording succeeded, want an error")
			}
		})
	}
}
