package sampler

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// goldenSchedulerSetup maps each reference scheduler to the sampler and
// schedule names that must reproduce it.
var goldenSchedulerSetup = map[string]struct{ sampler, schedule string }{
	"euler_a":             {"euler_a", ""},
	"euler":               {"euler", ""},
	"euler_karras":        {"euler", "karras"},
	"dpmpp_2m":            {"dpmpp_2m", ""},
	"dpmpp_2m_karras":     {"dpmpp_2m", "karras"},
	"dpmpp_2m_sde_karras": {"dpmpp_2m_sde", "karras"},
	"ddim":                {"ddim", ""},
	"lms":                 {"lms", ""},
	"heun":                {"heun", ""},
}

// heunTables expands a schedule into diffusers' Heun tables: every σ and
// timestep after the first is repeated (σ has 2N entries, t has 2N − 1).
func heunTables(s *Schedule) (ts, sigmas []float64) {
	ts = append(ts, s.Timesteps[0])
	for _, t := range s.Timesteps[1:] {
		ts = append(ts, t, t)
	}
	n := len(s.Sigmas)
	sigmas = append(sigmas, s.Sigmas[0])
	for _, v := range s.Sigmas[1 : n-1] {
		sigmas = append(sigmas, v, v)
	}
	return ts, append(sigmas, s.Sigmas[n-1])
}

func TestSchedulesMatchDiffusers(t *testing.T) {
	gf := loadGolden(t, tinyGoldensPath)
	c := loadCases(t)
	checked := 0
	for name, setup := range goldenSchedulerSetup {
		entries, ok := c.Schedulers[name]
		if !ok {
			t.Fatalf("no scheduler %q in the cases JSON", name)
		}
		info, err := Lookup(setup.sampler)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{6, 10, 28} {
			var want goldenSchedule
			if err := json.Unmarshal(entries[strconv.Itoa(n)], &want); err != nil {
				t.Fatalf("%s/%d: %v", name, n, err)
			}
			sched, err := info.Schedule(setup.schedule, n)
			if err != nil {
				t.Fatalf("%s/%d: %v", name, n, err)
			}
			ts, sigmas := sched.Timesteps, sched.Sigmas
			if name == "heun" {
				ts, sigmas = heunTables(sched)
			}
			prefix := "sched/" + name + "/" + strconv.Itoa(n) + "/"
			if name == "euler_karras" {
				// Fractional timesteps come from numpy's float32 log of the
				// σ table, which numpy's SIMD code computes to a few ulp, not
				// correctly rounded; with a correctly rounded log 5 of the 42
				// fractional values land 1–2 float32 ulp away (≤ 3e-6 on
				// t ≈ 9, ≤ 6e-5 on t ≈ 900; a UNet timestep error of 1.0
				// moves its output by 8e-3 relative).
				compareULP(t, prefix+"timesteps", ts, gf.get(t, prefix+"timesteps"), 2)
			} else {
				compareExact(t, prefix+"timesteps", ts, gf.get(t, prefix+"timesteps"))
			}
			if name != "ddim" {
				compareExact(t, prefix+"sigmas", sigmas, gf.get(t, prefix+"sigmas"))
			}
			if float32(sched.InitNoiseSigma) != float32(want.InitNoiseSigma) {
				t.Errorf("%s/%d: init_noise_sigma %v, want %v", name, n, sched.InitNoiseSigma, want.InitNoiseSigma)
			}
			checked++
		}
	}
	if checked != 27 {
		t.Fatalf("checked %d scheduler tables", checked)
	}
}

// compareExact requires every value to equal the float32 golden exactly.
func compareExact(t *testing.T, name string, got []float64, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	for i := range got {
		if float32(got[i]) != want[i] || math.IsNaN(got[i]) {
			t.Errorf("%s[%d] = %v, want %v", name, i, float32(got[i]), want[i])
			return
		}
	}
}

// compareULP allows each value to be within maxULP float32 steps.
func compareULP(t *testing.T, name string, got []float64, want []float32, maxULP int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	for i := range got {
		g, w := int64(math.Float32bits(float32(got[i]))), int64(math.Float32bits(want[i]))
		if d := g - w; d > int64(maxULP) || d < -int64(maxULP) || math.Signbit(float64(want[i])) {
			t.Errorf("%s[%d] = %v, want %v (±%d ulp)", name, i, float32(got[i]), want[i], maxULP)
			return
		}
	}
}
