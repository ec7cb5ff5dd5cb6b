// Command gen generates images with Stable Diffusion XL checkpoints such as
// Animagine XL 4.0, and inspects checkpoints, prompts and generated PNGs.
//
//	gen -p "1girl, ..." [flags]     generate (see `gen -h`)
//	gen inspect PATH                describe a checkpoint or a generated PNG
//	gen tokenize -p "..."           show token ids and prompt weights
//	gen pull                        download the default checkpoint
//	gen serve [flags]               serve the AUTOMATIC1111 API and a web page
//	gen worker --queue nats://...   run jobs from a NATS JetStream queue
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// usageError marks a bad flag or argument: reported on one line, exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Output streams; tests replace them to read what a run printed.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func main() {
	handleSignals()
	os.Exit(run(os.Args[1:]))
}

// run dispatches to a subcommand (or generation) and turns its error into
// one line on stderr and an exit status.
func run(args []string) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "inspect":
		err = runInspect(args[1:])
	case len(args) > 0 && args[0] == "tokenize":
		err = runTokenize(args[1:])
	case len(args) > 0 && args[0] == "pull":
		err = runPull(args[1:])
	case len(args) > 0 && args[0] == "help":
		err = runHelp(args[1:])
	case len(args) == 1 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version"):
		fmt.Fprintln(stdout, versionString())
	case len(args) > 0 && args[0] == "serve":
		err = runServe(args[1:])
	case len(args) > 0 && args[0] == "worker":
		err = runWorker(args[1:])
	default:
		err = runGenerate(args)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "gen:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
