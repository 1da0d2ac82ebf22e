// Package proof holds no code: its tests prove, end to end, that the pieces
// of auth0me hold together the way issue 8 says they must. Each suite runs
// in make test and fails when the property it names breaks.
//
//   - TestDifferentialGating: for every subset of the six current-user
//     scopes, every operation of gen.Operations and every form of id (me,
//     the token's own sub, another user's id, empty and dot segments, ids
//     with slashes; for device credentials: own, another user's, none),
//     scopeguard's decision about a generated-client call (send, or which
//     refusal) corresponds to apitest's answer to the same call sent
//     without the guard, by the one table in differential_test.go; and
//     what the guard sends is byte for byte what the bypass sends.
//   - TestFaults: every api method against every fault apitest injects
//     (5xx, dropped connections before and after acting, a deadline, a
//     truncated body, a body over the cap, a 429 storm) ends in a typed
//     error or a success, with GET and DELETE retried within their budget
//     and POST and PATCH never resent where the server may have acted
//     (only 429 answers are retried for them), in synctest bubbles and
//     with goleak watching the whole binary.
//   - TestLoadNothingLost: 50 users through per-user views of one
//     api.Client write 5000 metadata keys through a rate limit that answers
//     429s; every key ends with its last written value.
//   - TestBFFAnswers: a bff.Handler serving every route against apitest,
//     with each scope set, each fault, unusable tokens, token sources and
//     sessions whose errors hold the token, and an upstream that echoes the
//     token in every error body and in identities; no answer is a 500.
//   - TestNoTokenLeaks: no error string or log line of the suites above,
//     and no answer (status, headers, body) of the bff Handler, holds any
//     token apitest minted (nor a long fragment of one), and redirects or
//     requests to another host never carry the token there.
//   - FuzzDifferentialGating: the differential of the first suite for
//     arbitrary ids.
package proof
