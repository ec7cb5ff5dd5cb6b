package kernels

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

func gzipped(t *testing.T, text string) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGunzipPTXReturnsTheText(t *testing.T) {
	const text = "// gosdxl-source-sha256: 00 (cuda/x.cu)\n.version 7.8\n.entry k()\n{\n}\n"
	got, err := gunzipPTX("x", gzipped(t, text))
	if err != nil || string(got) != text {
		t.Fatalf("gunzipPTX = %q, %v; want %q", got, err, text)
	}
}

// Each kind of damage is refused with the module's name and file, never
// returned as a shorter or altered PTX.
func TestGunzipPTXRefusesCorruptData(t *testing.T) {
	good := gzipped(t, strings.Repeat(".entry k()\n{\n}\n", 100))
	flipped := bytes.Clone(good)
	flipped[len(flipped)-6] ^= 0xff // inside the CRC-32 trailer
	body := bytes.Clone(good)
	body[len(body)/2] ^= 0xff
	cases := map[string][]byte{
		"empty":     nil,
		"not gzip":  []byte(".version 7.8\n.entry k()\n"),
		"truncated": good[:len(good)/2],
		"bad crc":   flipped,
		"bad body":  body,
	}
	for name, data := range cases {
		got, err := gunzipPTX("gemm", data)
		if err == nil {
			t.Errorf("%s: gunzipPTX accepted it, returning %d bytes", name, len(got))
			continue
		}
		if !strings.Contains(err.Error(), "module gemm: ptx/gemm.ptx.gz") {
			t.Errorf("%s: error %q does not name the module and file", name, err)
		}
	}
}
