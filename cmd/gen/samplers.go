package main

import (
	"sort"
	"strings"
)

// samplerInfo ties a --sampler name to the name A1111 writes in its
// "Sampler:" field, so generated PNGs read back in that UI and in ours.
type samplerInfo struct {
	name  string // our flag value
	a1111 string
}

var samplers = []samplerInfo{
	{"euler_a", "Euler a"},
	{"euler", "Euler"},
	{"dpmpp_2m", "DPM++ 2M"},
	{"dpmpp_2m_sde", "DPM++ 2M SDE"},
	{"ddim", "DDIM"},
	{"lms", "LMS"},
	{"heun", "Heun"},
}

// schedules maps --schedule values to A1111's "Schedule type" names; the
// empty value (flag omitted) is the sampler's own schedule, A1111's
// "Automatic".
var schedules = map[string]string{
	"":            "Automatic",
	"karras":      "Karras",
	"exponential": "Exponential",
}

func findSampler(name string) (samplerInfo, bool) {
	for _, s := range samplers {
		if s.name == name {
			return s, true
		}
	}
	return samplerInfo{}, false
}

// samplerFromA1111 finds our sampler for an A1111 "Sampler:" value. Older
// A1111 versions folded the schedule into the name ("DPM++ 2M Karras").
func samplerFromA1111(name string) (sampler, schedule string, ok bool) {
	for _, s := range samplers {
		if s.a1111 == name {
			return s.name, "", true
		}
		if rest, found := strings.CutPrefix(name, s.a1111+" "); found {
			for k, v := range schedules {
				if k != "" && v == rest {
					return s.name, k, true
				}
			}
		}
	}
	return "", "", false
}

func scheduleFromA1111(name string) (string, bool) {
	for k, v := range schedules {
		if v == name {
			return k, true
		}
	}
	return "", false
}

func samplerNames() string {
	names := make([]string, len(samplers))
	for i, s := range samplers {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

func scheduleNames() string {
	var names []string
	for k := range schedules {
		if k != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
