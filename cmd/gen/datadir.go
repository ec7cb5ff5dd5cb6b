package main

import (
	"os"
	"path/filepath"
	"runtime"
)

// defaultModelName is the default checkpoint's file name.
const defaultModelName = "animagine-xl-4.0.safetensors"

// defaultModel is where the default checkpoint lives: weights/ in the
// current folder when it is there (the layout of earlier versions), else
// the user's data folder, so that gen finds it from any folder.
var defaultModel = defaultModelPath()

func defaultModelPath() string {
	legacy := filepath.Join("weights", defaultModelName)
	if _, err := os.Stat(legacy); err == nil {
		return legacy
	}
	dir := userDataDir()
	if dir == "" {
		return legacy
	}
	return filepath.Join(dir, "gosdxl", "weights", defaultModelName)
}

// userDataDir is the per-user folder for application data:
// $XDG_DATA_HOME or ~/.local/share on Unix, ~/Library/Application Support
// on macOS, %LocalAppData% on Windows; "" when none is known.
func userDataDir() string {
	switch runtime.GOOS {
	case "windows":
		return os.Getenv("LocalAppData")
	case "darwin", "ios":
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, "Library", "Application Support")
		}
		return ""
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share")
	}
	return ""
}
