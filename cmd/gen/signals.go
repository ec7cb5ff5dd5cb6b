package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gosdxl/gosdxl/internal/atomicfile"
)

// exitInterrupted is the shell's status for a run stopped by SIGINT
// (128 + 2), used for SIGTERM as well.
const exitInterrupted = 130

// handleSignals stops the process cleanly on SIGINT or SIGTERM: every
// temporary output file is removed (finished images keep their names:
// they were renamed when complete), "interrupted" is printed and the
// process exits with status 130. Nothing else needs undoing: the model is
// mapped read-only and an interrupted download keeps its .part file on
// purpose, to be resumed. A second signal exits at once, in case the
// cleanup waits on a slow disk.
func handleSignals() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		go func() {
			<-ch
			os.Exit(exitInterrupted)
		}()
		atomicfile.Interrupt()
		fmt.Fprintln(os.Stderr, "\ngen: interrupted")
		os.Exit(exitInterrupted)
	}()
}
