// Package baseurl validates the URLs a token may be sent to. It is the one
// place that says what a base URL may look like and what counts as a
// loopback host, for scopeguard, api and the command.
package baseurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// IsLoopback reports whether host (a host name or IP literal, without port
// or brackets) is a loopback host: "localhost" in any case, 127.0.0.0/8 or
// ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ErrInsecure is wrapped by Parse's error for a URL that is neither https
// nor plain http to a loopback host.
var ErrInsecure = errors.New("base URL must be https; plain http is allowed only to a loopback address")

// Parse parses raw as the base URL of a Management API: https, or plain
// http to a loopback host (IsLoopback); a host; no user info, query or
// fragment; a path that needs no escaping and has no dot segment. The
// returned URL's path ends in "/". Errors say what is wrong without
// quoting user info.
func Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("base URL cannot be parsed")
	}
	switch {
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("base URL %q has no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("base URL %q has user info", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("base URL %q has a query or fragment", raw)
	case u.EscapedPath() != u.Path:
		return nil, fmt.Errorf("path of base URL %q needs escaping", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w: %q", ErrInsecure, raw)
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrInsecure, raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			// Keep the path as written ("/a!b" stays, not "/a%21b"), so
			// that the URL's String parses again to itself.
			u.RawPath += "/"
		}
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, fmt.Errorf("path of base URL %q has a dot segment", raw)
		}
	}
	return u, nil
}
