package spectrim

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPolicyAgainstJune: the June document declares delete:current_user on
// DELETE /users/{id}, which the seed's table leaves out, and lists only
// update:current_user_metadata on the PATCH, where the document also grants
// create:current_user_metadata.
func TestPolicyAgainstJune(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../../spec/current-user.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := Policy(committed, readShared(t, juneUpstream))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"! PATCH /users/{id} (patch_users_by_id): the document grants create:current_user_metadata; upstream does not list it",
		"! upstream DELETE /users/{id} (delete_users_by_id) accepts current-user scope delete:current_user; the document leaves the operation out",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
}

// TestPolicyFollowsTheDocuments: a difference goes when the documents
// agree, and a new one appears when upstream adds a current-user operation.
func TestPolicyFollowsTheDocuments(t *testing.T) {
	t.Parallel()
	ours := []byte(`paths:
  /users/{id}:
    patch:
      operationId: patch_users_by_id
      security:
        - currentUser: [update:current_user_metadata]
        - currentUser: [create:current_user_metadata]
`)
	agrees := []byte(`paths:
  /users/{id}:
    patch:
      operationId: patch_users_by_id
      security:
        - oauth: [update:users, update:current_user_metadata, create:current_user_metadata]
    delete:
      operationId: delete_users_by_id
      security:
        - oauth: [delete:users]
`)
	if lines, err := Policy(ours, agrees); err != nil || len(lines) != 0 {
		t.Errorf("documents that agree: %q, %v", lines, err)
	}
	adds := []byte(`paths:
  /users/{id}:
    patch:
      operationId: patch_users_by_id
      security:
        - oauth: [update:current_user_metadata, create:current_user_metadata]
  /users/{id}/sessions:
    get:
      operationId: get_sessions
      security:
        - oauth: [read:users]
        - oauth: [read:current_user, read:current_user_sessions]
`)
	lines, err := Policy(ours, adds)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "GET /users/{id}/sessions (get_sessions) accepts current-user scope read:current_user, read:current_user_sessions") {
		t.Errorf("new upstream operation: %q", lines)
	}
	if _, err := Policy([]byte("["), adds); err == nil {
		t.Error("a committed document that is not an object was accepted")
	}
}
