package cli

// palette colours text written to one stream, as gh does: only when the
// stream is a terminal and TERM is not "dumb", never when NO_COLOR is set
// to anything (https://no-color.org), and always when CLICOLOR_FORCE is set
// to anything but "0" (unless NO_COLOR is). CLICOLOR=0 turns it off on a
// terminal. When off, every method returns its argument unchanged, so
// output to files and pipes, and --json, carry no escape codes.
type palette struct{ on bool }

func newPalette(terminal bool, getenv func(string) string) palette {
	switch {
	case getenv("NO_COLOR") != "":
		return palette{}
	case getenv("CLICOLOR_FORCE") != "" && getenv("CLICOLOR_FORCE") != "0":
		return palette{on: true}
	}
	return palette{on: terminal && getenv("TERM") != "dumb" && getenv("CLICOLOR") != "0"}
}

func (p palette) paint(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) bold(s string) string  { return p.paint("1", s) }
func (p palette) red(s string) string   { return p.paint("31", s) }
func (p palette) green(s string) string { return p.paint("32", s) }
func (p palette) gray(s string) string  { return p.paint("90", s) }
