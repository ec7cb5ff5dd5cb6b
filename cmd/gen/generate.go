package main

import "errors"

// runGenerate is filled in by its own change; until then it says so.
func runGenerate(args []string) error { return errors.New("generate: not implemented yet") }
