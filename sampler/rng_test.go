package sampler

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestFMA32RoundsOnce(t *testing.T) {
	// a·b = 1 + 2^-11 + 2^-24 is exactly halfway between two float32
	// values. A tiny c decides the direction; plain float64 arithmetic
	// loses c (below half a float64 ulp) and then rounds the tie to even.
	a := float32(1 + 1.0/(1<<12))
	tie := 1 + math.Ldexp(1, -11) + math.Ldexp(1, -24)
	down, up := float32(1+math.Ldexp(1, -11)), float32(1+math.Ldexp(1, -11)+math.Ldexp(1, -23))
	tiny := float32(math.Ldexp(1, -60))
	if float64(a)*float64(a) != tie {
		t.Fatal("test construction: product is not the tie")
	}
	cases := []struct {
		c    float32
		want float32
	}{{0, down}, {tiny, up}, {-tiny, down}}
	for _, tc := range cases {
		if got := fma32(a, a, tc.c); got != tc.want {
			t.Errorf("fma32(a, a, %g) = %v, want %v", tc.c, got, tc.want)
		}
	}
	if naive := float32(float64(a)*float64(a) + float64(tiny)); naive != down {
		t.Fatalf("test construction: plain float64 did not double-round (%v)", naive)
	}
}

// rngGoldenName parses rng/<variant>/<kind>/seed<s>/<shape or k_op_shape>.
type rngGoldenName struct {
	variant Variant
	kind    string // randn, rand, sequence
	seed    uint64
	step    int    // sequence only
	op      string // randn or rand
}

func parseRNGGoldenName(t *testing.T, name string) rngGoldenName {
	t.Helper()
	parts := strings.Split(name, "/")
	if len(parts) != 5 || parts[0] != "rng" || !strings.HasPrefix(parts[3], "seed") {
		t.Fatalf("unexpected golden name %q", name)
	}
	var g rngGoldenName
	switch parts[1] {
	case "avx2":
		g.variant = AVX2
	case "scalar":
		g.variant = Scalar
	default:
		t.Fatalf("unknown variant in %q", name)
	}
	g.kind = parts[2]
	seed, err := strconv.ParseUint(parts[3][len("seed"):], 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	g.seed = seed
	g.op = g.kind
	if g.kind == "sequence" {
		f := strings.Split(parts[4], "_")
		g.step, err = strconv.Atoi(f[0])
		if err != nil || len(f) != 3 {
			t.Fatalf("bad sequence entry %q", name)
		}
		g.op = f[1]
	}
	return g
}

func draw(g *TorchCPU, op string, n int) []float32 {
	if op == "rand" {
		return g.Rand(n)
	}
	return g.Randn(n)
}

func TestTorchCPUMatchesRNGGoldens(t *testing.T) {
	gf := loadGolden(t, rngGoldensPath)
	names := make([]string, 0, len(gf.tensors))
	for name := range gf.tensors {
		names = append(names, name)
	}
	sort.Strings(names)

	type seqKey struct {
		variant Variant
		seed    uint64
	}
	sequences := map[seqKey][]string{}
	checked := 0
	for _, name := range names {
		g := parseRNGGoldenName(t, name)
		want := gf.tensors[name]
		if g.kind == "sequence" {
			k := seqKey{g.variant, g.seed}
			sequences[k] = append(sequences[k], name)
			continue
		}
		got := draw(NewTorchCPU(g.seed, g.variant), g.op, len(want))
		if i := firstBitDifference(got, want); i >= 0 {
			t.Errorf("%s: element %d = %v (%08x), want %v (%08x)", name, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
		checked++
	}
	for k, seq := range sequences {
		sort.Slice(seq, func(a, b int) bool {
			return parseRNGGoldenName(t, seq[a]).step < parseRNGGoldenName(t, seq[b]).step
		})
		gen := NewTorchCPU(k.seed, k.variant)
		for _, name := range seq {
			want := gf.tensors[name]
			got := draw(gen, parseRNGGoldenName(t, name).op, len(want))
			if i := firstBitDifference(got, want); i >= 0 {
				t.Errorf("%s: element %d = %v, want %v", name, i, got[i], want[i])
			}
			checked++
		}
	}
	if checked != len(names) || checked < 90 {
		t.Fatalf("checked %d of %d golden entries", checked, len(names))
	}
}

func TestTorchCPUVariantsDiffer(t *testing.T) {
	// The goldens show ~38% of normal_fill values differ between kernels;
	// make sure the two code paths are really distinct here too.
	a := NewTorchCPU(0, AVX2).Randn(1536)
	b := NewTorchCPU(0, Scalar).Randn(1536)
	if firstBitDifference(a, b) < 0 {
		t.Fatal("AVX2 and Scalar variants produced identical values")
	}
}

// Every random tensor the reference pipelines drew (initial latents, the
// VAE posterior sample, img2img noise, ancestral noise) comes from one
// generator seeded per case, in order.
func TestTorchCPUMatchesPipelineDraws(t *testing.T) {
	gf := loadGolden(t, tinyGoldensPath)
	checked := 0
	for _, p := range loadCases(t).Pipelines {
		gen := NewTorchCPU(p.Seed, AVX2)
		for _, d := range p.RandomDraws {
			want := gf.get(t, d.Name)
			got := gen.Randn(numel(d.Shape))
			if i := firstBitDifference(got, want); i >= 0 {
				t.Errorf("%s (%s): element %d = %v, want %v", d.Name, d.Caller, i, got[i], want[i])
			}
			checked++
		}
	}
	if checked != 53 {
		t.Fatalf("checked %d pipeline draws, the reference README lists 53", checked)
	}
}

func TestPerImageTorchCPUUsesSeedPlusIndex(t *testing.T) {
	const per = 1536
	p, err := NewPerImageTorchCPU(42, 3, AVX2)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Randn(3 * per)
	for i := 0; i < 3; i++ {
		want := NewTorchCPU(42+uint64(i), AVX2).Randn(per)
		if j := firstBitDifference(got[i*per:(i+1)*per], want); j >= 0 {
			t.Fatalf("image %d element %d differs from a lone generator seeded %d", i, j, 42+i)
		}
	}
	// The diffusers convention draws one tensor from one generator (checked
	// against torch); its second image is not the seed+1 image.
	gf := loadGolden(t, rngGoldensPath)
	const latent = 4 * 128 * 96
	batched := NewTorchCPU(42, AVX2).Randn(2 * latent)
	if i := firstBitDifference(batched, gf.get(t, "rng/avx2/randn/seed42/2x4x128x96")); i >= 0 {
		t.Fatalf("batched draw differs from torch at %d", i)
	}
	if firstBitDifference(batched[latent:], NewTorchCPU(43, AVX2).Randn(latent)) < 0 {
		t.Fatal("batched second image equals the seed+1 image")
	}
	if _, err := NewPerImageTorchCPU(1, 0, AVX2); err == nil {
		t.Fatal("batch 0 accepted")
	}
}
