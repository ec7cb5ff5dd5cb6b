package sdxl

import (
	"image"
	"math"
	"testing"
)

// previewPixel is one preview pixel by A1111's definition of its cheap
// approximation, in float64: RGB = latents·factors, then 255·clamp((v+1)/2)
// truncated to 8 bits.
func previewPixel(ch [4]float64) [3]uint8 {
	var px [3]uint8
	for k := range 3 {
		v := 0.0
		for c := range 4 {
			v += ch[c] * float64(previewFactors[c][k])
		}
		px[k] = uint8(255 * math.Min(1, math.Max(0, v*0.5+0.5)))
	}
	return px
}

// TestLatentPreviewMapsChannelsPerPixel: every pixel of the first image
// gets its own four channels (NCHW planes), values past the range clamp,
// and the second image of the batch is not shown.
func TestLatentPreviewMapsChannelsPerPixel(t *testing.T) {
	const b, h, w = 2, 3, 5
	lat := make([]float32, b*4*h*w)
	for i := range lat {
		lat[i] = float32(math.Sin(float64(i)*1.7)) * 3 // includes values that clamp
	}
	for i := 4 * h * w; i < len(lat); i++ {
		lat[i] = 1e6 // image 1: would saturate everything if it leaked
	}
	img := LatentPreview(lat, h, w)
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("preview bounds %v, want %dx%d", img.Bounds(), w, h)
	}
	clamped := 0
	for y := range h {
		for x := range w {
			var ch [4]float64
			for c := range 4 {
				ch[c] = float64(lat[c*h*w+y*w+x])
			}
			want := previewPixel(ch)
			got := img.RGBAAt(x, y)
			if [3]uint8{got.R, got.G, got.B} != want || got.A != 255 {
				t.Errorf("pixel (%d,%d): %v, want RGB %v opaque", x, y, got, want)
			}
			for _, v := range want {
				if v == 0 || v == 255 {
					clamped++
				}
			}
		}
	}
	if clamped == 0 {
		t.Error("no channel clamped: the case does not test the clamp")
	}
}

// TestPreviewsFollowTheRun: with PreviewEvery 2 over 4 steps, OnPreview runs
// after steps 2 and 4, before OnStep, at the latent resolution; the last
// preview is the final latents' (Euler ends on its last prediction).
func TestPreviewsFollowTheRun(t *testing.T) {
	m, _, _ := pipeFixture(t)
	var events []string
	var last *image.RGBA
	var final []float32
	res, err := m.Generate(Request{
		Prompt: "a cat", Width: 64, Height: 48, Steps: 4, CFGScale: 5, Sampler: "euler", Batch: 1,
		PreviewEvery: 2,
		OnPreview: func(step, total int, p *image.RGBA) {
			events = append(events, "preview", string(rune('0'+step)), string(rune('0'+total)))
			last = p
		},
		OnStep: func(step, total int) { events = append(events, "step", string(rune('0'+step))) },
		Observe: func(stage, name string, shape []int, data []float32) {
			if name == "latents_step_03" {
				final = append([]float32(nil), data...)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"step", "1", "preview", "2", "4", "step", "2", "step", "3", "preview", "4", "4", "step", "4"}
	if len(events) != len(want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("events %v, want %v", events, want)
		}
	}
	if len(res.Images) != 1 || last.Bounds() != image.Rect(0, 0, 8, 6) {
		t.Fatalf("preview bounds %v, want the 8×6 latent", last.Bounds())
	}
	if final == nil {
		t.Fatal("the final latents were not observed")
	}
	if got, want := last, LatentPreview(final, 6, 8); string(got.Pix) != string(want.Pix) {
		t.Errorf("the last preview is not the final latents' preview")
	}
}
