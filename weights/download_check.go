package weights

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// maxHeaderBytes bounds a safetensors header read to check a download: a
// full SDXL checkpoint's is under 1 MB.
const maxHeaderBytes = 100 << 20

// checkSafetensorsStart checks that f (size bytes) begins like a
// safetensors file: a little-endian header length that fits the file, then
// a JSON object. An HTML error page or a truncated body fails, and the
// error quotes how the content starts.
func checkSafetensorsStart(f *os.File, size int64) error {
	head := make([]byte, min(size, 64))
	if _, err := f.ReadAt(head, 0); err != nil && err != io.EOF {
		return err
	}
	bad := func(why string) error {
		return fmt.Errorf("the content is not a safetensors file (%s; it starts %q)", why, printable(head))
	}
	if size < 10 {
		return bad(strconv.FormatInt(size, 10) + " bytes")
	}
	n := binary.LittleEndian.Uint64(head[:8])
	if n < 2 || n > maxHeaderBytes || n > uint64(size-8) {
		return bad("no valid header length")
	}
	header := make([]byte, n)
	if _, err := f.ReadAt(header, 8); err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(header, &obj); err != nil {
		return bad("the header is not a JSON object")
	}
	return nil
}

// printable keeps the first bytes of b readable in an error message.
func printable(b []byte) string {
	s := []rune(string(b))
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.ToValidUTF8(string(s), "?")
}

// Verify rehashes the file at path (ignoring any cached hash) and compares
// it with the SHA-256 the server announces for url. It returns the file's
// hash; an error when they differ or when the server announces none.
func Verify(ctx context.Context, client *http.Client, url, path string, progress func(done, total int64)) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	want, _, err := probe(ctx, client, url)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	w := &countingWriter{w: h, total: st.Size(), progress: progress}
	if _, err := io.Copy(w, f); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	switch {
	case want == "":
		return got, fmt.Errorf("%s announces no SHA-256 to check %s against (its SHA-256 is %s)", url, path, got)
	case got != want:
		return got, fmt.Errorf("%s is corrupt: SHA-256 %s, %s says %s; delete it and run gen pull again", path, got, url, want)
	}
	RecordSHA256(path, got)
	return got, nil
}
