package apitest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// apiError is the Boom-style error body of the Management API.
type apiError struct {
	StatusCode int               `json:"statusCode"`
	Error      string            `json:"error"`
	Message    string            `json:"message"`
	ErrorCode  string            `json:"errorCode,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

const contentTypeJSON = "application/json; charset=utf-8"

// Error codes observed in real Auth0 bodies.
const (
	codeInsufficientScope = "insufficient_scope"
	codeUnownedResource   = "unowned_resource"
	codeInexistentUser    = "inexistent_user"
	codeInvalidBody       = "invalid_body"
	codeTooManyRequests   = "too_many_requests"
)

func reason(status int) string {
	if status == http.StatusTooManyRequests {
		return "Too Many Requests"
	}
	if status == http.StatusRequestEntityTooLarge {
		return "Request Entity Too Large"
	}
	return http.StatusText(status)
}

func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentTypeJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) { writeRaw(w, status, marshal(v)) }

// writeError writes {"statusCode","error","message","errorCode"?}.
// An empty message repeats the reason phrase.
func writeError(w http.ResponseWriter, status int, message, code string) {
	if message == "" {
		message = reason(status)
	}
	writeJSON(w, status, apiError{StatusCode: status, Error: reason(status), Message: message, ErrorCode: code})
}

// writeUnauthorized writes a 401 as hapi's Boom.unauthorized does: the
// message repeated in attributes.error and in WWW-Authenticate.
func writeUnauthorized(w http.ResponseWriter, message string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+message+`"`)
	writeJSON(w, http.StatusUnauthorized, apiError{
		StatusCode: http.StatusUnauthorized, Error: "Unauthorized", Message: message,
		Attributes: map[string]string{"error": message},
	})
}
