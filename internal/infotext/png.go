package infotext

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"sort"
	"unicode/utf8"
)

// PNG text metadata. image/png neither writes nor returns text chunks, so
// the encoded stream is spliced: text chunks go right after IHDR, where
// PIL (and so A1111) puts them.

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngEncoder writes compact files; generated images gain little from
// the slowest compression.
var pngEncoder = png.Encoder{CompressionLevel: png.DefaultCompression}

// EncodePNG writes img as PNG with one text chunk per entry of text (keys
// sorted). A value that Latin-1 can hold becomes a tEXt chunk, anything else
// an uncompressed UTF-8 iTXt chunk: the choice PIL's PngInfo.add_text makes.
func EncodePNG(w io.Writer, img image.Image, text map[string]string) error {
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return err
	}
	data := buf.Bytes()
	// signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 crc)
	const ihdrEnd = 8 + 25
	if len(data) < ihdrEnd || !bytes.Equal(data[:8], pngSignature) || string(data[12:16]) != "IHDR" {
		return errors.New("png: unexpected encoder output")
	}
	keys := make([]string, 0, len(text))
	for k := range text {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var chunks bytes.Buffer
	for _, k := range keys {
		if err := checkTextKey(k); err != nil {
			return err
		}
		if latin1, ok := toLatin1(text[k]); ok {
			writeChunk(&chunks, "tEXt", append(append([]byte(k), 0), latin1...))
			continue
		}
		// keyword, 0, compression flag 0, method 0, empty language, 0,
		// empty translated keyword, 0, UTF-8 text
		body := append([]byte(k), 0, 0, 0, 0, 0)
		writeChunk(&chunks, "iTXt", append(body, text[k]...))
	}
	for _, part := range [][]byte{data[:ihdrEnd], chunks.Bytes(), data[ihdrEnd:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// checkTextKey applies the PNG rule for keywords: 1-79 Latin-1 printable
// characters.
func checkTextKey(k string) error {
	if len(k) == 0 || len(k) > 79 {
		return fmt.Errorf("png: text keyword %q must have 1 to 79 characters", k)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 32 || k[i] > 126 {
			return fmt.Errorf("png: text keyword %q has a non-printable character", k)
		}
	}
	return nil
}

func writeChunk(w *bytes.Buffer, typ string, body []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(body)))
	w.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(body)
	w.WriteString(typ)
	w.Write(body)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	w.Write(n[:])
}

// toLatin1 encodes s as ISO 8859-1 when every rune fits.
func toLatin1(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 255 || r == utf8.RuneError {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, true
}

func fromLatin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// ReadPNGText returns the tEXt, zTXt and iTXt entries of a PNG stream
// (image data is skipped, not decoded).
func ReadPNGText(r io.Reader) (map[string]string, error) {
	sig := make([]byte, 8)
	if _, err := io.ReadFull(r, sig); err != nil || !bytes.Equal(sig, pngSignature) {
		return nil, errors.New("not a PNG file")
	}
	text := map[string]string{}
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, fmt.Errorf("truncated PNG: %v", err)
		}
		n := binary.BigEndian.Uint32(head[:4])
		typ := string(head[4:8])
		if typ == "IEND" {
			return text, nil
		}
		if typ != "tEXt" && typ != "zTXt" && typ != "iTXt" {
			if _, err := io.CopyN(io.Discard, r, int64(n)+4); err != nil {
				return nil, fmt.Errorf("truncated PNG chunk %s: %v", typ, err)
			}
			continue
		}
		if n > 64<<20 {
			return nil, fmt.Errorf("PNG %s chunk of %d bytes is implausibly large", typ, n)
		}
		body := make([]byte, n+4)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, fmt.Errorf("truncated PNG chunk %s: %v", typ, err)
		}
		crc := crc32.NewIEEE()
		crc.Write(head[4:8])
		crc.Write(body[:n])
		if crc.Sum32() != binary.BigEndian.Uint32(body[n:]) {
			return nil, fmt.Errorf("PNG %s chunk has a bad checksum", typ)
		}
		k, v, err := parseTextChunk(typ, body[:n])
		if err != nil {
			return nil, err
		}
		text[k] = v
	}
}

func parseTextChunk(typ string, b []byte) (key, value string, err error) {
	i := bytes.IndexByte(b, 0)
	if i <= 0 {
		return "", "", fmt.Errorf("PNG %s chunk has no keyword", typ)
	}
	key, rest := fromLatin1(b[:i]), b[i+1:]
	switch typ {
	case "tEXt":
		return key, fromLatin1(rest), nil
	case "zTXt":
		if len(rest) < 1 {
			return "", "", fmt.Errorf("PNG zTXt %q is truncated", key)
		}
		raw, err := inflate(rest[1:])
		if err != nil {
			return "", "", fmt.Errorf("PNG zTXt %q: %v", key, err)
		}
		return key, fromLatin1(raw), nil
	}
	// iTXt: compression flag, method, language\0, translated keyword\0, text
	if len(rest) < 2 {
		return "", "", fmt.Errorf("PNG iTXt %q is truncated", key)
	}
	compressed := rest[0] == 1
	rest = rest[2:]
	for skip := 0; skip < 2; skip++ {
		j := bytes.IndexByte(rest, 0)
		if j < 0 {
			return "", "", fmt.Errorf("PNG iTXt %q is truncated", key)
		}
		rest = rest[j+1:]
	}
	if compressed {
		if rest, err = inflate(rest); err != nil {
			return "", "", fmt.Errorf("PNG iTXt %q: %v", key, err)
		}
	}
	if !utf8.Valid(rest) {
		return "", "", fmt.Errorf("PNG iTXt %q is not valid UTF-8", key)
	}
	return key, string(rest), nil
}

func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(io.LimitReader(zr, 64<<20))
}
