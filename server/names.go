package server

import (
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/sampler"
)

// samplerByA1111 finds our sampler for an A1111 sampler_name: its display
// name ("DPM++ 2M"), our own name ("dpmpp_2m"), or an older A1111 name with
// the schedule folded in ("DPM++ 2M Karras"), in which case the schedule
// is returned too. Case is ignored, as A1111's alias map does for k_*
// names.
func samplerByA1111(name string) (ours, schedule string, ok bool) {
	want := strings.ToLower(strings.TrimSpace(name))
	best := ""
	for _, n := range sampler.SamplerNames() {
		info, _ := sampler.Lookup(n)
		display := strings.ToLower(info.DisplayName)
		if want == display || want == n {
			return n, "", true
		}
		rest, found := strings.CutPrefix(want, display+" ")
		if !found || len(display) <= len(best) {
			continue
		}
		if s, ok := scheduleByA1111(rest); ok && s != "" {
			best, ours, schedule = display, n, s
		}
	}
	return ours, schedule, best != ""
}

// scheduleByA1111 finds our schedule for an A1111 scheduler: its label
// ("Karras", "SGM Uniform", "Automatic") or name ("karras", "sgm_uniform",
// "automatic"), or one of our own names. Where two of ours share a label
// ("Uniform") the first in sorted order wins, as in `gen --from`.
func scheduleByA1111(name string) (string, bool) {
	want := strings.ToLower(strings.TrimSpace(name))
	if want == "" || want == "automatic" {
		return "", true
	}
	for _, n := range sampler.ScheduleNames() {
		d, _ := sampler.ScheduleDisplayName(n)
		if want == n || want == strings.ToLower(d) || want == strings.ReplaceAll(strings.ToLower(d), " ", "_") {
			return n, true
		}
	}
	return "", false
}

// scheduleItem is A1111's SchedulerItem.
type scheduleItem struct {
	Name           string   `json:"name"`
	Label          string   `json:"label"`
	Aliases        []string `json:"aliases"`
	DefaultRho     float64  `json:"default_rho"`
	NeedInnerModel bool     `json:"need_inner_model"`
}

// scheduleItems lists the schedules as A1111 does: one entry per label.
func scheduleItems() []scheduleItem {
	items := []scheduleItem{{Name: "automatic", Label: "Automatic", DefaultRho: -1}}
	byLabel := map[string]int{}
	for _, n := range sampler.ScheduleNames() {
		d, _ := sampler.ScheduleDisplayName(n)
		if d == "Automatic" {
			continue
		}
		if i, ok := byLabel[d]; ok {
			items[i].Aliases = append(items[i].Aliases, n)
			continue
		}
		byLabel[d] = len(items)
		items = append(items, scheduleItem{Name: strings.ReplaceAll(strings.ToLower(d), " ", "_"), Label: d, Aliases: []string{n}, DefaultRho: -1})
	}
	sort.SliceStable(items[1:], func(i, j int) bool { return items[1+i].Name < items[1+j].Name })
	return items
}

// samplerItem is A1111's SamplerItem.
type samplerItem struct {
	Name    string            `json:"name"`
	Aliases []string          `json:"aliases"`
	Options map[string]string `json:"options"`
}

func samplerItems() []samplerItem {
	var items []samplerItem
	for _, n := range sampler.SamplerNames() {
		info, _ := sampler.Lookup(n)
		items = append(items, samplerItem{Name: info.DisplayName, Aliases: []string{n}, Options: map[string]string{}})
	}
	return items
}

func displaySampler(name string) string {
	if info, err := sampler.Lookup(name); err == nil {
		return info.DisplayName
	}
	return name
}
