package synthckpt

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// TestTheLoaderInfersTheConfigWritten writes each variant in each dtype and
// reads it back with the real loader: the inferred configuration must be
// the one written, and the tensor check must find nothing missing or extra.
func TestTheLoaderInfersTheConfigWritten(t *testing.T) {
	for _, v := range Variants() {
		for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
			path := filepath.Join(t.TempDir(), v.Name+".safetensors")
			if err := Write(path, v.Config, dt, 1); err != nil {
				t.Fatal(err)
			}
			src, err := weights.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := weights.InferConfig(src)
			if err != nil {
				t.Fatalf("%s %v: %v", v.Name, dt, err)
			}
			if !reflect.DeepEqual(got, v.Config) {
				t.Errorf("%s %v: inferred %+v, wrote %+v", v.Name, dt, got, v.Config)
			}
			want, err := sdxl.ExpectedTensors(got)
			if err != nil {
				t.Fatal(err)
			}
			if r := weights.CheckTensors(src, want); !r.OK() {
				t.Errorf("%s %v: tensor check: %v", v.Name, dt, r)
			}
			src.Close()
		}
	}
}
