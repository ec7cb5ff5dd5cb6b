package sdxl

import (
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// bindTinyUNet binds the tiny checkpoint's UNet and fails unless every
// model.diffusion_model.* tensor was used.
func bindTinyUNet(t testing.TB, b tensor.Backend) *UNet {
	t.Helper()
	u := NewUNet(tinyUNetConfig)
	bindPart(t, b, openTinyCheckpoint(t), weights.UNetPrefix, u)
	return u
}

// unetGoldenInput builds a UNet call from golden tensors under prefix.
func unetGoldenInput(t testing.TB, b tensor.Backend, prefix string) UNetInput {
	t.Helper()
	sample := golden(t, prefix+"sample")
	batch := sample.shape[0]
	ts := golden(t, prefix+"timestep").data
	steps := make([]float32, batch)
	for i := range steps {
		steps[i] = ts[min(i, len(ts)-1)] // a scalar timestep applies to the whole batch
	}
	ctx := golden(t, prefix+"encoder_hidden_states")
	pooled := golden(t, prefix+"text_embeds")
	ids := golden(t, prefix+"time_ids")
	timeIDs := make([][6]float32, batch)
	for i := range timeIDs {
		copy(timeIDs[i][:], ids.data[6*i:6*i+6])
	}
	return UNetInput{
		Sample:     nchwTensor(b, sample),
		Timesteps:  steps,
		Context:    b.FromFloat32(tensor.F32, ctx.shape, ctx.data),
		TextEmbeds: b.FromFloat32(tensor.F32, pooled.shape, pooled.data),
		TimeIDs:    timeIDs,
	}
}

func TestUNetMatchesDiffusers(t *testing.T) {
	b := newTestCPU(t)
	u := bindTinyUNet(t, b)
	for i := 0; i < 3; i++ {
		prefix := fmt.Sprintf("unet/%d/", i)
		in := unetGoldenInput(t, b, prefix)
		out := u.Forward(b, in)
		compareNCHW(t, prefix+"out", b, out, golden(t, prefix+"out"))
		b.Free(out)
		freeInputs(b, in)
	}
}

func TestUNetMatchesPipelineFirstCall(t *testing.T) {
	b := newTestCPU(t)
	u := bindTinyUNet(t, b)
	for _, c := range []string{"t2i_euler_a_6", "t2i_euler_a_28", "t2i_euler_a_6_noneg", "t2i_euler_6", "t2i_dpmpp_2m_karras_6", "i2i_euler_a_10_s0.6"} {
		prefix := "pipe/" + c + "/unet_call0/"
		in := unetGoldenInput(t, b, prefix)
		out := u.Forward(b, in)
		compareNCHW(t, prefix+"out", b, out, golden(t, prefix+"out"))
		b.Free(out)
		freeInputs(b, in)
	}
}
