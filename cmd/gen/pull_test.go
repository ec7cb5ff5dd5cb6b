package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gen pull refuses an error page served as the file (status 200, no
// hash), leaving nothing on disk; --verify checks an existing file against
// the server's SHA-256.
func TestPullChecksContent(t *testing.T) {
	header := []byte(`{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`)
	model := append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...)
	model = append(model, 1, 2, 3, 4)
	sum := sha256.Sum256(model)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page.safetensors":
			w.Write([]byte("<!DOCTYPE html><title>Too many requests</title>"))
		case "/model.safetensors":
			w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
			w.Write(model)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()

	dest := filepath.Join(dir, "a.safetensors")
	code, _, errOut := runCapture(t, "pull", "--url", srv.URL+"/page.safetensors", "--out", dest, "-q")
	if code != 1 || !strings.Contains(errOut, "not a safetensors file") {
		t.Errorf("error page: exit %d, stderr %q", code, errOut)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("the refused download left %d files", len(es))
	}

	code, _, errOut = runCapture(t, "pull", "--url", srv.URL+"/model.safetensors", "--out", dest, "--quiet")
	if code != 0 {
		t.Fatalf("model: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := runCapture(t, "pull", "--url", srv.URL+"/model.safetensors", "--out", dest, "--verify", "-q")
	if code != 0 || !strings.Contains(out, "intact") {
		t.Errorf("--verify of the intact file: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	model[len(model)-1] ^= 1
	os.WriteFile(dest, model, 0o644)
	code, _, errOut = runCapture(t, "pull", "--url", srv.URL+"/model.safetensors", "--out", dest, "--verify", "-q")
	if code != 1 || !strings.Contains(errOut, "corrupt") {
		t.Errorf("--verify of a changed file: exit %d, stderr %q", code, errOut)
	}
}
