package api

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/auth0me/auth0me/internal/bearer"
)

// capTransport sits below the guard, so it sees the request with the
// token's Authorization header. It caps every response body, logs each
// exchange at debug level with that header redacted, and records the token
// in the call's sentTokens (from the request's context) so that errors and
// log lines made from the answer can redact it.
type capTransport struct {
	base   http.RoundTripper
	max    int64
	logger *slog.Logger // nil: no logging
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	st, _ := req.Context().Value(sentTokensKey{}).(*sentTokens)
	st.add(tok)
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if t.logger != nil && t.logger.Enabled(req.Context(), slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("path", req.URL.EscapedPath()),
			slog.Any("request_headers", redacted(req.Header)),
			slog.Duration("elapsed", time.Since(start)),
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", bearer.Redact(err.Error(), tok)))
		} else {
			attrs = append(attrs, slog.Int("status", resp.StatusCode),
				slog.String("ratelimit_remaining", bearer.Redact(resp.Header.Get("X-RateLimit-Remaining"), tok)))
		}
		t.logger.LogAttrs(req.Context(), slog.LevelDebug, "auth0me: http", attrs...)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case resp.ContentLength > t.max:
		resp.Body = &capReader{rc: resp.Body, left: -1} // fails at the first read
	case resp.ContentLength < 0:
		resp.Body = &capReader{rc: resp.Body, left: t.max}
	}
	// A body of known length within the cap needs no wrapper: net/http
	// stops reading it at its Content-Length.
	return resp, nil
}

// redacted is a header map whose log value hides credentials.
type redacted http.Header

func (h redacted) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(h))
	for k, v := range h {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Cookie", "Proxy-Authorization":
			attrs = append(attrs, slog.String(k, "[REDACTED]"))
		default:
			attrs = append(attrs, slog.Any(k, v))
		}
	}
	return slog.GroupValue(attrs...)
}

// capReader fails with ErrBodyTooLarge once more than left bytes are read.
type capReader struct {
	rc   io.ReadCloser
	left int64
}

func (r *capReader) Read(p []byte) (int, error) {
	if r.left < 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	if r.left < 0 {
		return 0, ErrBodyTooLarge
	}
	return n, err
}

func (r *capReader) Close() error { return r.rc.Close() }
