package sampler

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// The samplers are checked against an independent float64 transcription
// of diffusers' scheduler step functions (written from diffusers 0.31's
// sources, in diffusers' own parameterisation: variance-preserving latents
// for DPM-Solver and DDIM), driven by a synthetic deterministic
// ε-prediction model in place of the UNet.

const testLatentSize = 96

// syntheticEps is a smooth, nonlinear stand-in for the UNet's ε output.
func syntheticEps(in []float64, t float64) []float64 {
	out := make([]float64, len(in))
	for j, v := range in {
		out[j] = 0.8*math.Tanh(v) + 0.15*math.Sin(0.37*float64(j)+t/180) + 0.05*v*t/1000
	}
	return out
}

// denoiserFor wraps syntheticEps as the pipeline does: ε = model(x/√(σ²+1), t), x0 = x − σ·ε.
func denoiserFor(calls *int) Denoiser {
	return func(x []float32, sigma, t float64) ([]float32, error) {
		*calls++
		in := make([]float64, len(x))
		for j, v := range x {
			in[j] = float64(v) / math.Sqrt(sigma*sigma+1)
		}
		eps := syntheticEps(in, t)
		out := make([]float32, len(x))
		for j, v := range x {
			out[j] = float32(float64(v) - sigma*eps[j])
		}
		return out, nil
	}
}

