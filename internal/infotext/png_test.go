package infotext

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// testImage is an opaque gradient: every pixel different, so a pixel the
// splicing moved or changed shows.
func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(10 * x), uint8(15 * y), uint8(x*y + 3), 255})
		}
	}
	return img
}

func TestEncodePNGTextRoundTrip(t *testing.T) {
	src := testImage(24, 16)
	text := map[string]string{
		"parameters": "café, 1girl\nSteps: 5",       // Latin-1: tEXt
		"comment":    "猫と犬 “quoted” 🔥\nsecond line", // needs iTXt
	}
	var buf bytes.Buffer
	if err := EncodePNG(&buf, src, text); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("tEXtparameters\x00caf\xe9")) {
		t.Error("Latin-1 value not written as a Latin-1 tEXt chunk")
	}
	if !bytes.Contains(buf.Bytes(), []byte("iTXtcomment\x00")) {
		t.Error("non-Latin-1 value not written as iTXt")
	}
	// The standard decoder must still accept the file and see the same pixels.
	dec, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 16; y++ {
		for x := 0; x < 24; x++ {
			if got := color.NRGBAModel.Convert(dec.At(x, y)); got != src.At(x, y) {
				t.Fatalf("pixel (%d, %d) is %v, want %v", x, y, got, src.At(x, y))
			}
		}
	}
	got, err := ReadPNGText(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range text {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestReadPNGTextRejectsBadInput(t *testing.T) {
	if _, err := ReadPNGText(bytes.NewReader([]byte("GIF89a......"))); err == nil {
		t.Error("a GIF was accepted as PNG")
	}
	var buf bytes.Buffer
	if err := EncodePNG(&buf, image.NewNRGBA(image.Rect(0, 0, 2, 2)), map[string]string{"parameters": "x"}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte("tEXt"))
	b[i+5] ^= 1 // corrupt the keyword: checksum mismatch
	if _, err := ReadPNGText(bytes.NewReader(b)); err == nil {
		t.Error("corrupt tEXt chunk accepted")
	}
	if _, err := ReadPNGText(bytes.NewReader(b[:i])); err == nil {
		t.Error("truncated PNG accepted")
	}
}
