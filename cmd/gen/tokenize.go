package main

import "errors"

// runTokenize is filled in by its own change; until then it says so.
func runTokenize(args []string) error { return errors.New("tokenize: not implemented yet") }
