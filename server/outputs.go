package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// saveOutputs writes each image as DIR/<seed>.png, never replacing a
// file: -1, -2, ... are appended until a name is free.
func saveOutputs(dir string, out *Output) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, png := range out.Images {
		base := filepath.Join(dir, strconv.FormatUint(out.Seeds[i], 10))
		name := base + ".png"
		for n := 1; ; n++ {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) && n < 10000 {
				name = fmt.Sprintf("%s-%d.png", base, n)
				continue
			}
			if err != nil {
				return err
			}
			_, werr := f.Write(png)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return werr
			}
			break
		}
	}
	return nil
}
