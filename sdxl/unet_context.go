package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
)

// ContextKV is every transformer block's cross-attention keys and values
// for one context: to_k and to_v of the text context, 2 GEMMs per block
// (140 in SDXL's 70 blocks). A generation's context is the same at every
// denoising step, so the pipeline prepares them once per sampling pass
// (UNet.PrepareContext) and every UNet call reads them (UNetInput.ContextKV).
//
// They are computed with the weights as they are when prepared: a LoRA
// merged afterwards would not be seen. The pipeline prepares them inside
// Generate, and adapters are merged (Model.ApplyLoRAs) only between
// generations.
type ContextKV struct {
	context *tensor.Tensor // what they were projected from
	input   [][]nn.CrossKV // per input block; nil where it has no transformer
	middle  []nn.CrossKV   // the middle block's transformer
	output  [][]nn.CrossKV // per output block, as input
}

// PrepareContext projects context [B,77·k,ContextDim] for every
// cross-attention of the UNet. The result belongs to the caller, who frees
// it (Free) once the calls that read it are done. A context of the wrong
// shape panics, as Forward does: Validate a call first.
func (u *UNet) PrepareContext(b tensor.Backend, context *tensor.Tensor) *ContextKV {
	if err := u.validateContext(context, -1); err != nil {
		panic(err)
	}
	prepare := func(st *nn.SpatialTransformer) []nn.CrossKV {
		if st == nil {
			return nil
		}
		return st.PrepareContext(b, context)
	}
	kv := &ContextKV{
		context: context,
		input:   make([][]nn.CrossKV, len(u.Input)),
		middle:  prepare(&u.Middle.Attn),
		output:  make([][]nn.CrossKV, len(u.Output)),
	}
	for i := range u.Input {
		kv.input[i] = prepare(u.Input[i].Attn)
	}
	for i := range u.Output {
		kv.output[i] = prepare(u.Output[i].Attn)
	}
	return kv
}

// Free releases the keys and values; a second call does nothing.
func (kv *ContextKV) Free(b tensor.Backend) {
	if kv == nil || kv.context == nil {
		return
	}
	for _, blk := range kv.input {
		nn.FreeKV(b, blk)
	}
	nn.FreeKV(b, kv.middle)
	for _, blk := range kv.output {
		nn.FreeKV(b, blk)
	}
	*kv = ContextKV{}
}

// check rejects keys and values that a call with context cannot use.
func (kv *ContextKV) check(context *tensor.Tensor) error {
	switch {
	case kv.context == nil:
		return fmt.Errorf("sdxl: UNet context keys and values used after Free")
	case kv.context != context:
		return fmt.Errorf("sdxl: UNet context keys and values were prepared from another context than the call's")
	}
	return nil
}

// validateContext checks a context's shape: [batch,77·k,ContextDim], any
// non-empty batch when batch < 0.
func (u *UNet) validateContext(context *tensor.Tensor, batch int) error {
	c := context.Shape()
	if len(c) != 3 || (batch >= 0 && c[0] != batch) || (batch < 0 && c[0] == 0) || c[1] == 0 || c[1]%77 != 0 || c[2] != u.cfg.ContextDim {
		want := "B"
		if batch >= 0 {
			want = fmt.Sprint(batch)
		}
		return fmt.Errorf("sdxl: UNet context must be [%s,77·k,%d], got %v", want, u.cfg.ContextDim, c)
	}
	return nil
}
