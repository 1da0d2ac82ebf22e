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
	v := new(T)
	if err := decode(op, ex, '{', v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeArray reads a 2xx body that must be a JSON array of objects into a
// []T; an empty array gives an empty, non-nil slice. An element that is null
// is refused like a body that is null: the elements are decoded through
// pointers, where null leaves nil.
func decodeArray[T any](op string, ex exchange) ([]T, error) {
	var ptrs []*T
	if err := decode(op, ex, '[', &ptrs); err != nil {
		return nil, err
	}
	out := make([]T, len(ptrs))
	for i, p := range ptrs {
		if p == nil {
			return nil, badResponse(op, ex, fmt.Errorf("element %d of the answer is null, not an object", i))
		}
		out[i] = *p
	}
	return out, nil
}

// decode reads the body into v after checking that its JSON value opens
// with open, '{' or '[': json.Unmarshal would take null for any v, and
// leave v as it was.
func decode(op string, ex exchange, open byte, v any) error {
	if b := bytes.TrimLeft(ex.body, " \t\r\n"); len(b) == 0 || b[0] != open {
		return badResponse(op, ex, fmt.Errorf("the answer does not start with %q", open))
	}
	if err := json.Unmarshal(ex.body, v); err != nil {
		return badResponse(op, ex, fmt.Errorf("decoding JSON: %w", err))
	}
	return nil
}

// badResponse reports a 2xx answer that cannot be read: ErrBadResponse.
func badResponse(op string, ex exchange, err error) error {
	return &ResponseError{Operation: op, StatusCode: ex.resp.StatusCode, Err: err, tokens: ex.tokens}
}
