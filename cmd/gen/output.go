package main

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosdxl/gosdxl/internal/atomicfile"
	"github.com/gosdxl/gosdxl/internal/infotext"
)

// defaultOutDir receives out/<seed>.png when --out is not given.
const defaultOutDir = "out"

// outDir is the folder images go to: --out when it names a folder (an
// existing one, or one written with a trailing separator), the folder of
// the --out file, or out/.
func (o *options) outDir() (dir string, isDir bool) {
	switch {
	case o.out == "":
		return defaultOutDir, true
	case strings.HasSuffix(o.out, string(os.PathSeparator)) || strings.HasSuffix(o.out, "/"):
		return o.out, true
	}
	if st, err := os.Stat(o.out); err == nil && st.IsDir() {
		return o.out, true
	}
	return filepath.Dir(o.out), false
}

// outputPaths returns the base names for the images: DIR/<seed>.png for a
// folder (DIR/<seed>-1.png, -2, ... when the batch shares one seed, so that
// --overwrite cannot make an image replace its neighbour), --out as given
// for one image, numbered -1, -2, ... for a batch.
func (o *options) outputPaths(seeds []uint64) []string {
	dir, isDir := o.outDir()
	paths := make([]string, len(seeds))
	shared := len(seeds) > 1 && seeds[0] == seeds[1] // diffusers: one seed for the batch
	for i, s := range seeds {
		switch {
		case isDir && shared:
			paths[i] = filepath.Join(dir, fmt.Sprintf("%d-%d.png", s, i+1))
		case isDir:
			paths[i] = filepath.Join(dir, fmt.Sprintf("%d.png", s))
		case len(seeds) == 1:
			paths[i] = o.out
		default:
			ext := filepath.Ext(o.out)
			paths[i] = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(o.out, ext), i+1, ext)
		}
	}
	return paths
}

// checkOutput refuses, before any work, an --out that could not be
// written: a name that is not .png (the parameters live in PNG text
// chunks; PNG bytes in a .jpg would mislead every program), or a folder
// that cannot be created or written to.
func (o *options) checkOutput() error {
	dir, isDir := o.outDir()
	if !isDir {
		if ext := filepath.Ext(o.out); !strings.EqualFold(ext, ".png") {
			return usagef("%s %s: gen writes PNG files (the generation parameters live in PNG text chunks); use a name ending in .png",
				o.flagName("out"), o.out)
		}
	}
	if err := checkWritableDir(dir); err != nil {
		return usagef("%s %s: %v", o.flagName("out"), o.out, err)
	}
	return nil
}

// checkWritableDir checks that files can be created in dir, or, when dir
// does not exist yet, in the nearest folder above it (where it will be
// created when the first file is written, so a failed run leaves no empty
// folder behind).
func checkWritableDir(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a folder", d)
			}
			if err := atomicfile.Probe(d); err != nil {
				return fmt.Errorf("cannot write in %s: %v", d, err)
			}
			return nil
		}
		if !os.IsNotExist(err) {
			return err
		}
		if parent := filepath.Dir(d); parent == d {
			return err
		}
	}
}

// writePNG saves img with its parameters through a temporary file renamed
// when complete (internal/atomicfile), so an interrupted or failed write
// leaves no partial file and whatever had the name before. Unless overwrite
// is set an existing file is never replaced: the name gets -1, -2, ...
// before the extension until one is free. It returns the name used.
func writePNG(path string, img image.Image, params string, overwrite bool) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return "", err
	}
	if err := infotext.EncodePNG(f, img, map[string]string{"parameters": params}); err != nil {
		f.Abort()
		var pe *fs.PathError // name the output, not its temporary file
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%s: %v (nothing was written; an existing file is unchanged)", path, err)
	}
	if overwrite {
		return path, f.Commit()
	}
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	return f.CommitNew(func(n int) string {
		if n == 0 {
			return path
		}
		return fmt.Sprintf("%s-%d%s", stem, n, ext)
	}, 10000)
}
