package spectrim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Policy names where the committed current-user document and an upstream
// Management API document disagree on who may call what. The document
// follows the seed's table (Auth0's page on Management API tokens for
// single-page applications), encoded in rules.go, so these are not drift
// that trimming would repair but decisions to review:
//
//   - an upstream operation that accepts a current-user scope and that the
//     document leaves out ("! upstream DELETE /users/{id}
//     (delete_users_by_id) accepts current-user scope delete:current_user;
//     the document leaves the operation out");
//   - a scope the document grants on an operation that upstream does not
//     list on it ("! PATCH /users/{id} (patch_users_by_id): the document
//     grants create:current_user_metadata; upstream does not list it").
//
// Operations are matched by operationId. The lines are sorted.
func Policy(committed, upstream []byte) ([]string, error) {
	ours, err := Parse(committed)
	if err != nil {
		return nil, err
	}
	up, err := Parse(upstream)
	if err != nil {
		return nil, err
	}
	upOps := operationsByID(mapAt(up, "paths"))
	ourOps := operationsByID(mapAt(ours, "paths"))
	var out []string
	for id, u := range upOps {
		if _, ok := ourOps[id]; ok {
			continue
		}
		if s := currentUserScopes(u.op); len(s) > 0 {
			out = append(out, fmt.Sprintf("! upstream %s %s (%s) accepts current-user scope %s; the document leaves the operation out",
				strings.ToUpper(u.method), u.path, id, strings.Join(s, ", ")))
		}
	}
	for id, o := range ourOps {
		u, ok := upOps[id]
		if !ok {
			continue // Diff reports the operation missing upstream
		}
		listed := scopes(u.op)
		for _, s := range scopes(o.op) {
			if !slices.Contains(listed, s) {
				out = append(out, fmt.Sprintf("! %s %s (%s): the document grants %s; upstream does not list it",
					strings.ToUpper(o.method), o.path, id, s))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// currentUserScopes lists the current-user scopes of op's security
// requirements, once each.
func currentUserScopes(op object) []string {
	var out []string
	for _, s := range scopes(op) {
		if isCurrentUserScope(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
