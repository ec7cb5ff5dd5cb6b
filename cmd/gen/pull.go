package main

import "errors"

// runPull is filled in by its own change; until then it says so.
func runPull(args []string) error { return errors.New("pull: not implemented yet") }
