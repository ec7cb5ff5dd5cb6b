// Package atomicfile writes output files so that a reader never sees half
// of one: the bytes go to a temporary file in the destination's directory
// (same file system, so the final step is a rename or a hard link), synced
// before it takes its name. A failed write (disk full) or an interrupted
// run leaves whatever had the name before untouched and no partial file.
//
// Every temporary file is registered until it is committed or aborted, so
// that a signal handler can remove them all (Interrupt) before the process
// exits.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

var (
	mu          sync.Mutex
	temporaries = map[string]bool{}
)

// File is a temporary file that becomes path on Commit.
type File struct {
	*os.File
	path string
}

// Create opens a new temporary file for path, in path's directory (which
// must exist).
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	// CreateTemp makes the file private (0600); outputs are ordinary files.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	temporaries[f.Name()] = true
	return &File{File: f, path: path}, nil
}

// finish syncs and closes the temporary file; on error it is removed.
func (f *File) finish() error {
	stallPoint("commit:" + filepath.Base(f.path))
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.Abort()
		return fmt.Errorf("%s: %v", f.path, err)
	}
	return nil
}

// Commit gives the complete file its name, replacing any file there.
func (f *File) Commit() error {
	if err := f.finish(); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	stallPoint("locked:" + filepath.Base(f.path))
	delete(temporaries, f.Name())
	if err := os.Rename(f.Name(), f.path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// CommitNew gives the complete file the first of names(0), names(1), …,
// names(tries-1) that does not exist yet, never replacing a file (not even
// one another process creates meanwhile), and returns the name used.
func (f *File) CommitNew(names func(i int) string, tries int) (string, error) {
	if err := f.finish(); err != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	stallPoint("locked:" + filepath.Base(f.path))
	defer func() {
		delete(temporaries, f.Name())
		os.Remove(f.Name())
	}()
	for i := 0; i < tries; i++ {
		name := names(i)
		err := os.Link(f.Name(), name)
		if err == nil {
			return name, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// No hard links on this file system: reserve the name, then
		// rename over the reservation.
		r, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		r.Close()
		if err := os.Rename(f.Name(), name); err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("%s: %d names taken", names(0), tries)
}

// Abort closes and removes the temporary file. It is safe after Commit.
func (f *File) Abort() {
	f.Close()
	mu.Lock()
	defer mu.Unlock()
	if temporaries[f.Name()] {
		delete(temporaries, f.Name())
		os.Remove(f.Name())
	}
}

// Interrupt removes every temporary file and blocks all further commits
// and creations for the rest of the process: call it on the way out, from
// a signal handler. It returns the number of files removed.
func Interrupt() int {
	mu.Lock() // never released: nothing may take a name after this
	n := 0
	for name := range temporaries {
		if os.Remove(name) == nil {
			n++
		}
	}
	return n
}

// Probe checks that files can be created in dir by creating and removing
// a temporary one.
func Probe(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
