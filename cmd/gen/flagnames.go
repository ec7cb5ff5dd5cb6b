package main

import (
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// spellings records how each flag was written on the command line ("-p",
// "--steps", "-width"), by canonical name, so that messages repeat what the
// user typed.
func spellings(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		dashes := "-"
		if strings.HasPrefix(a, "--") {
			dashes = "--"
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, dashes), "=")
		if name == "" {
			continue
		}
		canon := name
		if long, ok := aliases[name]; ok {
			canon = long
		}
		if _, seen := m[canon]; !seen {
			m[canon] = dashes + name
		}
	}
	return m
}

// flagName is how a message names the option canon: as the user spelled
// it, or as the --from field it was read from, or else --canon.
func (o *options) flagName(canon string) string {
	if s, ok := o.spelled[canon]; ok && o.set[canon] {
		return s
	}
	if f, ok := o.fromField[canon]; ok {
		return fmt.Sprintf("--from %s (%s)", o.from, f)
	}
	return "--" + canon
}

var (
	flagUndefined = regexp.MustCompile(`(?s)^flag provided but not defined: -(.*)$`)
	flagBadValue  = regexp.MustCompile(`(?s)^invalid (?:boolean )?value "(.*)" for (?:flag )?-([^:]*): (.*)$`)
	flagNoValue   = regexp.MustCompile(`(?s)^flag needs an argument: -(.*)$`)
)

// flagError rewrites the flag package's parse errors into one line naming
// the flag as the user wrote it.
func flagError(err error, spelled map[string]string) string {
	msg := err.Error()
	name := func(n string) string {
		canon := n
		if long, ok := aliases[n]; ok {
			canon = long
		}
		if s, ok := spelled[canon]; ok {
			return s
		}
		return "--" + n
	}
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		s := "-" + m[1]
		for _, sp := range []string{"--" + m[1], "-" + m[1]} {
			if spelled[m[1]] == sp {
				s = sp
			}
		}
		return fmt.Sprintf("unknown flag %s (see gen -h)", oneLine(s))
	}
	if m := flagBadValue.FindStringSubmatch(msg); m != nil {
		why := m[3]
		switch why {
		case "parse error":
			why = "not a number of the right kind"
		case "value out of range":
			why = "out of range"
		}
		return fmt.Sprintf("%s %q: %s", oneLine(name(m[2])), m[1], oneLine(why))
	}
	if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s needs a value", oneLine(name(m[1])))
	}
	return oneLine(msg)
}

// oneLine quotes text holding control characters (a flag name typed with
// a newline), so that an error stays on one line.
func oneLine(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return strconv.Quote(s)
	}
	return s
}

// isHelp tells flag.ErrHelp apart from real errors.
func isHelp(err error) bool { return err == flag.ErrHelp }
