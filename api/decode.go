package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decodeObject reads a 2xx body that must be one JSON object into a T.
// Anything else, null included, is an answer that cannot be read: a
// *ResponseError matching ErrBadResponse, never an empty T.
func decodeObject[T any](op string, ex exchange) (*T, error) {
	if err := startsWith(op, ex, '{', "an object"); err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(ex.body, v); err != nil {
		return nil, badJSON(op, ex, err)
	}
	return v, nil
}

// decodeArray reads a 2xx body that must be a JSON array of objects into a
// []T; an empty array gives an empty, non-nil slice. An element that is null
// is refused like a body that is null: the elements are decoded through
// pointers, where null leaves nil.
func decodeArray[T any](op string, ex exchange) ([]T, error) {
	if err := startsWith(op, ex, '[', "an array"); err != nil {
		return nil, err
	}
	var ptrs []*T
	if err := json.Unmarshal(ex.body, &ptrs); err != nil {
		return nil, badJSON(op, ex, err)
	}
	out := make([]T, len(ptrs))
	for i, p := range ptrs {
		if p == nil {
			return nil, &ResponseError{Operation: op, StatusCode: ex.resp.StatusCode, Err: fmt.Errorf("element %d of the answer is null, not an object", i), tokens: ex.tokens}
		}
		out[i] = *p
	}
	return out, nil
}

// startsWith refuses a body whose JSON value does not open with open.
func startsWith(op string, ex exchange, open byte, what string) error {
	b := bytes.TrimLeft(ex.body, " \t\r\n")
	if len(b) == 0 || b[0] != open {
		return &ResponseError{Operation: op, StatusCode: ex.resp.StatusCode, Err: fmt.Errorf("the answer is not %s", what), tokens: ex.tokens}
	}
	return nil
}

func badJSON(op string, ex exchange, err error) error {
	return &ResponseError{Operation: op, StatusCode: ex.resp.StatusCode, Err: fmt.Errorf("decoding JSON: %w", err), tokens: ex.tokens}
}
