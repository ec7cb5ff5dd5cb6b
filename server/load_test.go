package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingRunner counts how often each seed ran.
type countingRunner struct {
	Runner
	mu  sync.Mutex
	ran map[uint64]int
}

func (c *countingRunner) Run(ctx context.Context, s *Spec, ctl *Control, p func(Progress)) (*Output, error) {
	c.mu.Lock()
	c.ran[s.Seed]++
	c.mu.Unlock()
	return c.Runner.Run(ctx, s, ctl, p)
}

// TestLoad: 200 requests from 16 concurrent clients on loopback against
// the tiny model. Every accepted request is answered once with its own
// image and run once; every refusal is a 503 with Retry-After; afterwards
// goroutines are back to where they were and the heap has not grown.
// Latency percentiles and throughput are logged (go test -v).
func TestLoad(t *testing.T) {
	const requests, clients, maxQueue = 200, 16, 8
	e := tinyEngine(t)
	runner := &countingRunner{Runner: e, ran: map[uint64]int{}}
	// Warm up outside the measurement (first-call allocations).
	if _, err := e.Run(context.Background(), &Spec{Prompt: "w", Width: 64, Height: 64, Steps: 1, CFGScale: 7,
		Sampler: "euler", BatchSize: 1, NIter: 1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	baseGoroutines := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	s, err := New(Config{Runner: runner, Model: e.Info, MaxQueue: maxQueue})
	if err != nil {
		t.Fatal(err)
	}
	hs := newLoopbackServer(t, s)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	var next atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	accepted := map[uint64]int{}
	rejected := map[uint64]bool{}
	var problems []string
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= requests {
					return
				}
				seed := uint64(1000 + i)
				t0 := time.Now()
				resp, err := client.Post(hs.URL+"/sdapi/v1/txt2img", "application/json", strings.NewReader(fmt.Sprintf(
					`{"prompt": "load %d", "width": 64, "height": 64, "steps": 1, "seed": %d}`, i, seed)))
				if err != nil {
					mu.Lock()
					problems = append(problems, err.Error())
					mu.Unlock()
					continue
				}
				var body struct {
					Images []string
					Info   string
				}
				derr := json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				took := time.Since(t0)
				mu.Lock()
				switch {
				case resp.StatusCode == 200 && derr == nil:
					var info generationInfo
					json.Unmarshal([]byte(body.Info), &info)
					if len(body.Images) != 1 || info.Seed != seed {
						problems = append(problems, fmt.Sprintf("request %d: %d images, seed %d", i, len(body.Images), info.Seed))
					}
					accepted[seed]++
					latencies = append(latencies, took)
				case resp.StatusCode == 503:
					if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
						problems = append(problems, fmt.Sprintf("request %d: 503 with Retry-After %q", i, resp.Header.Get("Retry-After")))
					}
					rejected[seed] = true
				default:
					problems = append(problems, fmt.Sprintf("request %d: status %d", i, resp.StatusCode))
				}
				mu.Unlock()
				if resp.StatusCode == 503 {
					time.Sleep(300 * time.Millisecond) // a polite client backs off
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, p := range problems {
		t.Error(p)
	}
	if len(accepted)+len(rejected) != requests {
		t.Errorf("%d accepted + %d rejected != %d requests", len(accepted), len(rejected), requests)
	}
	runner.mu.Lock()
	for seed, n := range runner.ran {
		if accepted[seed] != 1 || n != 1 {
			t.Errorf("seed %d: ran %d times, answered %d times", seed, n, accepted[seed])
		}
	}
	if len(runner.ran) != len(accepted) {
		t.Errorf("%d jobs ran for %d accepted requests", len(runner.ran), len(accepted))
	}
	runner.mu.Unlock()
	if len(accepted) == 0 {
		t.Fatal("nothing accepted")
	}

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("%d requests from %d clients in %v: %d accepted, %d refused with 503; accepted latency p50 %v, p99 %v; %.1f images/s",
		requests, clients, elapsed.Round(time.Millisecond), len(accepted), len(rejected),
		pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), float64(len(accepted))/elapsed.Seconds())

	// Stop everything and look for leftovers.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	hs.Close()
	client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseGoroutines && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseGoroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the run, %d before:\n%s", n, baseGoroutines, buf[:runtime.Stack(buf, true)])
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap in use: %.1f MiB before, %.1f MiB after (%+.1f MiB)", mib(before.HeapAlloc), mib(after.HeapAlloc), float64(growth)/(1<<20))
	if growth > 8<<20 {
		t.Errorf("heap grew by %.1f MiB over the run", float64(growth)/(1<<20))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
