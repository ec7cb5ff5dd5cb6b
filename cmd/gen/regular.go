package main

import (
	"fmt"
	"os"
)

// checkReadable refuses, before anything opens it, a path that is not a
// regular file (or, when dirOK, a folder): opening a named pipe blocks
// until something writes to it, and a device has no end.
func checkReadable(path string, dirOK bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().IsRegular() || (dirOK && st.IsDir()) {
		return nil
	}
	if dirOK {
		return fmt.Errorf("%s: not a regular file or folder", path)
	}
	return fmt.Errorf("%s: not a regular file", path)
}
