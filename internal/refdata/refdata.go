// Package refdata gives tests in any package the reference data in
// testdata/reference at the repository root: the golden outputs and the tiny
// random-weight SDXL checkpoint.
//
// The checkpoint is stored gzip-compressed, with the token-embedding rows that
// no reference prompt uses set to zero (every golden depends only on the rows
// kept), so the repository stays small enough to travel to a GPU host.
// TinyCheckpoint unpacks it once into the system's temporary directory.
package refdata

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TinyCheckpointName is the unpacked file's name, as the goldens know it.
const TinyCheckpointName = "tiny-sdxl-a.safetensors"

// Dir returns the absolute path of testdata/reference, found by walking up
// from the working directory (a package's directory under `go test`, or a
// mirror of it where a test binary is run elsewhere).
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := find()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Path returns the absolute path of a file in testdata/reference.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	return filepath.Join(Dir(tb), name)
}

// TinyCheckpoint returns the path of the unpacked tiny checkpoint.
func TinyCheckpoint(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { tinyPath, tinyErr = unpackTiny() })
	if tinyErr != nil {
		tb.Fatal(tinyErr)
	}
	return tinyPath
}

var (
	once     sync.Once
	tinyPath string
	tinyErr  error
)

func find() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "testdata", "reference")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("refdata: no testdata/reference above %s", wd)
		}
	}
}

// unpackTiny decompresses the checkpoint into a file named after the
// compressed file's hash, so a changed checkpoint never reuses a stale copy
// and parallel test binaries share one copy (written to a temporary name,
// then renamed into place).
func unpackTiny() (string, error) {
	dir, err := find()
	if err != nil {
		return "", err
	}
	gzPath := filepath.Join(dir, TinyCheckpointName+".gz")
	f, err := os.Open(gzPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("refdata: %s: %v", gzPath, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	cacheDir := filepath.Join(os.TempDir(), "gosdxl-refdata-"+sum)
	out := filepath.Join(cacheDir, TinyCheckpointName)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("refdata: %s: %v", gzPath, err)
	}
	tmp, err := os.CreateTemp(cacheDir, "unpack-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := io.Copy(tmp, zr); err != nil {
		tmp.Close()
		return "", fmt.Errorf("refdata: unpacking %s: %v", gzPath, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	return out, nil
}
