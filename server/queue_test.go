package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// post sends a txt2img in the background and delivers its status.
func postAsync(ctx context.Context, url, prompt string) chan int {
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/sdapi/v1/txt2img",
			strings.NewReader(fmt.Sprintf(`{"prompt": %q, "steps": 2}`, prompt)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQueueFullAndFIFO: one job runs, --max-queue wait, the next is
// refused at once with 503 and Retry-After; the waiting ones then run in
// arrival order, each once.
func TestQueueFullAndFIFO(t *testing.T) {
	f := newFakeRunner()
	f.release = make(chan struct{})
	s, hs := startServer(t, Config{Runner: f, MaxQueue: 2})
	first := postAsync(context.Background(), hs.URL, "p0")
	id0 := <-f.started
	var waiting []chan int
	for i := 1; i <= 2; i++ {
		waiting = append(waiting, postAsync(context.Background(), hs.URL, fmt.Sprint("p", i)))
		waitFor(t, "queued", func() bool { _, n := s.q.current(); return n == i+1 })
	}
	code, h, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "one too many", "steps": 2}`)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("full queue: %d %s", code, body)
	}
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", h.Get("Retry-After"))
	}
	decodeError(t, body)
	close(f.release)
	if c := <-first; c != 200 {
		t.Errorf("first: %d", c)
	}
	order := []string{id0}
	for _, w := range waiting {
		if c := <-w; c != 200 {
			t.Errorf("queued job: %d", c)
		}
	}
	for i := 0; i < 2; i++ {
		order = append(order, <-f.started)
	}
	for _, id := range order {
		if n := f.runs(id); n != 1 {
			t.Errorf("job %s ran %d times", id, n)
		}
	}
	if len(f.ran) != 3 {
		t.Errorf("%d jobs ran, want 3", len(f.ran))
	}
}

// TestClientDisconnect: a client that leaves stops its running job, and a
// job whose client left while it waited never runs.
func TestClientDisconnect(t *testing.T) {
	f := newFakeRunner()
	f.release = make(chan struct{})
	defer close(f.release)
	s, err := New(Config{Runner: f, Model: ModelInfo{Name: "fake"}})
	if err != nil {
		t.Fatal(err)
	}
	// The server notices a client leaving asynchronously; this lets the
	// test wait until it has.
	noticed := map[string]chan struct{}{"running": make(chan struct{}), "queued": make(chan struct{})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := noticed[r.Header.Get("X-Test")]; ok {
			go func() { <-r.Context().Done(); close(c) }()
		}
		s.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	defer s.Shutdown(context.Background())
	send := func(ctx context.Context, name string) chan int {
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", hs.URL+"/sdapi/v1/txt2img", strings.NewReader(`{"prompt": "p", "steps": 2}`))
			req.Header.Set("X-Test", name)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- -1
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		return done
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	running := send(ctx1, "running")
	<-f.started
	ctx2, cancel2 := context.WithCancel(context.Background())
	queued := send(ctx2, "queued")
	waitFor(t, "queued", func() bool { _, n := s.q.current(); return n == 2 })
	cancel2()
	<-queued
	<-noticed["queued"]
	cancel1()
	<-running
	<-noticed["running"]
	waitFor(t, "both jobs answered", func() bool {
		return metricValue(t, hs.URL, `gosdxl_jobs_total{outcome="cancelled"}`) == 2
	})
	if len(f.ran) != 1 {
		t.Errorf("%d jobs ran, want 1 (the queued one's client left)", len(f.ran))
	}
	// The server goes on.
	go func() { f.release <- struct{}{} }()
	if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "next", "steps": 2}`); code != 200 {
		t.Errorf("next request: %d %s", code, body)
	}
}

