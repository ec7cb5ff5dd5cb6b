package server

import "testing"

// TestA1111Names: the sampler and scheduler names A1111 clients send map
// to ours: display names, lower case, our own names, and the older
// "sampler + schedule" names.
func TestA1111Names(t *testing.T) {
	for _, c := range []struct{ in, sampler, schedule string }{
		{"Euler a", "euler_a", ""},
		{"euler a", "euler_a", ""},
		{"Euler", "euler", ""},
		{"DPM++ 2M", "dpmpp_2m", ""},
		{"dpmpp_2m", "dpmpp_2m", ""},
		{"DPM++ 2M Karras", "dpmpp_2m", "karras"},
		{"DPM++ 2M SDE Karras", "dpmpp_2m_sde", "karras"},
		{"DPM++ 2M SDE Exponential", "dpmpp_2m_sde", "exponential"},
		{"DPM++ 2M SDE", "dpmpp_2m_sde", ""},
		{"DDIM", "ddim", ""},
		{"LMS", "lms", ""},
		{"Heun", "heun", ""},
	} {
		s, sched, ok := samplerByA1111(c.in)
		if !ok || s != c.sampler || sched != c.schedule {
			t.Errorf("sampler %q → %q %q %v, want %q %q", c.in, s, sched, ok, c.sampler, c.schedule)
		}
	}
	for _, bad := range []string{"", "Euler z", "DPM++ 2M Whatever", "DPM++ 3M SDE"} {
		if s, _, ok := samplerByA1111(bad); ok {
			t.Errorf("sampler %q accepted as %q", bad, s)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", ""}, {"Automatic", ""}, {"automatic", ""}, {"Karras", "karras"}, {"karras", "karras"},
		{"Exponential", "exponential"}, {"SGM Uniform", "sgm_uniform"}, {"sgm_uniform", "sgm_uniform"},
		{"Uniform", "linspace"}, {"trailing", "trailing"}, {"Simple", "simple"}, {"Normal", "normal"},
	} {
		got, ok := scheduleByA1111(c.in)
		if !ok || got != c.want {
			t.Errorf("scheduler %q → %q %v, want %q", c.in, got, ok, c.want)
		}
	}
	if s, ok := scheduleByA1111("Align Your Steps"); ok {
		t.Errorf("unknown scheduler accepted as %q", s)
	}
}
