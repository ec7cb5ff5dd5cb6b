package sdxl

import (
	"errors"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/resample"
	"github.com/gosdxl/gosdxl/sampler"
)

// rectMask is a w×h mask, white inside [x0,x1)×[y0,y1).
func rectMask(w, h, x0, y0, x1, y1 int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m.SetGray(x, y, color.Gray{255})
		}
	}
	return m
}

// inpaintRequest is the tiny model's img2img case (192×128) turned into a
// short inpainting run with Euler, so every step is deterministic.
func inpaintRequest(t *testing.T) (*Model, Request, *image.NRGBA) {
	t.Helper()
	m, cases, _ := pipeFixture(t)
	var r Request
	for _, c := range cases {
		if c.Kind == "i2i" {
			r = c.request(t)
		}
	}
	r.Compat, r.Sampler, r.Steps, r.Strength = CompatGosdxl, "euler", 4, 0.75
	init := toNRGBA(r.InitImage)
	r.Inpaint = &Inpaint{Mask: rectMask(192, 128, 64, 32, 128, 96)}
	return m, r, init
}

// samePixels counts pixels equal in a and b where keep(x, y), and fails on
// the first that differs.
func samePixels(t *testing.T, name string, a, b *image.NRGBA, dx int, keep func(x, y int) bool) int {
	t.Helper()
	n := 0
	for y := 0; y < b.Rect.Dy(); y++ {
		for x := 0; x < b.Rect.Dx(); x++ {
			if !keep(x, y) {
				continue
			}
			pa, pb := a.PixOffset(x+dx, y), b.PixOffset(x, y)
			if a.Pix[pa] != b.Pix[pb] || a.Pix[pa+1] != b.Pix[pb+1] || a.Pix[pa+2] != b.Pix[pb+2] {
				t.Fatalf("%s: pixel %d,%d changed: %v → %v", name, x, y, b.Pix[pb:pb+3], a.Pix[pa:pa+3])
			}
			n++
		}
	}
	return n
}

func TestInpaintKeepsUnmaskedPixels(t *testing.T) {
	m, r, init := inpaintRequest(t)
	inRect := func(x, y int) bool { return x >= 64 && x < 128 && y >= 32 && y < 96 }
	for _, c := range []struct {
		name string
		ip   Inpaint
	}{
		{"original", Inpaint{}},
		{"fill", Inpaint{Content: ContentFill}},
		{"latent noise", Inpaint{Content: ContentLatentNoise}},
		{"latent nothing", Inpaint{Content: ContentLatentNothing}},
		{"only masked", Inpaint{FullRes: true, Padding: 8}},
	} {
		rr := r
		ip := c.ip
		ip.Mask = r.Inpaint.Mask
		rr.Inpaint = &ip
		res, err := m.Generate(rr)
		if err != nil {
			t.Fatal(c.name, err)
		}
		out := res.Images[0]
		kept := samePixels(t, c.name, out, init, 0, func(x, y int) bool { return !inRect(x, y) })
		changed := 64*64 - countSame(out, init, inRect)
		t.Logf("%s: %d pixels outside the mask identical, %d of 4096 inside changed", c.name, kept, changed)
		if changed < 2048 {
			t.Errorf("%s: only %d masked pixels changed", c.name, changed)
		}
	}
}

func countSame(a, b *image.NRGBA, where func(x, y int) bool) int {
	n := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			i := a.PixOffset(x, y)
			if where(x, y) && a.Pix[i] == b.Pix[i] && a.Pix[i+1] == b.Pix[i+1] && a.Pix[i+2] == b.Pix[i+2] {
				n++
			}
		}
	}
	return n
}

