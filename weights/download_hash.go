package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// FileSHA256 returns the SHA-256 of a file in hex. Hashing a 7 GB
// checkpoint takes a while, so the result is cached beside it in
// <path>.sha256 as "<hash> <size> <mtime-ns>" and trusted while size and
// modification time still match. A cache that cannot be written (read-only
// folder) only costs the rehash next time.
func FileSHA256(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	stamp := fmt.Sprintf("%d %d", st.Size(), st.ModTime().UnixNano())
	cache := path + ".sha256"
	if b, err := os.ReadFile(cache); err == nil {
		hash, rest, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		if rest == stamp && sha256Hex.MatchString(hash) {
			return hash, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	hash := hex.EncodeToString(h.Sum(nil))
	_ = os.WriteFile(cache, []byte(hash+" "+stamp+"\n"), 0o644)
	return hash, nil
}

// RecordSHA256 stores a hash already known (computed while downloading) in
// the cache FileSHA256 reads.
func RecordSHA256(path, hash string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	line := hash + " " + strconv.FormatInt(st.Size(), 10) + " " + strconv.FormatInt(st.ModTime().UnixNano(), 10) + "\n"
	return os.WriteFile(path+".sha256", []byte(line), 0o644)
}
