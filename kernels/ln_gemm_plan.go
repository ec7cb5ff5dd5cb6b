package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Argument checks and grids of the GEMMs with a LayerNorm in their A
// loader (cuda/ln_gemm.cu): gemm.cu's plain, q/k/v and GEGLU GEMMs with
// the same tiles, split-K and unaligned variants, planned by their own
// planners, plus the norm's gamma and beta. Free of the cuda build tag.

// rowNormOperands are a LayerNorm's gamma and beta, each [K].
type rowNormOperands struct{ gamma, beta operand }

// check tests the norm against x [..., K] of type dt: shapes (a mismatch is
// the caller's bug), one storage type (else the composite runs) and a row
// to normalise.
func (n rowNormOperands) check(dt tensor.DType, K int) error {
	want := tensor.Shape{K}
	if !n.gamma.present() || !n.beta.present() || !n.gamma.shape.Equal(want) || !n.beta.shape.Equal(want) {
		return &shapeError{fmt.Errorf("row norm: gamma %v, beta %v for rows of %d", n.gamma.shape, n.beta.shape, K)}
	}
	if err := sameDType(dt, n.gamma, n.beta); err != nil {
		return fmt.Errorf("row norm: %w", err)
	}
	if K < 1 {
		return fmt.Errorf("row norm: empty rows")
	}
	return nil
}

// normed is the ln_gemm.cu kernel of the same tile, split and variant.
func (l tileLaunch) normed() tileLaunch {
	if l.name != "" {
		l.module, l.name = "ln_gemm", "ln_"+l.name
	}
	return l
}

// normGemmProblem is gemmProblem on LN(x).
type normGemmProblem struct {
	gemmProblem
	norm rowNormOperands
}

// normGemmPlan launches ln_gemm (split-K finished in the same launch).
type normGemmPlan struct{ gemmPlan }

func (p normGemmProblem) plan() (normGemmPlan, error) {
	pl, err := p.gemmProblem.plan()
	if err == nil {
		err = p.norm.check(p.x.dtype, p.x.shape.Last())
	}
	if err != nil {
		return normGemmPlan{}, err
	}
	pl.tileLaunch = pl.tileLaunch.normed()
	return normGemmPlan{pl}, nil
}

// normQkvProblem is qkvProblem on LN(x).
type normQkvProblem struct {
	qkvProblem
	norm rowNormOperands
}

// normQkvPlan launches ln_gemm_qkv.
type normQkvPlan struct{ qkvPlan }

func (p normQkvProblem) plan() (normQkvPlan, error) {
	pl, err := p.qkvProblem.plan()
	if err == nil {
		err = p.norm.check(p.x.dtype, p.x.shape.Last())
	}
	if err != nil {
		return normQkvPlan{}, err
	}
	pl.tileLaunch = pl.tileLaunch.normed()
	return normQkvPlan{pl}, nil
}

// normGegluProblem is gegluProblem on LN(x).
type normGegluProblem struct {
	gegluProblem
	norm rowNormOperands
}

// normGegluPlan launches ln_gemm_geglu.
type normGegluPlan struct{ gegluPlan }

func (p normGegluProblem) plan() (normGegluPlan, error) {
	pl, err := p.gegluProblem.plan()
	if err == nil {
		err = p.norm.check(p.x.dtype, p.x.shape.Last())
	}
	if err != nil {
		return normGegluPlan{}, err
	}
	pl.tileLaunch = pl.tileLaunch.normed()
	return normGegluPlan{pl}, nil
}
