package bench

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Sample is one result line of `go test -bench` output.
type Sample struct {
	// Name is the benchmark name without "Benchmark" and without the
	// -GOMAXPROCS suffix, e.g. "Op/net=memory/op=Me/lib=auth0me".
	Name string
	// Base is the top-level benchmark, e.g. "Op"; Keys are the key=value
	// parts of the sub-benchmark names.
	Base   string
	Keys   map[string]string
	Values map[string]float64 // unit -> value
}

// ParseBench reads the result lines of `go test -bench` output and ignores
// everything else.
func ParseBench(r io.Reader) ([]Sample, error) {
	var out []Sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		s := Sample{Name: name, Keys: map[string]string{}, Values: map[string]float64{}}
		parts := strings.Split(name, "/")
		s.Base = parts[0]
		for _, p := range parts[1:] {
			if k, v, ok := strings.Cut(p, "="); ok {
				s.Keys[k] = v
			}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("bench: %q: %w", sc.Text(), err)
			}
			s.Values[f[i+1]] = v
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// Median returns the median of unit over the samples with base whose keys
// include match, and how many there were.
func Median(samples []Sample, base, unit string, match map[string]string) (float64, int) {
	var vs []float64
	for _, s := range samples {
		if s.Base != base {
			continue
		}
		ok := true
		for k, v := range match {
			if s.Keys[k] != v {
				ok = false
				break
			}
		}
		if v, has := s.Values[unit]; ok && has {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, 0
	}
	sort.Float64s(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], n
	}
	return (vs[n/2-1] + vs[n/2]) / 2, n
}

// KeyValues returns the distinct values of key among base's samples, in
// first-seen order.
func KeyValues(samples []Sample, base, key string) []string {
	var out []string
	for _, s := range samples {
		if v, ok := s.Keys[key]; ok && s.Base == base && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// Best returns, among libs, the one with the lowest median of unit for
// match (plus lib), and that median. ok is false when none has samples.
func Best(samples []Sample, base, unit string, match map[string]string, libs []Library) (Library, float64, bool) {
	var (
		best  Library
		bestV float64
		found bool
	)
	for _, l := range libs {
		m := clone(match)
		m["lib"] = string(l)
		v, n := Median(samples, base, unit, m)
		if n == 0 {
			continue
		}
		if !found || v < bestV {
			best, bestV, found = l, v, true
		}
	}
	return best, bestV, found
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}
