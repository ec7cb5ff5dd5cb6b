// Command mksparse writes the sparse full-size checkpoint described by a
// reference key manifest, for measuring `gen inspect` at full scale:
//
//	go run ./weights/internal/sparse/mksparse testdata/reference/manifest-sdxl-sgm.json /tmp/sdxl-sgm
//	go build -o /tmp/gen ./cmd/gen
//	/usr/bin/time -v /tmp/gen inspect /tmp/sdxl-sgm/animagine-xl-4.0.safetensors
package main

import (
	"fmt"
	"os"

	"github.com/gosdxl/gosdxl/weights/internal/sparse"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mksparse MANIFEST.json OUTDIR")
		os.Exit(2)
	}
	m, err := sparse.ReadManifest(os.Args[1])
	if err == nil {
		err = m.WriteAll(os.Args[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mksparse:", err)
		os.Exit(1)
	}
}