// noiseStream returns a deterministic unit-noise source and a counter.
func noiseStream(seed uint64) (Noise, *int) {
	g := NewTorchCPU(seed, AVX2)
	n := 0
	return func(k int) []float32 { n++; return g.Randn(k) }, &n
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// relL2 is ||a − b|| / ||b||.
func relL2(a []float32, b []float64) float64 {
	var num, den float64
	for i := range b {
		d := float64(a[i]) - b[i]
		num += d * d
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

func TestSamplersMatchDiffusersTranscription(t *testing.T) {
	cases := []struct {
		sampler, schedule string
		steps             int
		ref               referenceRun
		draws             int // noise draws after the initial latents
	}{
		{"euler", "", 6, refEuler, 0},
		{"euler", "karras", 10, refEuler, 0},
		{"euler_a", "", 6, refEulerAncestral, 6},
		{"euler_a", "", 28, refEulerAncestral, 28},
		{"dpmpp_2m", "", 10, refDPMSolver(false), 0},
		{"dpmpp_2m", "karras", 6, refDPMSolver(false), 0},
		{"dpmpp_2m", "karras", 28, refDPMSolver(false), 0},
		{"dpmpp_2m_sde", "karras", 6, refDPMSolver(true), 6},
		{"dpmpp_2m_sde", "karras", 10, refDPMSolver(true), 10},
		{"ddim", "", 10, refDDIM, 0},
		{"ddim", "trailing", 6, refDDIM, 0},
		{"heun", "", 6, refHeun, 0},
		{"lms", "", 10, refLMS, 0},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s/%s/%d", tc.sampler, tc.schedule, tc.steps)
		info, err := Lookup(tc.sampler)
		if err != nil {
			t.Fatal(err)
		}
		sched, err := info.Schedule(tc.schedule, tc.steps)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Ours: k-diffusion latents from the same unit noise.
		noise, draws := noiseStream(7)
		unit := noise(testLatentSize)
		var got [][]float32
		calls := 0
		final, err := info.Sample(sched, sched.StartLatents(unit), denoiserFor(&calls), Options{
			Noise: noise,
			OnStep: func(i int, lat []float32) error {
				got = append(got, lat)
				return nil
			},
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Reference: diffusers' latents = unit noise · init_noise_sigma.
		refNoise, refDraws := noiseStream(7)
		start := scaled(to64(refNoise(testLatentSize)), sched.InitNoiseSigma)
		want := tc.ref(sched, start, refNoise)

		if *draws-1 != tc.draws || *refDraws-1 != tc.draws {
			t.Errorf("%s: %d noise draws (reference %d), want %d", name, *draws-1, *refDraws-1, tc.draws)
		}
		if len(got) != len(want) || len(want) != tc.steps {
			t.Fatalf("%s: %d steps reported, reference %d, want %d", name, len(got), len(want), tc.steps)
		}
		worst := 0.0
		for i := range want {
			worst = math.Max(worst, relL2(got[i], want[i]))
		}
		if e := relL2(final, want[len(want)-1]); e > worst {
			worst = e
		}
		// float32 latents against a float64 reference: the measured spread
		// is ~1e-7; the smallest schedule mistake in the reference README
		// (steps_offset 0) moves final latents by 9.4e-3.
		if worst > 1e-5 {
			t.Errorf("%s: worst relative L2 over steps %.3g", name, worst)
		}
		t.Logf("%s: %d model calls, worst rel L2 %.2g", name, calls, worst)
	}
}

func TestImg2ImgMatchesDiffusersCase(t *testing.T) {
	// i2i_euler_a_10_s0.6: 10 steps at strength 0.6 run t = 501 … 1.
	var p *goldenPipeline
	for i := range loadCases(t).Pipelines {
		if cs := &loadCases(t).Pipelines[i]; cs.Kind == "i2i" {
			p = cs
		}
	}
	if p == nil {
		t.Fatal("no img2img case in the cases JSON")
	}
	info, _ := Lookup(p.Sched)
	full, err := info.Schedule("", p.Steps)
	if err != nil {
		t.Fatal(err)
	}
	cut, err := full.Img2Img(p.Strength)
	if err != nil {
		t.Fatal(err)
	}
	if len(cut.Timesteps) != len(p.StepTimesteps) {
		t.Fatalf("%d steps, want %d", len(cut.Timesteps), len(p.StepTimesteps))
	}
	for i, ts := range p.StepTimesteps {
		if cut.Timesteps[i] != ts {
			t.Fatalf("timestep %d = %v, want %v", i, cut.Timesteps[i], ts)
		}
	}
	x, err := cut.Img2ImgStart([]float32{1, 2}, []float32{1, -1})
	if err != nil {
		t.Fatal(err)
	}
	s0 := float32(cut.Sigmas[0])
	if x[0] != 1+s0 || x[1] != 2-s0 {
		t.Fatalf("start %v, want latents + noise·σ₀ (σ₀ = %v)", x, s0)
	}
	for _, bad := range []float64{0, -0.5, 1.5, math.NaN()} {
		if _, err := full.Img2Img(bad); err == nil {
			t.Errorf("strength %v accepted", bad)
		}
	}
	if _, err := full.Img2Img(0.05); err == nil {
		t.Error("strength leaving no step accepted")
	}
}

func TestLookupAndNames(t *testing.T) {
	for _, n := range SamplerNames() {
		info, err := Lookup(n)
		if err != nil || info.Name != n || info.DisplayName == "" {
			t.Fatalf("Lookup(%q) = %v, %v", n, info, err)
		}
		for _, sch := range ScheduleNames() {
			s, err := info.Schedule(sch, 8)
			if n == "ddim" && (sch == "karras" || sch == "exponential") {
				if err == nil {
					t.Errorf("ddim accepted %q", sch)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s/%s: %v", n, sch, err)
			}
			if err := s.validate(); err != nil || s.Sigmas[0] <= s.Sigmas[len(s.Sigmas)-2] {
				t.Fatalf("%s/%s: bad schedule %v %v", n, sch, s.Sigmas, err)
			}
		}
	}
	if _, err := Lookup("euler_ancestral"); err == nil || !containsAll(err.Error(), "euler_a", "dpmpp_2m") {
		t.Fatalf("unknown sampler error %v should list the valid names", err)
	}
	info, _ := Lookup("euler")
	if _, err := info.Schedule("cosine", 10); err == nil || !containsAll(err.Error(), "karras", "sgm_uniform") {
		t.Fatalf("unknown schedule error %v should list the valid names", err)
	}
	if _, err := info.Schedule("", 0); err == nil {
		t.Fatal("0 steps accepted")
	}
	if d, _ := ScheduleDisplayName("karras"); d != "Karras" {
		t.Fatalf("display name %q", d)
	}
	if _, err := (&Info{Name: "euler_a", run: runEulerAncestral}).Sample(&Schedule{Timesteps: []float64{1}, Sigmas: []float64{1, 0}}, []float32{0}, denoiserFor(new(int)), Options{}); err == nil {
		t.Fatal("euler_a without a noise source accepted")
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
