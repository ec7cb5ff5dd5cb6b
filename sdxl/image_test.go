package sdxl

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"testing"
)

var pipeCaseNames = []string{
	"t2i_euler_a_6", "t2i_euler_a_28", "t2i_euler_a_6_noneg",
	"t2i_euler_6", "t2i_dpmpp_2m_karras_6", "i2i_euler_a_10_s0.6",
}

func loadRefPNG(t testing.TB, name string) *image.NRGBA {
	t.Helper()
	img, err := LoadImage(refDir + name)
	if err != nil {
		t.Fatal(err)
	}
	return toNRGBA(img)
}

func rgbBytes(img *image.NRGBA) []uint8 {
	b := img.Bounds()
	out := make([]uint8, 0, 3*b.Dx()*b.Dy())
	for i := 0; i < len(img.Pix); i += 4 {
		out = append(out, img.Pix[i:i+3]...)
	}
	return out
}

// diffusers made each reference PNG from its float image with
// round(x·255); Pixels8 must give the same bytes from the same floats.
func TestPixels8MatchesReferencePNGs(t *testing.T) {
	for _, c := range pipeCaseNames {
		img := golden(t, "pipe/"+c+"/image")
		h, w := img.shape[1], img.shape[2]
		got := rgbBytes(Pixels8(nhwcToCHW(img.data, h, w), h, w))
		want := rgbBytes(loadRefPNG(t, "tiny-sdxl-a-"+c+".png"))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: 8-bit pixels differ from the reference PNG", c)
		}
	}
}

func TestImageToSignedMatchesVAEInput(t *testing.T) {
	want := golden(t, "vae/encode/image")
	got := ImageToSigned(loadRefPNG(t, "tiny-sdxl-a-i2i-input.png"))
	if len(got) != len(want.data) {
		t.Fatalf("got %d values, want %d", len(got), len(want.data))
	}
	for i := range got {
		if got[i] != want.data[i] {
			t.Fatalf("value %d: got %v, want %v", i, got[i], want.data[i])
		}
	}
}

func TestEncodePNGTextRoundTrip(t *testing.T) {
	src := loadRefPNG(t, "tiny-sdxl-a-i2i-input.png")
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
	if !bytes.Equal(rgbBytes(toNRGBA(dec)), rgbBytes(src)) {
		t.Error("pixels changed")
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

func TestLoadImageErrorNamesFile(t *testing.T) {
	path := t.TempDir() + "/not-an-image.png"
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadImage(path)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(path)) {
		t.Errorf("error %v does not name %s", err, path)
	}
}

// psnr8 is the PSNR in dB of two 8-bit images of the same size
// (+Inf when identical).
func psnr8(a, b []uint8) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("sizes differ: %d vs %d", len(a), len(b))
	}
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1), nil
	}
	return 10 * math.Log10(255*255/(se/float64(len(a)))), nil
}

// nhwcToCHW turns a golden image [1, H, W, 3] into [3, H, W].
func nhwcToCHW(v []float32, h, w int) []float32 {
	out := make([]float32, len(v))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				out[c*h*w+y*w+x] = v[(y*w+x)*3+c]
			}
		}
	}
	return out
}