// With a blurred mask the result blends into the original across the
// blur; pixels the blurred mask does not reach stay exactly as they were.
func TestInpaintMaskBlur(t *testing.T) {
	m, r, init := inpaintRequest(t)
	r.Inpaint.MaskBlur = 4
	res, err := m.Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	bin := binaryMask(r.Inpaint.Mask)
	blurred := resample.GaussianBlur8(bin.pix, 192, 128, 4, 4)
	kept := samePixels(t, "blur 4", res.Images[0], init, 0, func(x, y int) bool { return blurred[y*192+x] == 0 })
	band := 0
	for i, v := range blurred {
		if v != 0 && bin.pix[i] == 0 {
			band++
		}
	}
	t.Logf("blur 4: %d pixels outside the blurred mask identical; %d outside the mask blended", kept, band)
	if band == 0 {
		t.Error("the blur reaches no pixel outside the mask")
	}
}

func TestOutpaintByPadding(t *testing.T) {
	m, r, init := inpaintRequest(t)
	r.Inpaint = &Inpaint{Mask: image.NewGray(image.Rect(0, 0, 192, 128)), Pad: [4]int{16, 0, 24, 0}, Content: ContentFill}
	res, err := m.Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 232 || res.Height != 128 {
		t.Fatalf("outpainted size %dx%d, want 232x128", res.Width, res.Height)
	}
	samePixels(t, "outpaint", res.Images[0], init, 16, func(x, y int) bool { return true })
}

// diffusers' rule, recomputed in float64 for one step from the run's own
// dumps: after step i (Euler, so the dumped latents are the sampler's x),
// outside the latent mask x = init + noise·σ_{i+1} (init itself after the
// last step); inside, x is the Euler step from the previous latents with
// the guided UNet's x0.
func TestInpaintLatentBlendingStep(t *testing.T) {
	m, r, _ := inpaintRequest(t)
	dir := t.TempDir()
	if _, err := generateDumped(m, r, dir); err != nil {
		t.Fatal(err)
	}
	g := readGoldens(t, filepath.Join(dir, "sampling.safetensors"))
	init, noise, mask := g["init_latents"].data, g["noise"].data, g["latent_mask"].data
	info, _ := sampler.Lookup("euler")
	full, _ := info.Schedule("", r.Steps)
	sched, _ := full.Img2Img(r.Strength)
	plane := len(mask)
	inside := 0
	for _, v := range mask {
		if v != 0 {
			inside++
		}
	}
	if inside == 0 || inside == plane {
		t.Fatalf("latent mask has %d of %d set", inside, plane)
	}
	last := sched.Steps() - 1
	for i := 0; i <= last; i++ {
		x := g[stepName(i)].data
		for j := range x {
			if mask[j%plane] != 0 {
				continue
			}
			want := float64(init[j])
			if i < last {
				want += float64(noise[j]) * float64(float32(sched.Sigmas[i+1]))
			}
			if d := math.Abs(float64(x[j]) - want); d > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("step %d: unmasked latent %d = %v, init + noise·σ = %v", i, j, x[j], want)
			}
		}
	}
	// Step 1 inside the mask: x1 = x0 + (x0 − D(x0))/σ1 · (σ2 − σ1).
	cond, err := m.conditioning(&r, 192, 128)
	if err != nil {
		t.Fatal(err)
	}
	shape := latentShape{b: 1, c: 4, h: 16, w: 24}
	den := cfgDenoiser(m.runUNet, cond, shape, r.CFGScale, nil)
	prev := g[stepName(0)].data
	x0, err := den(prev, sched.Sigmas[1], sched.Timesteps[1])
	if err != nil {
		t.Fatal(err)
	}
	got := g[stepName(1)].data
	var worst float64
	for j := range got {
		if mask[j%plane] == 0 {
			continue
		}
		s, sn := sched.Sigmas[1], sched.Sigmas[2]
		want := float64(prev[j]) + (float64(prev[j])-float64(x0[j]))/s*(sn-s)
		worst = math.Max(worst, math.Abs(float64(got[j])-want)/(1+math.Abs(want)))
	}
	if worst > 1e-5 {
		t.Errorf("step 1 inside the mask: max relative difference %.2g from the float64 Euler step", worst)
	}
	t.Logf("step 1 inside the mask: max relative difference %.2g from the float64 Euler step", worst)
}

func stepName(i int) string { return "latents_step_0" + string(rune('0'+i)) }

