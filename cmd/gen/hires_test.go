package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// paramFields returns the "Key: value" fields of a PNG's parameter line.
func paramFields(t *testing.T, path string) []string {
	t.Helper()
	_, raw, err := readParameters(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(raw, "\n")
	return strings.Split(lines[len(lines)-1], ", ")
}

func wantFields(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("parameter line\n %s\nwant\n %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// regenerate runs gen --from and checks the pixels and the parameters
// are the same.
func regenerate(t *testing.T, first string, extra ...string) {
	t.Helper()
	second := filepath.Join(filepath.Dir(first), "again-"+filepath.Base(first))
	args := append([]string{"--from", first, "--device", "cpu", "--out", second, "-q"}, extra...)
	code, _, errOut := runCapture(t, args...)
	if code != 0 {
		t.Fatalf("gen --from: exit %d: %s", code, errOut)
	}
	if string(readRGB(t, second)) != string(readRGB(t, first)) {
		t.Error("gen --from produced different pixels")
	}
	_, a, _ := readParameters(first)
	_, b, _ := readParameters(second)
	if a != b {
		t.Errorf("gen --from wrote\n %q\nwant\n %q", b, a)
	}
}

func TestHiresEndToEnd(t *testing.T) {
	model := tinyModel(t)
	prompt, _ := refPrompts(t)
	out := filepath.Join(t.TempDir(), "hires.png")
	code, _, errOut := runCapture(t, "--model", model, "-p", prompt, "--width", "192", "--height", "128",
		"--steps", "3", "--seed", "7", "--hires-scale", "1.5", "--hires-steps", "2",
		"--hires-upscaler", "latent-bicubic", "--device", "cpu", "--out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if b := readImageBounds(t, out); b.Dx() != 288 || b.Dy() != 192 {
		t.Errorf("image %v, want 288x192", b)
	}
	wantFields(t, paramFields(t, out), []string{
		"Steps: 3", "Sampler: Euler a", "Schedule type: Automatic", "CFG scale: 5", "Seed: 7",
		"Size: 192x128", "Model hash: " + sha256File(t, model)[:10], "Model: tiny-sdxl-a",
		"Denoising strength: 0.7", "RNG: CPU", "Hires upscale: 1.5", "Hires steps: 2",
		"Hires upscaler: Latent (bicubic)",
	})
	regenerate(t, out, "--model", model)
}

func readImageBounds(t *testing.T, path string) image.Rectangle {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return image.Rect(0, 0, cfg.Width, cfg.Height)
}

func writeMask(t *testing.T, path string, w, h, x0, y0, x1, y1 int) {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m.SetGray(x, y, color.Gray{255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, m); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestInpaintEndToEnd(t *testing.T) {
	model := tinyModel(t)
	prompt, _ := refPrompts(t)
	dir := t.TempDir()
	init := refDir + "tiny-sdxl-a-i2i-input.png"
	mask := filepath.Join(dir, "mask.png")
	writeMask(t, mask, 192, 128, 64, 32, 128, 96)
	out := filepath.Join(dir, "inpaint.png")
	code, _, errOut := runCapture(t, "--model", model, "-p", prompt, "--init-image", init, "--mask", mask,
		"--mask-blur", "0", "--masked-content", "fill", "--inpaint-full-res", "--inpaint-padding", "8",
		"--width", "128", "--height", "128", "--sampler", "euler", "--steps", "4", "--seed", "3",
		"--device", "cpu", "--out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantFields(t, paramFields(t, out), []string{
		"Steps: 4", "Sampler: Euler", "Schedule type: Automatic", "CFG scale: 5", "Seed: 3",
		"Size: 128x128", "Model hash: " + sha256File(t, model)[:10], "Model: tiny-sdxl-a",
		"Denoising strength: 0.75", "RNG: CPU", "Inpaint area: Only masked", "Masked area padding: 8",
		"Masked content: fill", "Mask: mask.png",
	})
	got, in := readRGB(t, out), readRGB(t, init)
	for y := 0; y < 128; y++ {
		for x := 0; x < 192; x++ {
			i := 3 * (y*192 + x)
			inside := x >= 64 && x < 128 && y >= 32 && y < 96
			if !inside && string(got[i:i+3]) != string(in[i:i+3]) {
				t.Fatalf("pixel %d,%d outside the mask changed", x, y)
			}
		}
	}
	regenerate(t, out, "--model", model, "--init-image", init, "--mask", mask)
	code, _, errOut = runCapture(t, "--from", out, "--model", model, "--init-image", init, "--device", "cpu", "-q")
	if code != 2 || !strings.Contains(errOut, "--mask") {
		t.Errorf("--from without the mask: exit %d, %q", code, errOut)
	}
}

func TestTiledVAEFlagsEndToEnd(t *testing.T) {
	model := tinyModel(t)
	prompt, _ := refPrompts(t)
	out := filepath.Join(t.TempDir(), "tiled.png")
	code, _, errOut := runCapture(t, "--model", model, "-p", prompt, "--width", "192", "--height", "128",
		"--steps", "2", "--seed", "5", "--vae-tiling", "on", "--vae-tile-size", "64", "-v",
		"--device", "cpu", "--out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{"VAE decode 192x128: tiles of 64px", "peak memory (resident)"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("-v output lacks %q:\n%s", s, errOut)
		}
	}
	fields := paramFields(t, out)
	if fields[len(fields)-1] != "VAE tile size: 64" {
		t.Errorf("last field %q, want VAE tile size: 64", fields[len(fields)-1])
	}
	regenerate(t, out, "--model", model)
}

func TestEmptyMaskCopiesInput(t *testing.T) {
	dir := t.TempDir()
	init := refDir + "tiny-sdxl-a-i2i-input.png"
	mask := filepath.Join(dir, "empty.png")
	writeMask(t, mask, 192, 128, 0, 0, 0, 0)
	out := filepath.Join(dir, "copy.png")
	code, stdoutText, errOut := runCapture(t, "-p", "x", "--init-image", init, "--mask", mask, "--model", tinyModel(t),
		"--device", "cpu", "--out", out)
	if code != 0 || !strings.Contains(errOut, "nothing to repaint") || strings.TrimSpace(stdoutText) != out {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdoutText, errOut)
	}
	if string(readRGB(t, out)) != string(readRGB(t, init)) {
		t.Error("the copy differs from the init image")
	}
}

func TestHiresAndInpaintBadInput(t *testing.T) {
	dir := t.TempDir()
	init := refDir + "tiny-sdxl-a-i2i-input.png"
	small := filepath.Join(dir, "small.png")
	writeMask(t, small, 96, 64, 0, 0, 8, 8)
	full := filepath.Join(dir, "full.png")
	writeMask(t, full, 192, 128, 0, 0, 192, 128)
	base := []string{"-p", "x", "--device", "cpu", "--model", tinyModel(t)}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--hires-scale", "0.5"}, "at least 1"},
		{[]string{"--hires-scale", "1.1", "--width", "832", "--height", "1216"}, "multiples of 8"},
		{[]string{"--hires-scale", "2", "--hires-denoise", "0"}, "--hires-denoise 0: must be in (0, 1]"},
		{[]string{"--hires-scale", "2", "--hires-denoise", "1.5"}, "must be in (0, 1]"},
		{[]string{"--hires-scale", "2", "--hires-upscaler", "esrgan"}, "unknown; valid upscalers"},
		{[]string{"--hires-steps", "4"}, "needs --hires-scale"},
		{[]string{"--hires-scale", "2", "--init-image", init}, "--hires-scale with --init-image: the hires fix is for txt2img only"},
		{[]string{"--mask", small}, "need --init-image"},
		{[]string{"--init-image", init, "--mask", small}, "size 96x64 differs"},
		{[]string{"--init-image", init, "--mask", full}, "covers the whole image"},
		{[]string{"--init-image", init, "--pad", "4,0,0,0"}, "multiple of 8"},
		{[]string{"--init-image", init, "--mask", small, "--masked-content", "noise"}, "--masked-content"},
		{[]string{"--max-memory", "lots"}, "--max-memory"},
		{[]string{"--vae-tile-size", "48"}, "multiple of 32"},
		{[]string{"--vae-tiling", "maybe"}, "auto, on or off"},
	} {
		code, _, errOut := runCapture(t, append(append([]string{}, base...), c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 saying %q", c.args, code, errOut, c.want)
		}
	}
}

func TestOutpaintEndToEnd(t *testing.T) {
	model := tinyModel(t)
	prompt, _ := refPrompts(t)
	init := refDir + "tiny-sdxl-a-i2i-input.png"
	out := filepath.Join(t.TempDir(), "outpaint.png")
	code, _, errOut := runCapture(t, "--model", model, "-p", prompt, "--init-image", init, "--pad", "16,0,0,8",
		"--masked-content", "fill", "--steps", "2", "--seed", "9", "--device", "cpu", "--out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if b := readImageBounds(t, out); b.Dx() != 208 || b.Dy() != 136 {
		t.Errorf("image %v, want 208x136", b)
	}
	fields := paramFields(t, out)
	tail := strings.Join(fields[len(fields)-4:], ", ")
	if tail != `Mask blur: 4, Masked content: fill, Mask: none, Outpaint pad: "16,0,0,8"` {
		t.Errorf("inpainting fields %q", tail)
	}
	regenerate(t, out, "--model", model, "--init-image", init)
}
