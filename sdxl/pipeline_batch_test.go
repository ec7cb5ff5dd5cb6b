package sdxl

import (
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/prompt"
)

// In gosdxl mode image i of a batch has its own generator seeded seed+i, so
// it must come out as a batch of one with that seed: this checks the
// per-image noise, the [negative…, positive…] batch layout of the UNet call
// and the per-image split of the results. A wrong seed or a mixed-up batch
// half moves the latents by O(1) relative L2.
func TestPipelineBatchImageReproducesAlone(t *testing.T) {
	m, cases, _ := pipeFixture(t)
	requireNoLeaks(t, m.Backend())
	r := cases[0].request(t)
	r.Compat, r.Syntax, r.Steps = CompatGosdxl, prompt.SyntaxA1111, 2
	batchDir, aloneDir := t.TempDir(), t.TempDir()

	batch := r
	batch.Batch = 2
	res, err := generateDumped(m, batch, batchDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 2 || res.Seeds[0] != r.Seed || res.Seeds[1] != r.Seed+1 {
		t.Fatalf("%d images with seeds %v, want 2 with %d, %d", len(res.Images), res.Seeds, r.Seed, r.Seed+1)
	}
	alone := r
	alone.Seed = r.Seed + 1
	if _, err := generateDumped(m, alone, aloneDir); err != nil {
		t.Fatal(err)
	}

	got := goldenIn(t, readGoldens(t, filepath.Join(batchDir, "sampling.safetensors")), "latents_final")
	want := goldenIn(t, readGoldens(t, filepath.Join(aloneDir, "sampling.safetensors")), "latents_final")
	n := len(want.data)
	if len(got.data) != 2*n {
		t.Fatalf("batch latents have %d values, want %d", len(got.data), 2*n)
	}
	checkRel(t, "image 1 of the batch vs seed+1 alone", relL2(got.data[n:], want.data), pipeLatentTol)
	if e := relL2(got.data[:n], want.data); e < 0.1 {
		t.Errorf("images 0 and 1 of the batch are nearly equal (relative L2 %.3g): same noise?", e)
	}
}
