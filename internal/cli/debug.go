package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxTraced bounds how much of a body --debug prints.
const maxTraced = 16 << 10

// redactedValue stands for a secret in --debug's trace.
const redactedValue = "[redacted]"

// secretFields are the form fields, query parameters and JSON keys whose
// values --debug never prints: tokens, codes and secrets of the OAuth
// exchanges and of the link request.
var secretFields = []string{
	"access_token", "refresh_token", "id_token", "token", "code", "code_verifier",
	"device_code", "client_secret", "client_assertion", "link_with", "state",
}

// secretHeaders are the headers whose values --debug never prints.
var secretHeaders = []string{"Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization"}

// jwtPattern finds what looks like a JWT anywhere else in a trace.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// debugTransport writes each request and answer to w, curl -v style, with
// every token, code and secret redacted.
type debugTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	w    io.Writer
}

// withDebug returns a copy of hc whose transport traces to w.
func withDebug(hc *http.Client, w io.Writer) *http.Client {
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &debugTransport{base: base, w: w}
	return &c
}

func (d *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		// A copy for the base transport: the caller's request is not ours.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, redactURLQuery(req.URL))
	writeHeaders(&b, "> ", req.Header)
	writeBody(&b, "> ", req.Header.Get("Content-Type"), reqBody)
	start := time.Now()
	resp, err := d.base.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(&b, "< error after %v: %s\n", time.Since(start).Round(time.Millisecond), redactTrace(err.Error()))
		d.write(b.String())
		return nil, err
	}
	respBody, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	fmt.Fprintf(&b, "< %s (%v)\n", resp.Status, time.Since(start).Round(time.Millisecond))
	writeHeaders(&b, "< ", resp.Header)
	writeBody(&b, "< ", resp.Header.Get("Content-Type"), respBody)
	if readErr != nil {
		fmt.Fprintf(&b, "< error reading the body: %s\n", redactTrace(readErr.Error()))
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(respBody), errReader{readErr}))
	}
	d.write(b.String())
	return resp, nil
}

func (d *debugTransport) write(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	io.WriteString(d.w, s)
}

// errReader returns its error, after the part of a body that was read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func redactURLQuery(u *url.URL) string {
	if u.RawQuery == "" {
		return u.String()
	}
	c := *u
	q, err := url.ParseQuery(c.RawQuery)
	if err != nil {
		c.RawQuery = redactedValue
		return c.String()
	}
	c.RawQuery = ""
	return c.String() + "?" + encodeRedacted(q)
}

// encodeRedacted encodes v as a query, sorted by key, with the values of
// secretFields replaced by redactedValue.
func encodeRedacted(v url.Values) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		for _, x := range v[k] {
			val := url.QueryEscape(x)
			if slices.Contains(secretFields, k) {
				val = redactedValue
			}
			parts = append(parts, url.QueryEscape(k)+"="+val)
		}
	}
	return strings.Join(parts, "&")
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			if slices.Contains(secretHeaders, k) {
				scheme, _, _ := strings.Cut(v, " ")
				v = redactedValue
				if strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic") {
					v = scheme + " " + redactedValue
				}
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, redactTrace(v))
		}
	}
}

// writeBody writes a body, its secrets redacted: by field for forms and
// JSON, and any JWT-looking string in what remains.
func writeBody(b *strings.Builder, prefix, contentType string, body []byte) {
	if len(body) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	s := string(body)
	switch {
	case mt == "application/x-www-form-urlencoded":
		if v, err := url.ParseQuery(s); err == nil {
			s = encodeRedacted(v)
		}
	case strings.HasSuffix(mt, "json"):
		var v any
		if json.Unmarshal(body, &v) == nil {
			if out, err := json.Marshal(redactJSON(v)); err == nil {
				s = string(out)
			}
		}
	}
	s = redactTrace(s)
	if len(s) > maxTraced {
		s = s[:maxTraced] + fmt.Sprintf("… (%d bytes in all)", len(body))
	}
	b.WriteString(prefix + "\n")
	for line := range strings.SplitSeq(s, "\n") {
		b.WriteString(prefix + line + "\n")
	}
}

func redactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if slices.Contains(secretFields, k) {
				x[k] = redactedValue
			} else {
				x[k] = redactJSON(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = redactJSON(e)
		}
	}
	return v
}

func redactTrace(s string) string {
	return jwtPattern.ReplaceAllString(s, redactedValue)
}
