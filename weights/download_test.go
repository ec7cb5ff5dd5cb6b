package weights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
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
	// A valid safetensors file: one U8 tensor of random bytes.
	const n = 300_000
	header := []byte(`{"x":{"dtype":"U8","shape":[` + strconv.Itoa(n) + `],"data_offsets":[0,` + strconv.Itoa(n) + `]}}`)
	content := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	content = append(content, header...)
	data := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(data)
	content = append(content, data...)
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
	cacheHome := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cacheHome)
	t.Setenv("HOME", cacheHome) // os.UserCacheDir's base outside Linux
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
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
	// The cache lives in the user's cache folder, never beside the model.
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("the model's folder holds %d files, want the model alone", len(es))
	}
	var cached int
	filepath.WalkDir(cacheHome, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			cached++
		}
		return nil
	})
	if cached != 1 {
		t.Errorf("%d files in the cache folder, want 1", cached)
	}
}

func TestFileSHA256RefusesNonRegularFiles(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, p := range []string{os.DevNull, t.TempDir()} {
		if h, err := FileSHA256(p); err == nil {
			t.Errorf("%s hashed as %s", p, h)
		}
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

// An error page served with status 200 and no hash is not a checkpoint:
// refused, and nothing is left under either name.
func TestDownloadRefusesNonSafetensors(t *testing.T) {
	page := []byte("<!DOCTYPE html><html><body>Rate limited, try again later</body></html>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(page)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	dest := filepath.Join(dir, "model.safetensors")
	_, err := Download(context.Background(), srv.Client(), srv.URL+"/m.safetensors", dest, nil)
	if err == nil || !strings.Contains(err.Error(), "not a safetensors file") || !strings.Contains(err.Error(), "<!DOCTYPE html>") {
		t.Fatalf("error %v, want a refusal quoting the page", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("the refused download left %d files", len(es))
	}
}

func TestVerify(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	fs, srv := newFileServer(t)
	url := srv.URL + "/resolve/model.safetensors"
	path := filepath.Join(t.TempDir(), "model.safetensors")
	os.WriteFile(path, fs.content, 0o644)
	if h, err := Verify(context.Background(), srv.Client(), url, path, nil); err != nil || h != fs.etag {
		t.Fatalf("intact file: %s, %v", h, err)
	}
	bad := bytes.Clone(fs.content)
	bad[len(bad)/2] ^= 1
	os.WriteFile(path, bad, 0o644)
	if _, err := Verify(context.Background(), srv.Client(), url, path, nil); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("one flipped bit: %v, want corrupt", err)
	}
}
