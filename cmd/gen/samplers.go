package main

import (
	"strings"

	"github.com/gosdxl/gosdxl/sampler"
)

// The sampler package owns the names: our flag values, and the A1111
// display names written into "Sampler:" and "Schedule type:" so that
// generated PNGs read back in that UI and in ours. This file maps A1111's
// names back for --from.

// samplerFromA1111 finds our sampler for an A1111 "Sampler:" value. Older
// A1111 versions folded the schedule into the name ("DPM++ 2M Karras").
func samplerFromA1111(display string) (name, schedule string, ok bool) {
	for _, n := range sampler.SamplerNames() {
		info, _ := sampler.Lookup(n)
		if info.DisplayName == display {
			return n, "", true
		}
	}
	// Longest display name first, so "DPM++ 2M SDE Karras" is not read as
	// "DPM++ 2M" with the schedule "SDE Karras".
	best := ""
	for _, n := range sampler.SamplerNames() {
		info, _ := sampler.Lookup(n)
		rest, found := strings.CutPrefix(display, info.DisplayName+" ")
		if !found || len(info.DisplayName) <= len(best) {
			continue
		}
		if s, ok := scheduleFromA1111(rest); ok && s != "" {
			best, name, schedule = info.DisplayName, n, s
		}
	}
	return name, schedule, best != ""
}

// scheduleFromA1111 finds our --schedule value for an A1111 "Schedule
// type". "Automatic" is the sampler's own schedule (""). Where two of our
// schedules share a display name ("Uniform"), the first in sorted order is
// returned; saveImages records the exact name when it is the other one.
func scheduleFromA1111(display string) (string, bool) {
	for _, n := range append([]string{""}, sampler.ScheduleNames()...) {
		if d, _ := sampler.ScheduleDisplayName(n); d == display {
			return n, true
		}
	}
	return "", false
}

// displayNames returns the A1111 names of a valid sampler and schedule.
func displayNames(samplerName, schedule string) (samplerDisplay, scheduleDisplay string) {
	if info, err := sampler.Lookup(samplerName); err == nil {
		samplerDisplay = info.DisplayName
	}
	scheduleDisplay, _ = sampler.ScheduleDisplayName(schedule)
	return samplerDisplay, scheduleDisplay
}

func samplerNames() string { return strings.Join(sampler.SamplerNames(), ", ") }
