package main

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosdxl/gosdxl/sdxl"
)

// outputPaths returns the base names for count images: --out as given
// (numbered -1, -2, ... for a batch), or out/<seed>.png per image.
func outputPaths(out string, seeds []uint64) []string {
	paths := make([]string, len(seeds))
	for i, s := range seeds {
		switch {
		case out == "":
			paths[i] = filepath.Join("out", fmt.Sprintf("%d.png", s))
		case len(seeds) == 1:
			paths[i] = out
		default:
			ext := filepath.Ext(out)
			paths[i] = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(out, ext), i+1, ext)
		}
	}
	return paths
}

// writePNG saves img with its parameters. Unless overwrite is set an
// existing file is never replaced: the name gets -1, -2, ... before the
// extension until one is free (created exclusively, so two runs cannot
// pick the same one). It returns the name used.
func writePNG(path string, img image.Image, params string, overwrite bool) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	name := path
	for n := 1; ; n++ {
		f, err := os.OpenFile(name, flags, 0o644)
		if errors.Is(err, fs.ErrExist) && n < 10000 {
			name = fmt.Sprintf("%s-%d%s", stem, n, ext)
			continue
		}
		if err != nil {
			return "", err
		}
		werr := sdxl.EncodePNG(f, img, map[string]string{"parameters": params})
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(name)
			return "", fmt.Errorf("%s: %v", name, werr)
		}
		return name, nil
	}
}
