package sampler

import (
	"fmt"
	"sort"
	"strings"
)

// family is the diffusers scheduler class whose timestep/σ rules a sampler
// follows under diffusers compatibility.
type family int

const (
	eulerFamily family = iota // Euler, Euler ancestral, LMS, Heun
	dpmFamily                 // DPMSolverMultistepScheduler
	ddimFamily                // DDIMScheduler
)

// Info describes one sampler: its CLI name, the A1111 display name written
// into PNG metadata, and the diffusers scheduler it reproduces.
type Info struct {
	Name           string
	DisplayName    string // A1111 "Sampler:" value
	DiffusersClass string
	family         family
	run            runFunc
}

var samplers = map[string]*Info{
	"euler":        {Name: "euler", DisplayName: "Euler", DiffusersClass: "EulerDiscreteScheduler", family: eulerFamily, run: runEuler},
	"euler_a":      {Name: "euler_a", DisplayName: "Euler a", DiffusersClass: "EulerAncestralDiscreteScheduler", family: eulerFamily, run: runEulerAncestral},
	"heun":         {Name: "heun", DisplayName: "Heun", DiffusersClass: "HeunDiscreteScheduler", family: eulerFamily, run: runHeun},
	"lms":          {Name: "lms", DisplayName: "LMS", DiffusersClass: "LMSDiscreteScheduler", family: eulerFamily, run: runLMS},
	"dpmpp_2m":     {Name: "dpmpp_2m", DisplayName: "DPM++ 2M", DiffusersClass: "DPMSolverMultistepScheduler", family: dpmFamily, run: runDPMPP2M},
	"dpmpp_2m_sde": {Name: "dpmpp_2m_sde", DisplayName: "DPM++ 2M SDE", DiffusersClass: "DPMSolverMultistepScheduler", family: dpmFamily, run: runDPMPP2MSDE},
	"ddim":         {Name: "ddim", DisplayName: "DDIM", DiffusersClass: "DDIMScheduler", family: ddimFamily, run: runDDIM},
}

// scheduleDisplayNames are A1111's "Schedule type" values; "" (the
// sampler's own diffusers schedule) is A1111's "Automatic".
var scheduleDisplayNames = map[string]string{
	"":            "Automatic",
	"leading":     "Automatic",
	"trailing":    "Uniform",
	"linspace":    "Uniform",
	"karras":      "Karras",
	"exponential": "Exponential",
	"sgm_uniform": "SGM Uniform",
	"normal":      "Normal",
	"simple":      "Simple",
}

// SamplerNames lists the valid sampler names, sorted.
func SamplerNames() []string { return sortedKeys(samplers) }

// ScheduleNames lists the valid schedule names, sorted.
func ScheduleNames() []string {
	var names []string
	for k := range scheduleDisplayNames {
		if k != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// Lookup finds a sampler by name; the error lists the valid names.
func Lookup(name string) (*Info, error) {
	if s, ok := samplers[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("unknown sampler %q (valid: %s)", name, strings.Join(SamplerNames(), ", "))
}

// ScheduleDisplayName is the A1111 "Schedule type" of a schedule name.
func ScheduleDisplayName(schedule string) (string, error) {
	if d, ok := scheduleDisplayNames[schedule]; ok {
		return d, nil
	}
	return "", unknownSchedule(schedule)
}

func unknownSchedule(name string) error {
	return fmt.Errorf("unknown schedule %q (valid: %s)", name, strings.Join(ScheduleNames(), ", "))
}

// Schedule builds this sampler's schedule for the given number of steps.
// The schedule name "" means the sampler's diffusers scheduler class with
// SDXL's configuration (leading spacing, steps_offset 1); "karras" and
// "exponential" mean the same class with use_karras_sigmas /
// use_exponential_sigmas; "leading", "trailing", "linspace" set its
// timestep_spacing; "normal", "simple", "sgm_uniform" are ComfyUI's.
func (s *Info) Schedule(schedule string, steps int) (*Schedule, error) {
	if steps < 1 || steps > TrainSteps {
		return nil, fmt.Errorf("sampler: %d steps, want 1 to %d", steps, TrainSteps)
	}
	if _, ok := scheduleDisplayNames[schedule]; !ok {
		return nil, unknownSchedule(schedule)
	}
	switch schedule {
	case "normal", "simple", "sgm_uniform":
		return comfySchedule(schedule, steps)
	}
	spacing, transform := "leading", plainSigmas
	switch schedule {
	case "trailing", "linspace":
		spacing = schedule
	case "karras":
		transform = karrasTransform
	case "exponential":
		transform = exponentialTransform
	}
	switch s.family {
	case dpmFamily:
		return dpmSolverSchedule(spacing, transform, steps)
	case ddimFamily:
		if transform != plainSigmas {
			return nil, fmt.Errorf("sampler ddim does not support the %q schedule (DDIMScheduler has no re-spaced sigmas); use leading, trailing, linspace, normal, simple or sgm_uniform", schedule)
		}
		return ddimSchedule(spacing, steps)
	}
	return eulerFamilySchedule(spacing, transform, steps)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
