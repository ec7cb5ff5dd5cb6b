package weights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fileServer serves content at /resolve/model.safetensors like Hugging
// Face: HEAD and GET on the resolve URL redirect to /cdn, the redirect
// carrying X-Linked-Etag (the SHA-256) and X-Linked-Size; /cdn honours Range
// unless ignoreRange is set.
type fileServer struct {
	content     []byte
	etag        string
	ignoreRange bool
	mu          sync.Mutex
	ranges      []string
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/resolve/model.safetensors":
		w.Header().Set("X-Linked-Etag", `"`+s.etag+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(s.content)))
		http.Redirect(w, r, "/cdn/model.safetensors", http.StatusFound)
	case "/cdn/model.safetensors":
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.mu.Unlock()
		if s.ignoreRange {
			r.Header.Del("Range")
		}
		http.ServeContent(w, r, "model.safetensors", time.Time{}, bytes.NewReader(s.content))
	default:
		http.NotFound(w, r)
	}
}

func newFileServer(t *testing.T) (*fileServer, *httptest.Server) {
	content := make([]byte, 300_000)
	rand.New(rand.NewSource(1)).Read(content)
	sum := sha256.Sum256(content)
	fs := &fileServer{content: content, etag: hex.EncodeToString(sum[:])}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return fs, srv
}

func TestDownloadFresh(t *testing.T) {
	fs, srv := newFileServer(t)
	dest := filepath.Join(t.TempDir(), "weights", "model.safetensors")
	var last int64
	hash, err := Download(context.Background(), srv.Client(), srv.URL+"/resolve/model.safetensors", dest,
		func(done, total int64) {
			if total != int64(len(fs.content)) {
				t.Errorf("progress total %d, want %d", total, len(fs.content))
			}
			last = done
		})
	if err != nil {
		t.Fatal(err)
	}
	if hash != fs.etag {
		t.Errorf("hash %s, want %s", hash, fs.etag)
	}
	if last != int64(len(fs.content)) {
		t.Errorf("progress ended at %d", last)
	}
	checkFile(t, dest, fs.content)
	if _, err := os.Stat(dest + ".part"); !os.IsNotExist(err) {
		t.Error(".part file left behind")
	}
}

func TestDownloadResumes(t *testing.T) {
	for _, ignoreRange := range []bool{false, true} {
		fs, srv := newFileServer(t)
		fs.ignoreRange = ignoreRange
		dest := filepath.Join(t.TempDir(), "model.safetensors")
		if err := os.WriteFile(dest+".part", fs.content[:123_457], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Download(context.Background(), srv.Client(), srv.URL+"/resolve/model.safetensors", dest, nil); err != nil {
			t.Fatalf("ignoreRange=%v: %v", ignoreRange, err)
		}
		checkFile(t, dest, fs.content)
		if len(fs.ranges) != 1 || fs.ranges[0] != "bytes=123457-" {
			t.Errorf("ignoreRange=%v: Range headers %q, want one bytes=123457-", ignoreRange, fs.ranges)
		}
	}
}

func TestDownloadCorrupt(t *testing.T) {
	// Either the bytes differ from what the hash promises (a corrupt .part
	// being resumed) or the server's hash differs: both must leave no file.
	for _, tc := range []string{"corrupt part", "wrong hash"} {
		fs, srv := newFileServer(t)
		dest := filepath.Join(t.TempDir(), "model.safetensors")
		if tc == "corrupt part" {
			bad := append([]byte{}, fs.content[:1000]...)
			bad[10] ^= 0xff
			if err := os.WriteFile(dest+".part", bad, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			fs.etag = strings.Repeat("ab", 32)
		}
		_, err := Download(context.Background(), srv.Client(), srv.URL+"/resolve/model.safetensors", dest, nil)
		if err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("%s: error %v, want a corrupt-download error", tc, err)
		}
		for _, p := range []string{dest, dest + ".part"} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s: %s exists after a failed verification", tc, p)
			}
		}
	}
}

func TestDownloadNotFound(t *testing.T) {
	_, srv := newFileServer(t)
	dest := filepath.Join(t.TempDir(), "model.safetensors")
	_, err := Download(context.Background(), srv.Client(), srv.URL+"/resolve/missing.safetensors", dest, nil)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("error %v, want HTTP 404", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("destination created for a 404")
	}
}

func TestDownloadUnreachable(t *testing.T) {
	_, srv := newFileServer(t)
	url := srv.URL + "/resolve/model.safetensors"
	srv.Close()
	_, err := Download(context.Background(), nil, url, filepath.Join(t.TempDir(), "m"), nil)
	if err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("error %v, want cannot reach", err)
	}
}

func TestFileSHA256Cache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("first"))
	got, err := FileSHA256(path)
	if err != nil || got != hex.EncodeToString(want[:]) {
		t.Fatalf("got %s, %v", got, err)
	}
	// A cached value is used while size and mtime match: plant a fake one.
	fake := strings.Repeat("0", 64)
	if err := RecordSHA256(path, fake); err != nil {
		t.Fatal(err)
	}
	if got, _ := FileSHA256(path); got != fake {
		t.Errorf("cache not used: %s", got)
	}
	// Changing the file invalidates it.
	if err := os.WriteFile(path, []byte("second!"), 0o644); err != nil {
		t.Fatal(err)
	}
	want = sha256.Sum256([]byte("second!"))
	if got, _ := FileSHA256(path); got != hex.EncodeToString(want[:]) {
		t.Errorf("stale cache: %s", got)
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: content differs (%d bytes, want %d)", path, len(got), len(want))
	}
}
