package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/auth0me/auth0me/internal/bearer"
	"github.com/auth0me/auth0me/scopeguard"
)

// pacedTransport sits below the guard, so that a request the guard refuses
// never waits: it waits for the client-side limiter and the pacer, sends,
// and tells the pacer what came back. It reads the user, whose bucket the
// request takes from, from the token the guard put in the request, through
// the guard's claims cache.
type pacedTransport struct {
	base    http.RoundTripper
	pacer   *pacer        // nil: no pacing
	limiter *rate.Limiter // nil: none
	guard   *scopeguard.Transport
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if t.limiter != nil {
		if err := t.limiter.Wait(ctx); err != nil {
			closeBody(req)
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			// The limiter refuses at once a wait that would outlast the
			// deadline.
			return nil, fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
	}
	if t.pacer == nil {
		return t.base.RoundTrip(req)
	}
	tk, err := t.pacer.wait(ctx, t.subject(req))
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.pacer.observe(tk, answer{}, time.Now())
		return nil, err
	}
	var body []byte
	if resp.StatusCode == http.StatusTooManyRequests {
		// The pacer reads which limit was reached from the body.
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorText*4))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
	}
	t.pacer.observe(tk, readAnswer(resp, body), time.Now())
	return resp, nil
}

// subject returns the sub of the request's bearer token, or "", read
// through the guard's claims cache: the token is not parsed again.
func (t *pacedTransport) subject(req *http.Request) string {
	tok := bearer.FromHeader(req.Header)
	if tok == "" {
		return ""
	}
	sub, err := t.guard.SubjectOf(tok)
	if err != nil {
		return ""
	}
	return sub
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// capTransport sits below the guard and the pacing, so it sees the request
// with the token's Authorization header. It bounds each attempt by the
// timeout, caps every response body, logs each exchange at debug level
// with that header redacted, and records the token in the call's
// sentTokens (from the request's context) so that errors and log lines
// made from the answer can redact it.
type capTransport struct {
	base    http.RoundTripper
	max     int64
	timeout time.Duration // per attempt, up to the body's Close; 0: none
	logger  *slog.Logger  // nil: no logging
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok := bearer.FromHeader(req.Header)
	st, _ := req.Context().Value(sentTokensKey{}).(*sentTokens)
	st.add(tok)
	start := time.Now()
	if t.timeout <= 0 {
		return t.roundTrip(req, tok, start)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.roundTrip(req.WithContext(ctx), tok, start)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends an attempt's timeout when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (t *capTransport) roundTrip(req *http.Request, tok string, start time.Time) (*http.Response, error) {
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
