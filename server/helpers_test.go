package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/internal/pngtest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// tinyEngine loads the tiny reference checkpoint once for all tests.
var tiny struct {
	once   sync.Once
	engine *Engine
	err    error
}

func tinyEngine(t testing.TB) *Engine {
	t.Helper()
	path := refdata.TinyCheckpoint(t)
	tiny.once.Do(func() { tiny.engine, tiny.err = NewEngine(path, cpu.New()) })
	if tiny.err != nil {
		t.Fatal(tiny.err)
	}
	return tiny.engine
}

// fakeRunner answers jobs without a model: it records every job it ran,
// and blocks each one until release is closed (nil: no blocking).
type fakeRunner struct {
	mu      sync.Mutex
	ran     map[string]int
	started chan string
	release chan struct{}
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{ran: map[string]int{}, started: make(chan string, 1000)}
}

func (f *fakeRunner) Run(ctx context.Context, spec *Spec, ctl *Control, progress func(Progress)) (*Output, error) {
	f.mu.Lock()
	f.ran[spec.ID]++
	f.mu.Unlock()
	f.started <- spec.ID
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	progress(Progress{Iterations: 1, Steps: spec.Steps, Step: spec.Steps})
	return &Output{Images: [][]byte{[]byte("png")}, Seeds: []uint64{spec.Seed}, Infotexts: []string{"x"},
		Width: spec.Width, Height: spec.Height, ModelName: "fake"}, nil
}

func (f *fakeRunner) runs(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ran[id]
}

// startServer serves cfg on a loopback address until the test ends.
func startServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Model.Name == "" {
		cfg.Model = ModelInfo{Name: "fake", File: "/models/fake.safetensors", Hash: "0123456789"}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		hs.Close()
	})
	return s, hs
}

// call sends a request and returns the status, headers and body.
func call(t testing.TB, method, url string, body any, header ...string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// decodeError reads an A1111 error body, failing unless it has that shape.
func decodeError(t testing.TB, body []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || e.Detail == "" {
		t.Fatalf("not an A1111 error body (%v): %s", err, body)
	}
	return e
}

// tinyPNG returns a base64 PNG of the given size.
func tinyPNG(t testing.TB, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// maskPNG is a w×h grey mask of one level v.
func maskPNG(t testing.TB, w, h int, v uint8) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// newLoopbackServer serves s on 127.0.0.1 without the automatic cleanup
// of startServer, for tests that stop it themselves.
func newLoopbackServer(t testing.TB, s *Server) *httptest.Server {
	t.Helper()
	return httptest.NewServer(s.Handler())
}

// gatedRunner pauses its runner's job at one step until the test lets it
// go, so a test can act "in the middle of a job" on any machine speed.
type gatedRunner struct {
	Runner
	iteration, step int
	reached         chan struct{} // closed when the job is held
	release         chan struct{} // closed by the test
}

func newGatedRunner(r Runner, iteration, step int) *gatedRunner {
	return &gatedRunner{Runner: r, iteration: iteration, step: step, reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedRunner) Run(ctx context.Context, s *Spec, ctl *Control, progress func(Progress)) (*Output, error) {
	return g.Runner.Run(ctx, s, ctl, func(p Progress) {
		progress(p)
		if p.Iteration == g.iteration && p.Step == g.step {
			close(g.reached)
			<-g.release
		}
	})
}

// pngBomb is pngtest.Bomb in base64, as a request carries images.
func pngBomb(w, h uint32) string {
	return base64.StdEncoding.EncodeToString(pngtest.Bomb(w, h))
}
