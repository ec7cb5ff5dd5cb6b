package sdxl

import "github.com/gosdxl/gosdxl/internal/dump"

// generateDumped runs r with its intermediate tensors written to dir, as
// gen --dump does, for the tests that compare them with diffusers'.
func generateDumped(m *Model, r Request, dir string) (*Result, error) {
	d := dump.NewDir(dir)
	r.Observe = d.Observe
	res, err := m.Generate(r)
	if err != nil {
		return nil, err
	}
	return res, d.Write()
}