// TestTimeout: a job over --timeout is stopped and answered 504.
func TestTimeout(t *testing.T) {
	f := newFakeRunner()
	f.release = make(chan struct{})
	defer close(f.release)
	_, hs := startServer(t, Config{Runner: f, Timeout: 200 * time.Millisecond})
	code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "slow", "steps": 2}`)
	if code != http.StatusGatewayTimeout || !strings.Contains(decodeError(t, body).Detail, "--timeout") {
		t.Errorf("%d %s", code, body)
	}
	if v := metricValue(t, hs.URL, `gosdxl_jobs_total{outcome="timeout"}`); v != 1 {
		t.Errorf("timeout jobs metric %v", v)
	}
}

// TestShutdown: the running job finishes and is answered, waiting ones
// and new ones get 503, /healthz turns 503.
func TestShutdown(t *testing.T) {
	f := newFakeRunner()
	f.release = make(chan struct{})
	s, hs := startServer(t, Config{Runner: f})
	running := postAsync(context.Background(), hs.URL, "running")
	<-f.started
	queued := postAsync(context.Background(), hs.URL, "queued")
	waitFor(t, "queued", func() bool { _, n := s.q.current(); return n == 2 })
	stopped := make(chan error, 1)
	go func() { stopped <- s.Shutdown(context.Background()) }()
	waitFor(t, "draining", func() bool { return s.draining.Load() })
	if code, _, _ := call(t, "GET", hs.URL+"/healthz", nil); code != http.StatusServiceUnavailable {
		t.Errorf("healthz while draining: %d", code)
	}
	if code, h, _ := call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "new", "steps": 2}`); code != 503 || h.Get("Retry-After") == "" {
		t.Errorf("new request while draining: %d", code)
	}
	select {
	case <-stopped:
		t.Fatal("shutdown returned while a job was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(f.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if c := <-running; c != 200 {
		t.Errorf("running job: %d, want 200", c)
	}
	if c := <-queued; c != 503 {
		t.Errorf("queued job: %d, want 503", c)
	}
	if len(f.ran) != 1 {
		t.Errorf("%d jobs ran, want 1", len(f.ran))
	}
}

// metricValue reads one series from /metrics (-1 when absent).
func metricValue(t *testing.T, url, series string) float64 {
	t.Helper()
	_, _, body := call(t, "GET", url+"/metrics", nil)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}

// TestMetrics: the Prometheus text has the queue, job, step and request
// series, and they move.
func TestMetrics(t *testing.T) {
	f := newFakeRunner()
	_, hs := startServer(t, Config{Runner: f})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "m", "steps": 4}`)
		}()
	}
	wg.Wait()
	call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "m", "width": 3}`)
	// Requests are counted once their answer is written, a moment after
	// the client has it.
	waitFor(t, "the 4xx to be counted", func() bool {
		return metricValue(t, hs.URL, `gosdxl_http_requests_total{code="4xx"}`) == 1
	})
	for series, want := range map[string]float64{
		`gosdxl_jobs_total{outcome="ok"}`:        3,
		`gosdxl_steps_total`:                     3,
		`gosdxl_queue_depth`:                     0,
		`gosdxl_jobs_running`:                    0,
		`gosdxl_job_duration_seconds_count`:      3,
		`gosdxl_http_requests_total{code="4xx"}`: 1,
	} {
		if got := metricValue(t, hs.URL, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	_, h, _ := call(t, "GET", hs.URL+"/metrics", nil)
	if !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("content type %q", h.Get("Content-Type"))
	}
	var ok bool
	_, _, body := call(t, "GET", hs.URL+"/healthz", nil)
	var health map[string]string
	ok = json.Unmarshal(body, &health) == nil && health["status"] == "ok"
	if !ok {
		t.Errorf("healthz %s", body)
	}
}

// TestOutputsDir: with --outputs every image is also saved, as
// <seed>.png, never replacing an earlier file.
func TestOutputsDir(t *testing.T) {
	dir := t.TempDir()
	_, hs := startServer(t, Config{Runner: newFakeRunner(), OutputsDir: dir})
	for i := 0; i < 2; i++ {
		if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "a", "steps": 2, "seed": 12}`); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	for _, name := range []string{"12.png", "12-1.png"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != "png" {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
}
