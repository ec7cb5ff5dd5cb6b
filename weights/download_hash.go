package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/internal/atomicfile"
)

// FileSHA256 returns the SHA-256 of a regular file in hex (see
// FileSHA256Progress).
func FileSHA256(path string) (string, error) { return FileSHA256Progress(path, nil) }

// FileSHA256Progress returns the SHA-256 of a regular file in hex, calling
// progress (when not nil) with the bytes hashed so far and the file size.
// Hashing a 7 GB checkpoint takes a while, so the result is cached in the
// user's cache folder (os.UserCacheDir()/gosdxl/sha256), never beside the
// file, keyed by the file's absolute path and trusted while its size and
// modification time still match. A cache that cannot be written only costs
// the rehash next time. Devices, pipes and folders are refused: their
// "content" has no fixed hash.
func FileSHA256Progress(path string, progress func(done, total int64)) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", path)
	}
	cache, stamp := hashCachePath(path), hashStamp(path, st)
	if hash, ok := readHashCache(cache, stamp); ok {
		return hash, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	var w io.Writer = h
	if progress != nil {
		w = &countingWriter{w: h, total: st.Size(), progress: progress}
	}
	if _, err := io.Copy(w, f); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	hash := hex.EncodeToString(h.Sum(nil))
	writeHashCache(cache, hash, stamp)
	return hash, nil
}

// CachedSHA256 returns the cached hash of path when the cache holds one
// for the file as it is now.
func CachedSHA256(path string) (string, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	return readHashCache(hashCachePath(path), hashStamp(path, st))
}

func readHashCache(cache, stamp string) (string, bool) {
	if cache == "" {
		return "", false
	}
	b, err := os.ReadFile(cache)
	if err != nil {
		return "", false
	}
	hash, rest, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if rest != stamp || !sha256Hex.MatchString(hash) {
		return "", false
	}
	return hash, true
}

// RecordSHA256 stores a hash already known (computed while downloading) in
// the cache FileSHA256 reads.
func RecordSHA256(path, hash string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	cache := hashCachePath(path)
	if cache == "" {
		return fmt.Errorf("no user cache folder")
	}
	return writeHashCache(cache, hash, hashStamp(path, st))
}

// hashStamp is what must still match for a cached hash to be trusted.
func hashStamp(path string, st os.FileInfo) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return strconv.FormatInt(st.Size(), 10) + " " + strconv.FormatInt(st.ModTime().UnixNano(), 10) + " " + abs
}

// hashCachePath is the cache file for path: one small file per checkpoint,
// named by a hash of its absolute path; "" when there is no cache folder.
func hashCachePath(path string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	key := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, "gosdxl", "sha256", hex.EncodeToString(key[:16]))
}

func writeHashCache(cache, hash, stamp string) error {
	if cache == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
		return err
	}
	f, err := atomicfile.Create(cache)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(hash + " " + stamp + "\n"); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
