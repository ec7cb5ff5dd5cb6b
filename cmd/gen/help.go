package main

import (
	"fmt"
	"runtime/debug"
)

// runHelp is `gen help [COMMAND]`: the usage of gen or of a subcommand,
// on stdout like every --help.
func runHelp(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usageText)
		return nil
	}
	switch args[0] {
	case "inspect", "tokenize", "pull":
		return run1(args[0], "-h")
	}
	return usagef("help: no command %q (commands: inspect, tokenize, pull)", args[0])
}

// run1 runs a subcommand with its arguments, for help.
func run1(cmd string, args ...string) error {
	switch cmd {
	case "inspect":
		return runInspect(args)
	case "tokenize":
		return runTokenize(args)
	}
	return runPull(args)
}

// versionString names the module version (a release tag, or the VCS
// revision of a development build).
func versionString() string {
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " " + rev
		if dirty {
			v += "+dirty"
		}
	}
	return "gen " + v
}
