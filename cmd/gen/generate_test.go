package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
)

const refDir = "../../testdata/reference/"

// tinyModel links the tiny checkpoint into a temporary folder, so that
// nothing a run writes near its model can reach the reference data.
func tinyModel(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(refdata.TinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "tiny-sdxl-a.safetensors")
	if err := os.Symlink(abs, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// refPrompts returns the prompt and negative prompt of the reference
// pipeline cases.
func refPrompts(t *testing.T) (prompt, negative string) {
	t.Helper()
	raw, err := os.ReadFile(refDir + "tiny-sdxl-a-cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pipelines []struct {
			Name     string `json:"name"`
			Prompt   string `json:"prompt_text"`
			Negative string `json:"negative_prompt_text"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range doc.Pipelines {
		if c.Name == "t2i_euler_a_6" {
			return c.Prompt, c.Negative
		}
	}
	t.Fatal("no case t2i_euler_a_6")
	return "", ""
}

func readRGB(t *testing.T, path string) []uint8 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	out := make([]uint8, 0, 3*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
		}
	}
	return out
}

func psnr(a, b []uint8) float64 {
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	return 10 * math.Log10(255*255/(se/float64(len(a))))
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestGenerateTinyEndToEnd runs `gen` in-process on the tiny checkpoint as
// diffusers' t2i_euler_a_6 case, checks the image against diffusers' PNG
// and its A1111 parameters field by field, then regenerates it with --from
// and inspects it.
func TestGenerateTinyEndToEnd(t *testing.T) {
	model := tinyModel(t)
	prompt, negative := refPrompts(t)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.png")
	code, out, errOut := runCapture(t, "--model", model, "-p", prompt, "-n", negative,
		"--width", "192", "--height", "128", "--steps", "6", "--seed", "1234",
		"--compat", "diffusers", "--device", "cpu", "--out", first, "-q")
	if code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	if strings.TrimSpace(out) != first {
		t.Errorf("stdout %q, want the file name %q", out, first)
	}
	if !strings.Contains(errOut, "seed: 1234") {
		t.Errorf("stderr %q does not print the seed", errOut)
	}
	pixels := readRGB(t, first)
	if db := psnr(pixels, readRGB(t, refDir+"tiny-sdxl-a-t2i_euler_a_6.png")); db < 45 {
		t.Errorf("PSNR %.1f dB against diffusers' image, want ≥ 45", db)
	}

	_, raw, err := readParameters(first)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(raw, "\n")
	if len(lines) != 3 {
		t.Fatalf("parameters have %d lines, want 3:\n%s", len(lines), raw)
	}
	if lines[0] != prompt {
		t.Errorf("prompt line %q, want %q", lines[0], prompt)
	}
	if lines[1] != "Negative prompt: "+negative {
		t.Errorf("negative line %q", lines[1])
	}
	want := []string{
		"Steps: 6", "Sampler: Euler a", "Schedule type: Automatic", "CFG scale: 5", "Seed: 1234",
		"Size: 192x128", "Model hash: " + sha256File(t, model)[:10], "Model: tiny-sdxl-a",
		"RNG: CPU", "Compat: diffusers",
	}
	got := strings.Split(lines[2], ", ")
	if len(got) != len(want) {
		t.Errorf("parameter line %q has %d fields, want %d", lines[2], len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("field %d: %q, want %q", i, got[i], want[i])
		}
	}

	// --from reproduces the image and its parameters exactly.
	second := filepath.Join(dir, "second.png")
	code, _, errOut = runCapture(t, "--from", first, "--model", model, "--device", "cpu", "--out", second, "-q")
	if code != 0 {
		t.Fatalf("gen --from: exit %d: %s", code, errOut)
	}
	if string(readRGB(t, second)) != string(pixels) {
		t.Error("gen --from produced different pixels")
	}
	if _, raw2, err := readParameters(second); err != nil || raw2 != raw {
		t.Errorf("gen --from wrote parameters %q (%v), want %q", raw2, err, raw)
	}

	// Nothing is overwritten: the same --out gets a numbered name.
	code, out, errOut = runCapture(t, "--from", first, "--model", model, "--device", "cpu", "--out", second, "-q")
	if want := filepath.Join(dir, "second-1.png"); code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("second run to an existing name: exit %d, wrote %q (%s), want %q", code, out, errOut, want)
	}

	code, out, errOut = runCapture(t, "inspect", first)
	if code != 0 || !strings.HasPrefix(out, raw+"\n") || !strings.Contains(out, `"seed": 1234`) {
		t.Errorf("gen inspect: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// writeTestPNG writes a w×h gradient PNG.
func writeTestPNG(t *testing.T, path string, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// An init image whose sides are not multiples of 8 is resized, with a
// warning (to its size rounded down, or to --width/--height when given),
// never refused or silently cropped.
func TestInitImageResized(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	odd := writeTestPNG(t, filepath.Join(dir, "odd.png"), 20, 17)
	for _, c := range []struct {
		extra []string
		w, h  int
		warn  bool
	}{{nil, 16, 16, true}, {[]string{"--width", "24", "--height", "32"}, 24, 32, false}} {
		out := filepath.Join(dir, "out.png")
		args := append([]string{"-p", "x", "--init-image", odd, "--model", model, "--device", "cpu",
			"--steps", "2", "--out", out, "--overwrite", "-q"}, c.extra...)
		code, _, errOut := runCapture(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errOut)
		}
		if got := strings.Contains(errOut, "resizing it to 16x16"); got != c.warn {
			t.Errorf("%q: warning shown %v, want %v (stderr %q)", args, got, c.warn, errOut)
		}
		f, _ := os.Open(out)
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != c.w || cfg.Height != c.h {
			t.Errorf("%q: output %dx%d (%v), want %dx%d", args, cfg.Width, cfg.Height, err, c.w, c.h)
		}
	}
}
