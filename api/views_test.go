package api_test

import (
	"fmt"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/auth0me/auth0me/api/apitest"
)

// TestPerUserViews serves many users at once from one Client: each view
// acts as its own user only.
func TestPerUserViews(t *testing.T) {
	t.Parallel()
	tn := apitest.New(t, testUsers)
	root := newClient(t, tn, alice, allScopes)
	const users = 40
	for i := range users {
		if err := tn.AddUser(apitest.User{ID: fmt.Sprintf("auth0|u%02d", i), Email: fmt.Sprintf("u%02d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, users)
	for i := range users {
		wg.Go(func() {
			sub := fmt.Sprintf("auth0|u%02d", i)
			v := root.ForToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tn.AccessToken(sub, allScopes...)}))
			for j := range 3 {
				u, err := v.UpdateMetadata(t.Context(), map[string]any{fmt.Sprintf("k%d", j): sub})
				if err != nil {
					errs <- err
					return
				}
				if u.UserID != sub {
					errs <- fmt.Errorf("view for %s updated %s", sub, u.UserID)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range users {
		sub := fmt.Sprintf("auth0|u%02d", i)
		u, _ := tn.User(sub)
		for j := range 3 {
			if got := u.UserMetadata[fmt.Sprintf("k%d", j)]; got != sub {
				t.Errorf("%s k%d = %v", sub, j, got)
			}
		}
	}
	if u, _ := tn.User(alice); len(u.UserMetadata) != 1 {
		t.Errorf("the root view's user was touched: %v", u.UserMetadata)
	}
}
