package sdxl

import "testing"

// BenchmarkTxt2ImgTiny is a whole 6-step 192×128 Euler a txt2img of the tiny
// model on the CPU backend (the t2i_euler_a_6 case): text encoders, 6
// batched CFG UNet calls, VAE decode, 8-bit conversion; the model is
// loaded once, outside the timing. PyTorch 1.13 (fp32, 2 threads) takes
// 0.56 s for the same diffusers pipeline call.
func BenchmarkTxt2ImgTiny(b *testing.B) {
	m, cases, _ := pipeFixture(b)
	r := cases[0].request(b)
	if cases[0].Name != "t2i_euler_a_6" {
		b.Fatalf("first case is %s, want t2i_euler_a_6", cases[0].Name)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := m.Generate(r); err != nil {
			b.Fatal(err)
		}
	}
}
