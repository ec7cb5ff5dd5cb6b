package kernels

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// The PTX modules are committed gzipped (ptx/<module>.ptx.gz, written by
// scripts/ptx.sh with gzip -9 -n so the same PTX always gives the same
// bytes): as text they are several times larger, enough to push a checkout
// past what may travel to a GPU host.

// gunzipPTX returns the PTX text of module from its compressed form. A
// truncated or damaged file is an error naming the module, never a PTX the
// driver half-reads.
func gunzipPTX(module string, gz []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("module %s: ptx/%s.ptx.gz is not gzip data (%v): run make ptx", module, module, err)
	}
	// ReadAll reads to the end, where the gzip trailer's CRC and length are
	// checked; Close has nothing left to report for a bytes.Reader.
	text, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("module %s: ptx/%s.ptx.gz is corrupt (%v): run make ptx", module, module, err)
	}
	return text, nil
}
