package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// memoryRunner is a fakeRunner on a pretend device: fixed memory numbers,
// and a count of releases.
type memoryRunner struct {
	*fakeRunner
	mem      tensor.DeviceMemory
	mu       sync.Mutex
	releases int
	busy     bool // a job runs: releases are deferred
}

func (m *memoryRunner) DeviceMemory() (tensor.DeviceMemory, bool, error) { return m.mem, true, nil }

func (m *memoryRunner) ReleaseCachedMemory() (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.busy {
		return 0, true, nil
	}
	m.releases++
	return m.mem.Held - m.mem.InUse, false, nil
}

func (m *memoryRunner) released() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.releases
}

// The CPU engine: ram from /proc/meminfo, cuda an A1111 error object; the
// server keeps generating after /free requests, good and bad.
func TestMemoryEndpointsOnTheCPU(t *testing.T) {
	_, hs := startServer(t, Config{Runner: tinyEngine(t)})
	status, _, body := call(t, "GET", hs.URL+"/sdapi/v1/memory", nil)
	if status != 200 {
		t.Fatalf("GET /sdapi/v1/memory: %d %s", status, body)
	}
	var resp struct {
		RAM  map[string]json.Number `json:"ram"`
		CUDA map[string]any         `json:"cuda"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	free, _ := resp.RAM["free"].Int64()
	used, _ := resp.RAM["used"].Int64()
	total, _ := resp.RAM["total"].Int64()
	if total <= 0 || free <= 0 || free+used != total {
		t.Errorf("ram = %v: want free + used = total > 0", resp.RAM)
	}
	if e, _ := resp.CUDA["error"].(string); !strings.Contains(e, "unavailable") || len(resp.CUDA) != 1 {
		t.Errorf("cuda on the CPU backend = %v, want A1111's {\"error\": \"unavailable...\"}", resp.CUDA)
	}

	for _, c := range []struct {
		name, body, detail string
	}{
		{"free_memory as text", `{"free_memory": "yes"}`, `field "free_memory": expected true or false`},
		{"misspelt field", `{"fre_memory": true}`, `field "fre_memory"`},
		{"unload_models", `{"unload_models": true, "free_memory": true}`, `field "unload_models": not supported`},
		{"malformed JSON", `{"free_memory": true`, "malformed JSON"},
		{"not an object", `[true]`, "JSON object"},
	} {
		status, _, body := call(t, "POST", hs.URL+"/free", c.body)
		if status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422: %s", c.name, status, body)
			continue
		}
		if e := decodeError(t, body); !strings.Contains(e.Detail, c.detail) {
			t.Errorf("%s: detail %q, want it to contain %q", c.name, e.Detail, c.detail)
		}
	}
	status, _, body = call(t, "POST", hs.URL+"/free", `{"free_memory": true}`)
	if status != 200 || strings.TrimSpace(string(body)) != `{"freed_bytes":0,"deferred":false}` {
		t.Errorf("POST /free on the CPU: %d %s, want 200 with nothing freed", status, body)
	}
	status, _, body = call(t, "POST", hs.URL+"/sdapi/v1/txt2img",
		map[string]any{"prompt": "a cat", "steps": 1, "width": 64, "height": 64, "seed": 1})
	if status != 200 {
		t.Errorf("txt2img after /free: %d %s", status, body)
	}
}

// On a device, every A1111 field is there with the allocator's numbers.
func TestMemoryEndpointShapeOnADevice(t *testing.T) {
	m := &memoryRunner{fakeRunner: newFakeRunner(), mem: tensor.DeviceMemory{
		Total: 16 << 30, Free: 10 << 30, Held: 5 << 30, PeakHeld: 6 << 30,
		InUse: 4 << 30, PeakInUse: 5 << 30, AllocRetries: 2, OOMs: 1}}
	_, hs := startServer(t, Config{Runner: m})
	status, _, body := call(t, "GET", hs.URL+"/sdapi/v1/memory", nil)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var resp struct {
		CUDA map[string]map[string]int64 `json:"cuda"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := map[string]map[string]int64{
		"system":    {"free": 10 << 30, "used": 6 << 30, "total": 16 << 30},
		"active":    {"current": 4 << 30, "peak": 5 << 30},
		"allocated": {"current": 4 << 30, "peak": 5 << 30},
		"reserved":  {"current": 5 << 30, "peak": 6 << 30},
		"inactive":  {"current": 0, "peak": 0},
		"events":    {"retries": 2, "oom": 1},
	}
	if len(resp.CUDA) != len(want) {
		t.Errorf("cuda has %d parts, want %d: %s", len(resp.CUDA), len(want), body)
	}
	for part, fields := range want {
		for k, v := range fields {
			if got, ok := resp.CUDA[part][k]; !ok || got != v {
				t.Errorf("cuda.%s.%s = %d (present %v), want %d", part, k, got, ok, v)
			}
		}
	}
	status, _, body = call(t, "POST", hs.URL+"/free", `{"free_memory": true}`)
	if status != 200 || strings.TrimSpace(string(body)) != `{"freed_bytes":1073741824,"deferred":false}` {
		t.Errorf("POST /free: %d %s", status, body)
	}
	// Without free_memory nothing is released (ComfyUI's default).
	call(t, "POST", hs.URL+"/free", `{}`)
	if n := m.released(); n != 1 {
		t.Errorf("%d releases, want 1", n)
	}
}

// --trim-when-idle: a release after each job that leaves the queue empty,
// none without the option.
func TestTrimWhenIdle(t *testing.T) {
	for _, on := range []bool{false, true} {
		m := &memoryRunner{fakeRunner: newFakeRunner(), mem: tensor.DeviceMemory{Held: 10, InUse: 4}}
		_, hs := startServer(t, Config{Runner: m, TrimWhenIdle: on})
		for i := range 2 {
			if status, _, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img", map[string]any{"prompt": "a"}); status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			if on { // the release runs on the queue's worker after the answer
				waitFor(t, "a release after the job", func() bool { return m.released() == i+1 })
			}
		}
		if n, want := m.released(), map[bool]int{false: 0, true: 2}[on]; n != want {
			t.Errorf("TrimWhenIdle %v: %d releases after 2 jobs, want %d", on, n, want)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	raw := "MemTotal:       16318412 kB\nMemFree:         1000000 kB\nMemAvailable:   12000000 kB\n"
	total, avail, err := parseMeminfo([]byte(raw))
	if err != nil || total != 16318412<<10 || avail != 12000000<<10 {
		t.Errorf("parseMeminfo = %d, %d, %v", total, avail, err)
	}
	if _, _, err := parseMeminfo([]byte("MemTotal: 5 kB\n")); err == nil {
		t.Error("meminfo without MemAvailable accepted")
	}
	if _, _, err := parseMeminfo([]byte("MemTotal: x kB\nMemAvailable: 1 kB\n")); err == nil || !strings.Contains(err.Error(), "MemTotal") {
		t.Errorf("bad MemTotal: %v", err)
	}
}

// A release asked for while the engine runs a job waits for the job's end.
func TestEngineDefersReleaseDuringAJob(t *testing.T) {
	e := tinyEngine(t)
	e.mu.Lock() // a job is running
	freed, deferred, err := e.ReleaseCachedMemory()
	if freed != 0 || !deferred || err != nil || !e.trimAsked.Load() {
		t.Errorf("during a job: freed %d, deferred %v, %v; want deferred", freed, deferred, err)
	}
	e.trimIfAsked() // the job ends
	e.mu.Unlock()
	if e.trimAsked.Load() {
		t.Error("the deferred release was not done as the job ended")
	}
	if _, deferred, err := e.ReleaseCachedMemory(); deferred || err != nil {
		t.Errorf("idle engine: deferred %v, %v", deferred, err)
	}
}
