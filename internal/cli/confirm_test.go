package cli_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/auth0me/auth0me/api/apitest"
	"github.com/auth0me/auth0me/internal/cli"
)

// deletes counts the DELETE requests the tenant received.
func deletes(tn *apitest.Tenant) int {
	n := 0
	for _, r := range tn.Requests() {
		if r.Method == http.MethodDelete {
			n++
		}
	}
	return n
}

// TestUnlinkNotLinked: unlink says so when the identity is not linked, and
// sends nothing; a token that cannot read the profile unlinks without
// looking, and says it could not check.
func TestUnlinkNotLinked(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	tok := h.token(userAda, "update:current_user_identities", "read:current_user")
	res := h.run("unlink", "google-oauth2", "1071234567890", "--token", tok)
	if res.code != 0 || res.stdout != "google-oauth2|1071234567890 is not linked to auth0|ada; nothing was unlinked.\n" {
		t.Errorf("unlink of an identity not linked: %+v", res)
	}
	if n := deletes(tn); n != 0 {
		t.Errorf("%d DELETE requests, want none", n)
	}
	blind := h.token(userAda, "update:current_user_identities")
	res = h.run("unlink", "google-oauth2", "1071234567890", "--token", blind)
	if res.code != 0 || !strings.Contains(res.stdout, "cannot read the profile to check") {
		t.Errorf("unlink without read:current_user: %+v", res)
	}
}

// TestConfirm: on a terminal, unlink and device-credential delete ask, and
// only y or yes goes ahead; --yes does not ask; without a terminal nothing
// is asked.
func TestConfirm(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	tok := h.token(userAda, "update:current_user_identities", "read:current_user", "delete:current_user_device_credentials")
	if res := h.run("link", "--id-token", tn.IDToken(userGoog), "--token", tok); res.code != 0 {
		t.Fatalf("link: %+v", res)
	}
	id, err := tn.AddDeviceCredential(apitest.DeviceCredential{UserID: userAda, ClientID: tn.ClientID(), DeviceName: "old phone", DeviceID: "abcd", Value: "AAAA"})
	if err != nil {
		t.Fatal(err)
	}
	unlink := []string{"unlink", "google-oauth2", "1071234567890", "--token", tok}
	del := []string{"device-credential", "delete", id, "--token", tok}

	h.stdinTTY = true
	for _, answer := range []string{"", "n\n", "no\n", "maybe\n"} {
		h.stdin = answer
		for _, args := range [][]string{unlink, del} {
			res := h.run(args...)
			if res.code != cli.ExitUsage || !strings.Contains(res.stderr, "? [y/N] auth0me: not confirmed; nothing was sent") {
				t.Errorf("%s answered %q: %+v", args[0], answer, res)
			}
		}
	}
	if n := deletes(tn); n != 0 {
		t.Fatalf("%d DELETE requests after declining, want none", n)
	}
	h.stdin = "y\n"
	if res := h.run(unlink...); res.code != 0 || !strings.Contains(res.stderr, "Unlink google-oauth2|1071234567890 from auth0|ada? [y/N]") {
		t.Errorf("unlink answered y: %+v", res)
	}
	h.stdin = ""
	if res := h.run(append(del, "--yes")...); res.code != 0 || res.stderr != "" {
		t.Errorf("device-credential delete --yes asked or failed: %+v", res)
	}
	// Not a terminal: no question, even without --yes.
	h.stdinTTY = false
	if res := h.run("link", "--id-token", tn.IDToken(userGoog), "--token", tok); res.code != 0 {
		t.Fatalf("link again: %+v", res)
	}
	if res := h.run(unlink...); res.code != 0 || res.stderr != "" {
		t.Errorf("unlink with stdin not a terminal: %+v", res)
	}
	if n := deletes(tn); n != 3 {
		t.Errorf("%d DELETE requests, want 3", n)
	}
}

// TestMeIdentitiesAligned: with identities of different lengths, me lines
// their connections up.
func TestMeIdentitiesAligned(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	tok := h.token(userAda, "update:current_user_identities", "read:current_user")
	if res := h.run("link", "--id-token", tn.IDToken(userGoog), "--token", tok); res.code != 0 {
		t.Fatalf("link: %+v", res)
	}
	res := h.run("me", "--token", tok)
	var cols []int
	for line := range strings.SplitSeq(res.stdout, "\n") {
		if i := strings.Index(line, "(connection "); i >= 0 {
			cols = append(cols, i)
		}
	}
	if len(cols) != 2 || cols[0] != cols[1] {
		t.Errorf("identity connections start at columns %v, want two equal:\n%s", cols, res.stdout)
	}
}

// TestDeleteMaybeDeleted: when the first delete's answer is lost and the
// retry finds nothing, the command says the first attempt may have deleted
// the credential, rather than only Auth0's 404.
func TestDeleteMaybeDeleted(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	h := newHarness(t, tn)
	id, err := tn.AddDeviceCredential(apitest.DeviceCredential{UserID: userAda, ClientID: tn.ClientID(), DeviceName: "old phone", DeviceID: "abcd", Value: "AAAA"})
	if err != nil {
		t.Fatal(err)
	}
	tn.InjectFault(apitest.OpDeleteDeviceCredential, apitest.Fault{Drop: apitest.DropAfterAct, Times: 1})
	res := h.run("device-credential", "delete", id, "--token", h.token(userAda, "delete:current_user_device_credentials"))
	if res.code != cli.ExitAPI || !strings.Contains(res.stderr, "may have deleted it") || strings.Contains(res.stderr, "Auth0 answered") {
		t.Errorf("delete whose first answer was lost: %+v", res)
	}
}
