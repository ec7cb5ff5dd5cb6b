package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goBuildCache is the go command's build cache, found before TestMain
// points the user cache folder elsewhere (tests that build gen reuse it).
var goBuildCache string

// TestMain keeps the model hash cache (os.UserCacheDir) of every run out of
// the user's real cache folder.
func TestMain(m *testing.M) {
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		goBuildCache = strings.TrimSpace(string(out))
	}
	dir, err := os.MkdirTemp("", "gen-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	if genBinary != "" {
		os.RemoveAll(filepath.Dir(genBinary)) // built by buildGen
	}
	os.Exit(code)
}
