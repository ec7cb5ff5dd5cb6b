package weights

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DefaultCheckpointURL is where `gen pull` fetches Animagine XL 4.0.
const DefaultCheckpointURL = "https://huggingface.co/cagliostrolab/animagine-xl-4.0/resolve/main/animagine-xl-4.0.safetensors"

// Download fetches url into dest without ever leaving a partial or corrupt
// file under dest's name:
//
//   - bytes go to dest + ".part"; a later call resumes it with an HTTP Range
//     request (a server that ignores Range restarts it from zero);
//   - when the server announces a SHA-256 (Hugging Face sends the LFS object
//     id as X-Linked-Etag on the resolve URL's redirect, or as ETag), the
//     whole file, resumed bytes included, is checked before the rename;
//   - on a hash mismatch the .part file is deleted: its bytes are wrong
//     somewhere, so resuming it could never succeed;
//   - a dest named .safetensors must hold a safetensors header (an HTML
//     error page sent without a hash is refused and deleted).
//
// progress, when not nil, is called with bytes done and total (-1 when
// unknown). The returned hash is the file's SHA-256 in hex.
func Download(ctx context.Context, client *http.Client, url, dest string, progress func(done, total int64)) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	want, total, err := probe(ctx, client, url)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	part := dest + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()

	sum := sha256.New()
	have, err := io.Copy(sum, f) // hash what an earlier run left
	if err != nil {
		return "", fmt.Errorf("%s: %v", part, err)
	}
	if total >= 0 && have > total {
		// Longer than the file: not ours to resume.
		if have, err = restart(f, sum); err != nil {
			return "", err
		}
	}
	if total < 0 || have < total {
		if err := fetchRest(ctx, client, url, f, sum, have, total, progress); err != nil {
			return "", err
		}
	}
	got := hex.EncodeToString(sum.Sum(nil))
	if strings.HasSuffix(strings.ToLower(dest), ".safetensors") && (want == "" || got == want) {
		// Without an announced hash nothing else tells an error page
		// served with status 200 from the checkpoint; with one, a file
		// that is not a checkpoint is still not worth keeping under a
		// checkpoint's name.
		size, err := f.Seek(0, io.SeekEnd)
		if err == nil {
			err = checkSafetensorsStart(f, size)
		}
		if err != nil {
			f.Close()
			os.Remove(part)
			return "", fmt.Errorf("download of %s refused: %v; removed %s", url, err, part)
		}
	}
	if want != "" && got != want {
		f.Close()
		os.Remove(part)
		return "", fmt.Errorf("download of %s is corrupt: SHA-256 %s, the server says %s; removed %s, run again to download it afresh", url, got, want, part)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(part, dest); err != nil {
		return "", err
	}
	return got, nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// probe asks for the file's size and SHA-256 without following redirects,
// because Hugging Face puts the LFS hash and size on the redirect itself.
func probe(ctx context.Context, client *http.Client, url string) (hash string, size int64, err error) {
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("cannot reach %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return "", 0, fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	size = -1
	for _, h := range []string{"X-Linked-Size", "Content-Length"} {
		if n, err := strconv.ParseInt(resp.Header.Get(h), 10, 64); err == nil && n >= 0 {
			size = n
			break
		}
	}
	if resp.StatusCode >= 300 && resp.Header.Get("X-Linked-Size") == "" {
		size = -1 // a redirect's Content-Length is its own body's
	}
	for _, h := range []string{"X-Linked-Etag", "ETag"} {
		v := strings.ToLower(strings.Trim(strings.TrimPrefix(resp.Header.Get(h), "W/"), `"`))
		if sha256Hex.MatchString(v) {
			return v, size, nil
		}
	}
	return "", size, nil
}

// fetchRest appends bytes from offset have to f, hashing them.
func fetchRest(ctx context.Context, client *http.Client, url string, f *os.File, sum hash.Hash, have, total int64, progress func(done, total int64)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %v", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have)) {
			return fmt.Errorf("%s: server resumed at the wrong offset (%q)", url, resp.Header.Get("Content-Range"))
		}
	case resp.StatusCode == http.StatusOK:
		if have > 0 { // Range ignored: the body is the whole file
			if have, err = restart(f, sum); err != nil {
				return err
			}
		}
		if total < 0 && resp.ContentLength >= 0 {
			total = resp.ContentLength
		}
	default:
		return fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return err
	}
	w := &countingWriter{w: io.MultiWriter(f, sum), done: have, total: total, progress: progress}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("download of %s interrupted after %d bytes (run again to resume): %v", url, w.done, err)
	}
	if total >= 0 && w.done != total {
		return fmt.Errorf("download of %s ended after %d of %d bytes (run again to resume)", url, w.done, total)
	}
	return nil
}

// restart empties the .part file and the running hash.
func restart(f *os.File, sum hash.Hash) (int64, error) {
	sum.Reset()
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	_, err := f.Seek(0, io.SeekStart)
	return 0, err
}

type countingWriter struct {
	w           io.Writer
	done, total int64
	progress    func(done, total int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.done += int64(n)
	if c.progress != nil {
		c.progress(c.done, c.total)
	}
	return n, err
}
