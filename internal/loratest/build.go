package loratest

import (
	"math"
	"math/rand"
)

// Target names the weight a module adapts and how it is stored in the file.
type Target struct {
	Canonical     string
	Key           string
	Block, Blocks int // 0, 0 means the whole weight
	Text          bool
}

// Builder makes random modules sized for one checkpoint's weights, with
// factor magnitudes chosen so that ΔW is about a third of the weight's RMS
// (large enough to move a generation far beyond any tolerance).
type Builder struct {
	Ckpt *File
	R    *rand.Rand
	DT   string // factor dtype: "F32", "F16" or "BF16"
}

// weight returns the target's rows (its row block), the other axes, and
// the weight's RMS.
func (b *Builder) weight(t *Target) (rows int, rest []int, rms float64) {
	w := b.Ckpt.Tensors[t.Canonical]
	if w == nil {
		panic("loratest: no " + t.Canonical)
	}
	if t.Blocks == 0 {
		t.Blocks = 1
	}
	var s float64
	for _, x := range w.V {
		s += x * x
	}
	return w.Shape[0] / t.Blocks, w.Shape[1:], math.Sqrt(s / float64(len(w.V)))
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (b *Builder) module(t Target, kind string) *Module {
	if t.Blocks == 0 {
		t.Blocks = 1
	}
	return &Module{Canonical: t.Canonical, Block: t.Block, Blocks: t.Blocks, Key: t.Key, Kind: kind, Text: t.Text, Factors: map[string]*Tensor{}}
}

// LoRA builds a kohya LoRA module (a LoCon one for a conv weight: down
// [r, in, kh, kw], up [out, r, 1, 1]); peft stores lora_A/lora_B instead.
func (b *Builder) LoRA(t Target, rank int, alpha float64, peft bool) *Module {
	rows, rest, rms := b.weight(&t)
	kind, down, up := "lora", "lora_down.weight", "lora_up.weight"
	if peft {
		kind, down, up = "lora-peft", "lora_A.weight", "lora_B.weight"
	}
	m := b.module(t, kind)
	scale := 1.0
	if alpha > 0 {
		m.Alpha, m.HasAlpha, scale = alpha, true, alpha/float64(rank)
	}
	amp := math.Sqrt(rms / 3 * 3 / math.Sqrt(float64(rank)) / scale)
	upShape := []int{rows, rank}
	if len(rest) == 3 {
		upShape = []int{rows, rank, 1, 1}
	}
	m.Factors[down] = Random(b.R, b.DT, amp, append([]int{rank}, rest...)...)
	m.Factors[up] = Random(b.R, b.DT, amp, upShape...)
	return m
}

// LoHa builds a LyCORIS LoHa module; for a conv weight hada_w1_b and
// hada_w2_b are [r, in·kh·kw] as LyCORIS stores them.
func (b *Builder) LoHa(t Target, rank int, alpha float64) *Module {
	rows, rest, rms := b.weight(&t)
	m := b.module(t, "loha")
	m.Alpha, m.HasAlpha = alpha, true
	cols := prod(rest)
	// ΔW = (a·b)⊙(c·d)·alpha/r: each product has RMS ≈ amp²·√r/3.
	amp := math.Pow(rms/3*9/float64(rank)/(alpha/float64(rank)), 0.25)
	m.Factors["hada_w1_a"] = Random(b.R, b.DT, amp, rows, rank)
	m.Factors["hada_w1_b"] = Random(b.R, b.DT, amp, rank, cols)
	m.Factors["hada_w2_a"] = Random(b.R, b.DT, amp, rows, rank)
	m.Factors["hada_w2_b"] = Random(b.R, b.DT, amp, rank, cols)
	return m
}

// LoKr builds a LyCORIS LoKr module ΔW = w1 ⊗ w2 with w1 [p, q]. full1 and
// full2 say whether each factor is stored whole or as a rank-r product; a
// conv's w2 is stored whole as [out/p, in/q, kh, kw].
func (b *Builder) LoKr(t Target, p, q, rank int, full1, full2 bool, alpha float64) *Module {
	rows, rest, rms := b.weight(&t)
	m := b.module(t, "lokr")
	if alpha > 0 {
		m.Alpha, m.HasAlpha = alpha, true
	}
	amp := math.Sqrt(rms) * 1.2
	if full1 {
		m.Factors["lokr_w1"] = Random(b.R, b.DT, amp, p, q)
	} else {
		a := math.Sqrt(amp * 1.7 / math.Sqrt(float64(rank)))
		m.Factors["lokr_w1_a"] = Random(b.R, b.DT, a, p, rank)
		m.Factors["lokr_w1_b"] = Random(b.R, b.DT, a, rank, q)
	}
	w2 := append([]int{rows / p, rest[0] / q}, rest[1:]...)
	if full2 {
		m.Factors["lokr_w2"] = Random(b.R, b.DT, amp, w2...)
	} else {
		a := math.Sqrt(amp * 1.7 / math.Sqrt(float64(rank)))
		m.Factors["lokr_w2_a"] = Random(b.R, b.DT, a, w2[0], rank)
		m.Factors["lokr_w2_b"] = Random(b.R, b.DT, a, rank, prod(w2[1:]))
	}
	return m
}
