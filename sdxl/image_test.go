package sdxl

import (
	"bytes"
	"fmt"
	"image"
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
