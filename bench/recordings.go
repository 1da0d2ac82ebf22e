package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultRecordings is where the go-vcr recordings sit relative to the
// bench directory: ../../shared/auth0/recordings from /work/main/bench.
const DefaultRecordings = "../../shared/auth0/recordings"

// ErrNoRecordings is returned by LoadRecordings when the directory is
// missing; the in-memory benchmarks skip with its message.
var ErrNoRecordings = errors.New("bench: recordings directory not found")

// Interaction is one recorded request and Auth0's answer.
type Interaction struct {
	Method string
	URL    *url.URL
	Status int
	Body   []byte
}

// LoadRecordings reads every *.yaml go-vcr recording in dir. It parses
// only the narrow subset of YAML go-vcr writes for these files (scalar
// "key: value" lines, single- or double-quoted scalars and "|" blocks) and
// returns an error for anything else it needs and cannot read.
func LoadRecordings(dir string) (map[string][]Interaction, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s (it is ../shared/auth0/recordings beside the checkout)", ErrNoRecordings, dir)
	}
	out := make(map[string][]Interaction, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		its, err := parseRecording(b)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", filepath.Base(f), err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".yaml")] = its
	}
	return out, nil
}

// parseRecording extracts method, url, response code and response body of
// each interaction.
func parseRecording(b []byte) ([]Interaction, error) {
	var (
		its     []Interaction
		cur     *Interaction
		section string // "request" or "response"
	)
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trim := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case strings.HasPrefix(trim, "- id:"):
			its = append(its, Interaction{})
			cur = &its[len(its)-1]
			section = ""
			continue
		case trim == "request:" || trim == "response:":
			section = strings.TrimSuffix(trim, ":")
			continue
		}
		if cur == nil {
			continue
		}
		key, val, ok := strings.Cut(trim, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch {
		case section == "request" && key == "method":
			cur.Method = val
		case section == "request" && key == "url":
			u, err := url.Parse(val)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			cur.URL = u
		case section == "response" && key == "code":
			n, err := strconv.Atoi(val)
			if err != nil {
				return nil, fmt.Errorf("line %d: code: %w", i+1, err)
			}
			cur.Status = n
		case section == "response" && key == "body":
			s, next, err := scalar(lines, i, indent, val)
			if err != nil {
				return nil, fmt.Errorf("line %d: body: %w", i+1, err)
			}
			cur.Body = []byte(s)
			i = next
		}
	}
	for n, it := range its {
		if it.Method == "" || it.URL == nil || it.Status == 0 {
			return nil, fmt.Errorf("interaction %d: missing method, url or code", n)
		}
	}
	return its, nil
}

// scalar reads the YAML scalar that starts as val on line i, whose key is
// indented by indent, and returns it with the index of its last line.
func scalar(lines []string, i, indent int, val string) (string, int, error) {
	switch {
	case val == "":
		return "", i, nil
	case strings.HasPrefix(val, "'"):
		if len(val) < 2 || !strings.HasSuffix(val, "'") {
			return "", i, errors.New("multi-line single-quoted scalar")
		}
		return strings.ReplaceAll(val[1:len(val)-1], "''", "'"), i, nil
	case strings.HasPrefix(val, `"`):
		s, err := strconv.Unquote(val)
		if err != nil {
			return "", i, fmt.Errorf("double-quoted scalar: %w", err)
		}
		return s, i, nil
	case val == "|" || val == "|-":
		var buf bytes.Buffer
		j := i + 1
		for ; j < len(lines); j++ {
			l := lines[j]
			if strings.TrimSpace(l) != "" && len(l)-len(strings.TrimLeft(l, " ")) <= indent {
				break
			}
			buf.WriteString(strings.TrimLeft(l, " "))
			buf.WriteByte('\n')
		}
		s := strings.TrimRight(buf.String(), "\n")
		if val == "|" {
			s += "\n"
		}
		return s, j - 1, nil
	default:
		return val, i, nil
	}
}
