package tensor

// ChainLayer is one Linear of LinearChain:
//
//	Out = Act(in·Wᵀ + Bias + Residual)
//
// with in the chain's input for the first layer and the previous layer's
// Out after it. Bias [N] and Residual (Out's shape) may be nil; Act may be
// NoActivation. Unlike FusedLinear's epilogue, the residual is added before
// the activation: SDXL's time embedding takes SiLU of the sum.
type ChainLayer struct {
	W, Bias, Residual, Out *Tensor
	Act                    UnaryOp
}

// FusedLinearChain is implemented by backends that can run a few Linears
// in a row on a few rows in one launch: the UNet's time embedding (two
// Linears, then every ResBlock's projection) on a batch of 2–8 rows, where
// each Linear alone would leave a GEMM's tiles nearly empty.
type FusedLinearChain interface {
	// LinearChain computes every layer's Out from x [rows, K] in order, the
	// composite of LinearChain's layer-by-layer fallback, and reports
	// whether it ran (false: nothing was queued).
	LinearChain(x *Tensor, layers []ChainLayer) bool
}

// LinearChain runs layers on x through b: in one call where b implements
// FusedLinearChain and takes the case, else layer by layer, each with the
// fused Linear b offers for it (FusedLinear without a residual,
// FusedLinearAddAct with one) or as Linear, the residual's Binary Add and
// Unary.
func LinearChain(b Backend, x *Tensor, layers []ChainLayer) {
	if f, ok := b.(FusedLinearChain); ok && f.LinearChain(x, layers) {
		return
	}
	in := x
	for _, l := range layers {
		chainLayer(b, in, l)
		in = l.Out
	}
}

// chainLayer computes one layer from its input in.
func chainLayer(b Backend, in *Tensor, l ChainLayer) {
	if f, ok := b.(FusedLinear); ok && l.Residual == nil && f.LinearFused(l.Out, in, l.W, l.Bias, nil, l.Act) {
		return
	}
	if f, ok := b.(FusedLinearAddAct); ok && l.Residual != nil && f.LinearAddAct(l.Out, in, l.W, l.Bias, l.Residual, l.Act) {
		return
	}
	b.Linear(l.Out, in, l.W, l.Bias)
	if l.Residual != nil {
		b.Binary(l.Out, l.Out, l.Residual, Add)
	}
	if l.Act != NoActivation {
		b.Unary(l.Out, l.Out, l.Act)
	}
}
