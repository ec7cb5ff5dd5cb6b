package natsqueue

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/server"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// natsNode is a NATS server with JetStream on file storage, embedded or
// the nats-server binary, restartable on the same port and store
// directory.
type natsNode struct {
	t      testing.TB
	dir    string
	port   int
	srv    *natsserver.Server
	binary bool
	cmd    *exec.Cmd
}

func startNATS(t testing.TB) *natsNode {
	n := &natsNode{t: t, dir: t.TempDir(), port: natsserver.RANDOM_PORT}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsNode) start() {
	n.t.Helper()
	if n.binary {
		n.startBinary()
		return
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: n.port, JetStream: true,
		StoreDir: n.dir, NoLog: true, NoSigs: true})
	if err != nil {
		n.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		n.t.Fatal("NATS did not start")
	}
	n.srv = s
	n.port = s.Addr().(*net.TCPAddr).Port
}

func (n *natsNode) stop() {
	if n.binary {
		n.cmd.Process.Signal(syscall.SIGTERM)
		n.cmd.Wait()
		return
	}
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

func (n *natsNode) restart() {
	n.stop()
	n.start()
}

func (n *natsNode) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

func connect(t testing.TB, n *natsNode) *nats.Conn {
	t.Helper()
	nc, err := Connect(n.url(), t.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

var tiny struct {
	once   sync.Once
	engine *server.Engine
	err    error
}

func tinyEngine(t testing.TB) *server.Engine {
	t.Helper()
	path := refdata.TinyCheckpoint(t)
	tiny.once.Do(func() { tiny.engine, tiny.err = server.NewEngine(path, cpu.New()) })
	if tiny.err != nil {
		t.Fatal(tiny.err)
	}
	return tiny.engine
}

// startWorker runs a worker in this process until the test ends.
func startWorker(t testing.TB, n *natsNode, r server.Runner, model server.ModelInfo, opts Options) *Worker {
	t.Helper()
	w, err := NewWorker(connect(t, n), r, model, "cpu", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// startFrontEnd serves the A1111 API with jobs going through NATS.
func startFrontEnd(t testing.TB, n *natsNode, model server.ModelInfo, opts Options, timeout time.Duration) (*Client, *httptest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Logger = testLogger(t)
	c, err := NewClient(ctx, connect(t, n), opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{Runner: c, Model: model, Workers: 8, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(sctx)
		c.Close()
	})
	return c, hs
}

type answer struct {
	code int
	body []byte
}

// post sends a txt2img in the background and delivers the answer.
func post(ctx context.Context, url, body string) chan answer {
	return postPath(ctx, url, "txt2img", body)
}

func images(t testing.TB, a answer) [][]byte {
	t.Helper()
	if a.code != 200 {
		t.Fatalf("status %d: %s", a.code, a.body)
	}
	var r struct{ Images []string }
	if err := json.Unmarshal(a.body, &r); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, s := range r.Images {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// localImages runs the same request on a local front end, for reference.
func localImages(t testing.TB, e *server.Engine, body string) [][]byte {
	t.Helper()
	s, err := server.New(server.Config{Runner: e, Model: e.Info})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	return images(t, <-post(context.Background(), hs.URL, body))
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRoundTrip: a front end without a model answers through a worker
// exactly as a local server does (same PNG bytes, img2img included), and
// the worker advertises its model.
func TestRoundTrip(t *testing.T) {
	e := tinyEngine(t)
	n := startNATS(t)
	w := startWorker(t, n, e, e.Info, Options{})
	c, hs := startFrontEnd(t, n, e.Info, Options{}, 0)
	for _, body := range []string{
		`{"prompt": "a cat", "width": 64, "height": 64, "steps": 3, "seed": 9, "batch_size": 2}`,
		`{"prompt": "a cat", "steps": 4, "seed": 9, "init_images": ["` + initImage(t) + `"], "denoising_strength": 0.5}`,
		// The hires fix and inpainting travel in the spec, the mask in
		// the object store.
		`{"prompt": "a cat", "width": 64, "height": 64, "steps": 2, "seed": 9, "enable_hr": true, "hr_scale": 1.5, "hr_upscaler": "None", "denoising_strength": 0.6}`,
		`{"prompt": "a cat", "steps": 4, "seed": 9, "init_images": ["` + initImage(t) + `"], "mask": "` + maskImage(t, 192, 128) + `", "inpaint_full_res": false}`,
	} {
		path := "txt2img"
		if strings.Contains(body, "init_images") {
			path = "img2img"
		}
		got := images(t, <-postPath(context.Background(), hs.URL, path, body))
		want := images(t, <-postPath(context.Background(), localURL(t, e), path, body))
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%d images through NATS, %d locally", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s image %d differs from the local server's", path, i)
			}
		}
	}
	var ws []WorkerInfo
	waitFor(t, "the worker's advertisement", 10*time.Second, func() bool {
		ws, _ = c.Workers(context.Background())
		return len(ws) == 1
	})
	if ws[0].ID != w.ID() || ws[0].Model.Name != e.Info.Name || ws[0].Model.Hash != e.Info.Hash {
		t.Errorf("advertised %+v", ws[0])
	}
}

func postPath(ctx context.Context, url, path, body string) chan answer {
	done := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/sdapi/v1/"+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{-1, []byte(err.Error())}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{resp.StatusCode, b}
	}()
	return done
}

func localURL(t testing.TB, e *server.Engine) string {
	t.Helper()
	s, err := server.New(server.Config{Runner: e, Model: e.Info})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func initImage(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(refdata.Path(t, "tiny-sdxl-a-i2i-input.png"))
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// maskImage is a w×h mask whose left half is repainted.
func maskImage(t testing.TB, w, h int) string {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w/2; x++ {
			m.Pix[y*m.Stride+x] = 255
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// scriptedRunner fails or succeeds as told, counting runs per job.
type scriptedRunner struct {
	mu   sync.Mutex
	runs map[string]int
	fail error
	name string
}

func (s *scriptedRunner) Run(ctx context.Context, spec *server.Spec, ctl *server.Control, p func(server.Progress)) (*server.Output, error) {
	s.mu.Lock()
	s.runs[spec.ID]++
	s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	return &server.Output{Images: [][]byte{[]byte(s.name)}, Seeds: []uint64{spec.Seed}, Infotexts: []string{s.name},
		Width: spec.Width, Height: spec.Height, ModelName: s.name}, nil
}

func (s *scriptedRunner) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.runs {
		n += v
	}
	return n
}

// TestRoutesByModel: jobs go to the workers that have the front end's
// model, not to others.
func TestRoutesByModel(t *testing.T) {
	n := startNATS(t)
	a := &scriptedRunner{runs: map[string]int{}, name: "model-a"}
	b := &scriptedRunner{runs: map[string]int{}, name: "model-b"}
	startWorker(t, n, a, server.ModelInfo{Name: "model-a"}, Options{})
	startWorker(t, n, b, server.ModelInfo{Name: "model-b"}, Options{})
	_, hs := startFrontEnd(t, n, server.ModelInfo{Name: "model-b"}, Options{}, 0)
	for i := 0; i < 3; i++ {
		got := images(t, <-post(context.Background(), hs.URL, `{"prompt": "x", "steps": 2}`))
		if len(got) != 1 || string(got[0]) != "model-b" {
			t.Fatalf("answered by %q", got)
		}
	}
	if a.total() != 0 || b.total() != 3 {
		t.Errorf("model-a worker ran %d jobs, model-b %d", a.total(), b.total())
	}
}

// TestDeadLetter: a job that fails on every delivery is retried up to
// MaxDeliver times, then dead-lettered with its error, and the client
// gets that error.
func TestDeadLetter(t *testing.T) {
	n := startNATS(t)
	r := &scriptedRunner{runs: map[string]int{}, fail: errors.New("device lost")}
	opts := Options{MaxDeliver: 2, AckWait: 2 * time.Second}
	startWorker(t, n, r, server.ModelInfo{Name: "m"}, opts)
	_, hs := startFrontEnd(t, n, server.ModelInfo{Name: "m"}, opts, 0)
	a := <-post(context.Background(), hs.URL, `{"prompt": "x", "steps": 2}`)
	if a.code != 500 || !strings.Contains(string(a.body), "device lost") || !strings.Contains(string(a.body), "failed 2 times") {
		t.Fatalf("%d %s", a.code, a.body)
	}
	if r.total() != 2 {
		t.Errorf("ran %d times, want MaxDeliver = 2", r.total())
	}
	dl := lastDeadLetter(t, n)
	if dl.Deliveries != 2 || !strings.Contains(dl.Error, "device lost") || dl.Spec.Prompt != "x" {
		t.Errorf("dead letter %+v", dl)
	}
}

func lastDeadLetter(t testing.TB, n *natsNode) deadLetter {
	t.Helper()
	js, _ := jetstream.New(connect(t, n))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, deadStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, "gosdxl.dead.>")
	if err != nil {
		t.Fatal(err)
	}
	var dl deadLetter
	if err := json.Unmarshal(m.Data, &dl); err != nil {
		t.Fatal(err)
	}
	return dl
}

// TestCancelWhileQueued: a client that leaves before any worker took its
// job takes the job off the queue; a worker started later never runs it.
func TestCancelWhileQueued(t *testing.T) {
	n := startNATS(t)
	_, hs := startFrontEnd(t, n, server.ModelInfo{Name: "m"}, Options{}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	pending := post(ctx, hs.URL, `{"prompt": "gone", "steps": 2}`)
	js, _ := jetstream.New(connect(t, n))
	waitFor(t, "the job in the stream", 10*time.Second, func() bool {
		s, err := js.Stream(context.Background(), jobsStream)
		return err == nil && s.CachedInfo().State.Msgs == 1 || err == nil && streamMsgs(s) == 1
	})
	cancel()
	<-pending
	s, _ := js.Stream(context.Background(), jobsStream)
	waitFor(t, "the job to leave the stream", 10*time.Second, func() bool { return streamMsgs(s) == 0 })
	r := &scriptedRunner{runs: map[string]int{}, name: "m"}
	startWorker(t, n, r, server.ModelInfo{Name: "m"}, Options{})
	time.Sleep(500 * time.Millisecond)
	if r.total() != 0 {
		t.Errorf("a cancelled job ran %d times", r.total())
	}
}

func streamMsgs(s jetstream.Stream) uint64 {
	info, err := s.Info(context.Background())
	if err != nil {
		return 1 << 62
	}
	return info.State.Msgs
}

// testLogger sends log lines to the test's log (shown with -v or on
// failure).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	defer func() { recover() }() // a line logged after the test ended is dropped
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func jsFor(t testing.TB, n *natsNode) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(connect(t, n))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func jobsInStream(js jetstream.JetStream) uint64 {
	s, err := js.Stream(context.Background(), jobsStream)
	if err != nil {
		return 1 << 62
	}
	return streamMsgs(s)
}

// TestProgressAndInterrupt: through NATS, /progress follows the worker's
// steps and /interrupt reaches it; the answer keeps the finished
// iteration and, as A1111, the interrupted one's images as far as they got.
func TestProgressAndInterrupt(t *testing.T) {
	e := tinyEngine(t)
	n := startNATS(t)
	hold := &gatedRunner{Runner: e, iteration: 1, step: 2, reached: make(chan struct{}), release: make(chan struct{})}
	startWorker(t, n, hold, e.Info, Options{})
	_, hs := startFrontEnd(t, n, e.Info, Options{}, 0)
	pending := post(context.Background(), hs.URL, `{"prompt": "a cat", "width": 64, "height": 64, "steps": 30, "n_iter": 2, "seed": 40}`)
	<-hold.reached
	waitFor(t, "the second iteration's progress", 30*time.Second, func() bool {
		b, err := httpGet(hs.URL + "/sdapi/v1/progress")
		if err != nil {
			return false
		}
		var p struct {
			Progress float64 `json:"progress"`
			State    struct {
				JobNo        int `json:"job_no"`
				SamplingStep int `json:"sampling_step"`
			} `json:"state"`
		}
		json.Unmarshal(b, &p)
		return p.State.JobNo == 1 && p.State.SamplingStep == 2 && p.Progress == (1+2.0/30)/2
	})
	if code, _, err := postStatus(hs.URL + "/sdapi/v1/interrupt"); err != nil || code != 200 {
		t.Fatalf("interrupt: %d %v", code, err)
	}
	// The interrupt travels as a NATS message; give it time to arrive
	// before the job moves on.
	waitFor(t, "the interrupt to reach the worker", 10*time.Second, func() bool { return hold.interrupted() })
	close(hold.release)
	a := <-pending
	got := images(t, a)
	var r struct{ Info string }
	json.Unmarshal(a.body, &r)
	var info struct {
		AllSeeds []uint64 `json:"all_seeds"`
	}
	json.Unmarshal([]byte(r.Info), &info)
	if len(got) != 2 || len(info.AllSeeds) != 2 || info.AllSeeds[0] != 40 || info.AllSeeds[1] != 41 {
		t.Errorf("%d images, seeds %v; want the finished iteration's and the interrupted one's (40, 41)", len(got), info.AllSeeds)
	}
}

func postStatus(url string) (int, []byte, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// gatedRunner holds its job at one step until the test releases it, and
// remembers whether an interrupt reached the job.
type gatedRunner struct {
	server.Runner
	iteration, step int
	reached         chan struct{}
	release         chan struct{}
	once            sync.Once
	mu              sync.Mutex
	ctl             *server.Control
}

func (g *gatedRunner) Run(ctx context.Context, s *server.Spec, ctl *server.Control, progress func(server.Progress)) (*server.Output, error) {
	g.mu.Lock()
	g.ctl = ctl
	g.mu.Unlock()
	return g.Runner.Run(ctx, s, ctl, func(p server.Progress) {
		progress(p)
		if p.Iteration == g.iteration && p.Step == g.step {
			g.once.Do(func() {
				close(g.reached)
				<-g.release
			})
		}
	})
}

func (g *gatedRunner) interrupted() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctl == nil {
		return false
	}
	i, _ := g.ctl.State()
	return i
}
