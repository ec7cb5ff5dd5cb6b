package weights

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
)

// tinyPath is the unpacked tiny reference checkpoint.
func tinyPath(t testing.TB) string { return refdata.TinyCheckpoint(t) }

// expectedInspect returns the configuration the reference data says an
// inspector should infer, under key ("tiny-sdxl-a" or "sdxl-base").
func expectedInspect(t *testing.T, key string) any {
	t.Helper()
	raw, err := os.ReadFile("../testdata/reference/expected-inspect.json")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]any
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	return all[key]
}

// assertConfig compares cfg's JSON form with the reference configuration.
func assertConfig(t *testing.T, cfg Config, key string) {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if want := expectedInspect(t, key); !reflect.DeepEqual(got, want) {
		t.Errorf("config:\n got %s\nwant %v", raw, want)
	}
}

// assertComplete checks that src holds exactly the tensors the model of cfg
// declares.
func assertComplete(t *testing.T, src Source, cfg Config) {
	t.Helper()
	r := CheckTensors(src, expectedOf(t, cfg))
	if !r.OK() {
		t.Errorf("%d missing %v, %d mismatched %v, %d unused %v", len(r.Missing), head(r.Missing), len(r.Mismatched), head(r.Mismatched), len(r.Unused), head(r.Unused))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func TestOpenTinySingleFile(t *testing.T) {
	c, err := OpenCheckpoint(tinyPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Layout() != LayoutSGM {
		t.Errorf("layout %q, want sgm", c.Layout())
	}
	// README: 956 tensors, all F16 except the I64 position_ids.
	st := c.Stats()
	if st.Tensors != 956 || st.DTypes["F16"] != 955 || st.DTypes["I64"] != 1 || len(st.DTypes) != 2 {
		t.Errorf("stats %+v", st)
	}
	info, _ := os.Stat(tinyPath(t))
	if st.Bytes <= 0 || st.Bytes >= info.Size() {
		t.Errorf("data bytes %d for a %d-byte file", st.Bytes, info.Size())
	}
	cfg, err := InferConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	assertConfig(t, cfg, "tiny-sdxl-a")
	if cfg.UNet.ResBlocksPerLevel != 2 || cfg.VAE.ResBlocksPerLevel != 2 || cfg.UNet.PooledDim != 96 {
		t.Errorf("hidden config fields: %+v %+v", cfg.UNet, cfg.VAE)
	}
	assertComplete(t, c, cfg)
}

// Entry.Bytes of a stored tensor must alias the mapping, not copy it.
func TestStoredBytesAliasMapping(t *testing.T) {
	c, err := OpenCheckpoint(tinyPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e, _ := c.Lookup(UNetPrefix + "input_blocks.0.0.weight")
	b, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m := c.files[0].data
	start := uintptr(unsafePointer(b)) - uintptr(unsafePointer(m))
	if start >= uintptr(len(m)) || len(b) != e.Shape.NumElements()*2 {
		t.Errorf("bytes do not alias the mapped file (offset %d, len %d)", start, len(b))
	}
}
