package kernels

import (
	"errors"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

func TestConvNormedPlansTheNormalisingKernel(t *testing.T) {
	conv := func(cin int, e operand, from int) (convNormPlan, error) {
		return convProblem{
			y: operand{"y", tensor.Shape{2, 6, 5, 48}, tensor.F16, 256}, x: operand{"x", tensor.Shape{2, 6, 5, cin}, tensor.F16, 256},
			w: operand{"w", tensor.Shape{48, 3, 3, cin}, tensor.F16, 256}, stride: 1, pad: 1,
		}.planNormed(e, from)
	}
	for _, c := range []struct {
		cin  int
		want string
	}{{64, "conv2d_norm_"}, {12, "conv2d_norm_unaligned_"}} {
		pl, err := conv(c.cin, operand{"emb", tensor.Shape{2, 48}, tensor.F16, 256}, 0)
		if err != nil || pl.module != "conv" || !strings.HasPrefix(pl.name, c.want) || pl.embLD != 48 {
			t.Errorf("Cin %d: %s.%s, emb rows %d apart, %v; want conv.%s…, 48", c.cin, pl.module, pl.name, pl.embLD, err, c.want)
		}
	}
	// Columns [100, 148) of all the blocks' projections: rows 160 apart.
	if pl, err := conv(64, operand{"emb", tensor.Shape{2, 160}, tensor.F16, 256}, 100); err != nil || pl.embLD != 160 {
		t.Errorf("a column slice of a [2 160] bias: emb rows %d apart, %v; want 160", pl.embLD, err)
	}
	var se *shapeError
	for _, c := range []struct {
		shape tensor.Shape
		from  int
	}{{tensor.Shape{2, 47}, 0}, {tensor.Shape{2, 160}, 113}, {tensor.Shape{2, 160}, -1}, {tensor.Shape{3, 48}, 0}, {tensor.Shape{2, 1, 48}, 0}} {
		if _, err := conv(64, operand{"emb", c.shape, tensor.F16, 256}, c.from); !errors.As(err, &se) {
			t.Errorf("a per-image bias from column %d of %v for 48 outputs of 2 images: %v, want a shape error", c.from, c.shape, err)
		}
	}
	if _, err := conv(64, operand{"emb", tensor.Shape{2, 48}, tensor.F32, 256}, 0); err == nil || errors.As(err, &se) {
		t.Errorf("a float32 per-image bias: %v, want the fast kernel to decline", err)
	}
}

func TestGemmNormedKeepsGemmsTileAndSplit(t *testing.T) {
	for _, splits := range []int{1, 3} {
		p := gemmProblem{
			y: operand{"y", tensor.Shape{130, 72}, tensor.BF16, 256}, x: operand{"x", tensor.Shape{130, 200}, tensor.BF16, 256},
			w: operand{"w", tensor.Shape{72, 200}, tensor.BF16, 256}, tiles: fixedTiles(blockTiles[1], splits),
		}
		plain, err1 := p.plan()
		normed, err2 := p.planNormed()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if normed.module != "gemm_norm" || normed.name != strings.Replace(plain.name, "gemm_", "gemm_norm_", 1) ||
			normed.grid != plain.grid || normed.choice != plain.choice || normed.partialBytes != plain.partialBytes {
			t.Errorf("splits %d: gemm_norm plan %+v, gemm plan %+v", splits, normed.tileLaunch, plain.tileLaunch)
		}
	}
}

func TestNormTableLayout(t *testing.T) {
	b := cpu.New()
	gamma, beta := b.Alloc(tensor.F32, 320), b.Alloc(tensor.F32, 320)
	n := tensor.ChannelNorm{Gamma: gamma, Beta: beta, Groups: 32}
	tab, err := planNormTable(operand{"x", tensor.Shape{2, 64, 64, 320}, tensor.F16, 256}, n)
	if err != nil {
		t.Fatal(err)
	}
	p := planGroupNorm(64*64, 32, 10)
	if tab.positions != 4096 || tab.tableBytes != 2*320*8 || tab.bytes != tab.tableBytes+groupNormWorkspace(64, p.chunks) {
		t.Errorf("table %+v for [2 64 64 320] in 32 groups", tab)
	}
	n.Groups = 48 // does not divide 320
	if _, err := planNormTable(operand{"x", tensor.Shape{2, 8, 8, 320}, tensor.F16, 256}, n); err == nil {
		t.Error("48 groups of 320 channels: no error")
	}
}
