package lora

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// ShortHash is A1111's short hash of a LoRA file, written in the PNG
// parameters as "Lora hashes": the first 12 hex digits of kohya's addnet
// hash, the SHA-256 of the file after its safetensors header (what Civitai
// calls AutoV3). It does not change when only the metadata is edited.
func ShortHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var n [8]byte
	if _, err := io.ReadFull(f, n[:]); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	if _, err := f.Seek(int64(8+binary.LittleEndian.Uint64(n[:])), io.SeekStart); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// FileShortHash is the first 12 hex digits of the SHA-256 of the whole
// file: A1111's short hash of an embedding ("TI hashes").
func FileShortHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
