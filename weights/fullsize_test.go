package weights

import (
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/weights/internal/sparse"
)

// writeSparseManifest writes the full-size checkpoint a reference manifest
// describes as sparse files (a few hundred KB on disk) under a temp folder.
func writeSparseManifest(t testing.TB, manifest string) (string, sparse.Manifest) {
	t.Helper()
	m, err := sparse.ReadManifest(filepath.Join("../testdata/reference", manifest))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.WriteAll(dir); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestFullSizeSingleFile(t *testing.T) {
	dir, m := writeSparseManifest(t, "manifest-sdxl-sgm.json")
	c, err := OpenCheckpoint(filepath.Join(dir, m.Files[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.Stats(); st.Tensors != 2514 || st.DTypes["F16"] != 2513 || st.Bytes != 6937676350 {
		t.Errorf("stats %+v, want 2514 tensors (2513 F16), 6937676350 bytes (reference README)", st)
	}
	cfg, err := InferConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	assertConfig(t, cfg, "sdxl-base")
	assertComplete(t, c, cfg)
}

func TestFullSizeDiffusersFolder(t *testing.T) {
	dir, _ := writeSparseManifest(t, "manifest-sdxl-diffusers.json")
	c, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Layout() != LayoutDiffusers {
		t.Errorf("layout %q", c.Layout())
	}
	if st := c.Stats(); st.Tensors != 2641 || st.DTypes["F16"] != 2641 {
		t.Errorf("stats %+v, want 2641 F16 tensors (reference README)", st)
	}
	cfg, err := InferConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	assertConfig(t, cfg, "sdxl-base")
	assertComplete(t, c, cfg)
}

// The diffusers manifest renamed through the table must give exactly the
// single-file manifest's names and shapes (the file's position_ids aside).
func TestDiffusersManifestMapsToSGMManifest(t *testing.T) {
	dir, _ := writeSparseManifest(t, "manifest-sdxl-diffusers.json")
	c, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sgm, err := sparse.ReadManifest("../testdata/reference/manifest-sdxl-sgm.json")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, tn := range sgm.Files[0].Tensors {
		if tn.Name == TextEncoder1Prefix+"embeddings.position_ids" {
			continue
		}
		want[tn.Name] = true
		e, ok := c.Lookup(tn.Name)
		if !ok {
			t.Errorf("%s: not produced from the diffusers folder", tn.Name)
			continue
		}
		if !e.Shape.Equal(tn.Shape) || e.DType.String() != tn.DType {
			t.Errorf("%s: %s%v from the diffusers folder, %s%v in the single file", tn.Name, e.DType, e.Shape, tn.DType, tn.Shape)
		}
	}
	for _, n := range c.Names() {
		if !want[n] {
			t.Errorf("%s: produced from the diffusers folder, absent from the single file", n)
		}
	}
}

// BenchmarkInspectFullSize opens the sparse full-size single file, infers
// its configuration and checks its tensors: everything `gen inspect` does.
// Peak RSS of the real command is measured with mksparse and
// /usr/bin/time -v (see weights/internal/sparse/mksparse).
func BenchmarkInspectFullSize(b *testing.B) {
	dir, m := writeSparseManifest(b, "manifest-sdxl-sgm.json")
	path := filepath.Join(dir, m.Files[0].Name)
	b.ReportAllocs()
	for b.Loop() {
		c, err := OpenCheckpoint(path)
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := InferConfig(c)
		if err != nil {
			b.Fatal(err)
		}
		if r := CheckTensors(c, expectedOf(b, cfg)); !r.OK() {
			b.Fatalf("%+v", r)
		}
		c.Close()
	}
}
