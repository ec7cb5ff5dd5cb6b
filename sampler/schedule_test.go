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
				// correctly rounded; with a correctly rounded log a few of
				// the 42 fractional values land 1–3 float32 ulp away (all
				// within 1e-4). A timestep error of 1.0 moves the UNet output
				// by 8e-3 relative (reference README), so 1e-4 is ~1e-6:
				// the float32 noise floor.
				compareAbs(t, prefix+"timesteps", ts, gf.get(t, prefix+"timesteps"), 1e-4)
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

// compareAbs allows each value to be within tol of the golden.
func compareAbs(t *testing.T, name string, got []float64, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	for i := range got {
		if d := math.Abs(got[i] - float64(want[i])); !(d <= tol) {
			t.Errorf("%s[%d] = %v, want %v (±%g)", name, i, got[i], want[i], tol)
			return
		}
	}
}