func TestInpaintRejectsBadInput(t *testing.T) {
	m, r, init := inpaintRequest(t)
	cases := []struct {
		name string
		ip   Inpaint
		want string
	}{
		{"size", Inpaint{Mask: rectMask(100, 128, 0, 0, 8, 8)}, "mask 100x128 with init_image 192x128: the sizes differ"},
		{"full", Inpaint{Mask: rectMask(192, 128, 0, 0, 192, 128)}, "whole image"},
		{"blur", Inpaint{Mask: r.Inpaint.Mask, MaskBlur: -1}, "mask_blur -1: must not be negative"},
		{"pad", Inpaint{Mask: r.Inpaint.Mask, Pad: [4]int{4, 0, 0, 0}}, "pad 4,0,0,0: left must be a multiple of 8"},
		{"no mask", Inpaint{}, "needs a mask"},
	}
	for _, c := range cases {
		rr := r
		ip := c.ip
		rr.Inpaint = &ip
		if _, err := m.Generate(rr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	rr := r
	rr.Inpaint = &Inpaint{Mask: image.NewGray(init.Rect)}
	if _, err := m.Generate(rr); !errors.Is(err, ErrEmptyMask) {
		t.Errorf("empty mask: %v, want ErrEmptyMask", err)
	}
}

func TestBinaryMaskAndCropRegion(t *testing.T) {
	// Luminance above 128 repaints; a mask with transparency uses alpha.
	img := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	img.Pix = []uint8{129, 129, 129, 255, 128, 128, 128, 255, 255, 0, 0, 255, 255, 255, 255, 255}
	if got := binaryMask(img).pix; string(got) != string([]uint8{255, 0, 0, 255}) {
		t.Errorf("luminance mask %v", got)
	}
	img.Pix[3] = 200 // one translucent pixel: alpha decides everywhere
	if got := binaryMask(img).pix; string(got) != string([]uint8{255, 255, 255, 255}) {
		t.Errorf("alpha mask %v", got)
	}
	// A 10×4 box in a 100×60 image, padding 5, processing 64×64: the box
	// grown to 20×14, then to a square around it.
	m := binaryMask(rectMask(100, 60, 40, 20, 50, 24))
	x1, y1, x2, y2, ok := cropRegion(m, 5, 64, 64)
	if !ok || x2-x1 != 20 || y2-y1 != 20 || x1 != 35 || y1 != 12 {
		t.Errorf("crop region %d,%d–%d,%d", x1, y1, x2, y2)
	}
}

// fill keeps unmasked pixels and paints a hole with the colours around it.
func TestFillMasked(t *testing.T) {
	const w, h = 48, 32
	img := rgb8{make([]uint8, 3*w*h), w, h}
	for i := 0; i < w*h; i++ {
		if i%w < w/2 {
			img.pix[3*i] = 200 // red left half
		} else {
			img.pix[3*i+2] = 180 // blue right half
		}
	}
	mask := binaryMask(rectMask(w, h, 4, 8, 12, 24)) // a hole deep in the red half
	out := fillMasked(img, mask)
	for i := 0; i < w*h; i++ {
		x, y := i%w, i/w
		inHole := x >= 4 && x < 12 && y >= 8 && y < 24
		if !inHole && string(out.pix[3*i:3*i+3]) != string(img.pix[3*i:3*i+3]) {
			t.Fatalf("unmasked pixel %d,%d changed", x, y)
		}
		if inHole && (out.pix[3*i] < 150 || out.pix[3*i+2] > 50) {
			t.Fatalf("hole pixel %d,%d = %v, want mostly the surrounding red", x, y, out.pix[3*i:3*i+3])
		}
	}
}

// runUNet predicts ε for x [2B, 4, h, w] (already divided by √(σ²+1)) at
// timestep t: one call planned on its own, for tests that check a single
// step (a generation plans once, newUNetPlan, and runs every step on it).
func (m *Model) runUNet(x []float32, s latentShape, t float64, c *Conditioning) ([]float32, error) {
	p, err := m.newUNetPlan(s, c)
	if err != nil {
		return nil, err
	}
	defer p.free()
	return p.run(x, s, t, c)
}
