package server

import (
	"testing"

	"github.com/gosdxl/gosdxl/sdxl"
)

// Every field the pipeline's rules may name has an A1111 name, but for
// those a job never sets (A1111's API has no outpainting pad or VAE
// tiling).
func TestRequestFieldsHaveA1111Names(t *testing.T) {
	unset := map[string]bool{"pad": true, "vae_tiling": true, "vae_tile_size": true}
	for _, f := range sdxl.RequestFields {
		if _, ok := a1111Fields[f]; !ok && !unset[f] {
			t.Errorf("sdxl field %q has no A1111 name", f)
		}
	}
}
