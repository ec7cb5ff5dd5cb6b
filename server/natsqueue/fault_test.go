package natsqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/server"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// Environment of a worker process: the test binary started again.
const (
	envWorkerURL   = "GOSDXL_TEST_WORKER_NATS"
	envWorkerModel = "GOSDXL_TEST_WORKER_MODEL"
	// envWorkerHang makes the worker stop at step 2 of its first job and
	// wait there forever: the test kills it in the middle of that job.
	envWorkerHang = "GOSDXL_TEST_WORKER_HANG"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(envWorkerURL); url != "" {
		os.Exit(workerProcess(url, os.Getenv(envWorkerModel)))
	}
	os.Exit(m.Run())
}

// workerProcess is what `gen worker` does, on the tiny model.
func workerProcess(url, model string) int {
	e, err := server.NewEngine(model, cpu.New())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	nc, err := Connect(url, "test-worker", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var r server.Runner = e
	if os.Getenv(envWorkerHang) != "" {
		r = &gatedRunner{Runner: e, iteration: 0, step: 2, reached: make(chan struct{}), release: make(chan struct{})}
	}
	w, err := NewWorker(nc, r, e.Info, "cpu", nil, faultOpts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	w.Run(ctx)
	return 0
}

// faultOpts redeliver a silent worker's job after 2 s.
var faultOpts = Options{AckWait: 2 * time.Second, MaxDeliver: 3}

func spawnWorker(t *testing.T, n *natsNode, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorkerURL+"="+n.url(), envWorkerModel+"="+refdata.TinyCheckpoint(t))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	spawned = append(spawned, cmd)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// spawned are the worker processes of the running test.
var spawned []*exec.Cmd

// TestFaults runs gen serve's NATS mode across processes and breaks it:
// a worker is SIGKILLed in the middle of a job, which another worker then
// finishes (the client gets one answer, the right image); then NATS itself
// restarts with jobs queued and no worker running, and the jobs are still
// there and answered once a worker comes. It runs on the embedded server
// and, where installed, on the nats-server binary.
func TestFaults(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testFaults(t, startNATS(t)) })
	t.Run("nats-server binary", func(t *testing.T) {
		if _, err := exec.LookPath("nats-server"); err != nil {
			t.Skip("no nats-server binary (Debian: apt-get install nats-server)")
		}
		testFaults(t, startNATSBinary(t))
	})
}

func testFaults(t *testing.T, n *natsNode) {
	e := tinyEngine(t)
	c, hs := startFrontEnd(t, n, e.Info, faultOpts, 0)

	// A worker dies mid-job.
	first := spawnWorker(t, n, envWorkerHang+"=1")
	waitFor(t, "the first worker", 60*time.Second, func() bool { ws, _ := c.Workers(context.Background()); return len(ws) == 1 })
	body := `{"prompt": "a job", "width": 64, "height": 64, "steps": 20, "seed": 5}`
	pending := post(context.Background(), hs.URL, body)
	// The first worker holds the job at step 2 (and keeps sending
	// in-progress acks) until it is killed.
	waitFor(t, "the job to reach step 2", 60*time.Second, func() bool { return progressStep(t, hs.URL) == 2 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	spawnWorker(t, n)
	got := images(t, <-pending)
	want := localImages(t, e, body)
	if len(got) != 1 || !bytes.Equal(got[0], want[0]) {
		t.Fatalf("after the worker's death: %d images, equal to a local run: %v", len(got), len(got) == 1 && bytes.Equal(got[0], want[0]))
	}
	select {
	case a := <-pending:
		t.Fatalf("a second answer: %d", a.code)
	default:
	}

	// NATS restarts while jobs wait and no worker runs.
	stopWorkers(t)
	var waiting []chan answer
	for i := 0; i < 2; i++ {
		waiting = append(waiting, post(context.Background(), hs.URL,
			fmt.Sprintf(`{"prompt": "queued", "width": 64, "height": 64, "steps": 2, "seed": %d}`, 50+i)))
	}
	js := jsFor(t, n)
	waitFor(t, "two queued jobs", 30*time.Second, func() bool { return jobsInStream(js) == 2 })
	n.restart()
	spawnWorker(t, n)
	for i, w := range waiting {
		a := <-w
		if a.code != 200 {
			t.Fatalf("queued job %d after the restart: %d %s", i, a.code, a.body)
		}
		var r struct{ Info string }
		json.Unmarshal(a.body, &r)
		var info struct{ Seed uint64 }
		json.Unmarshal([]byte(r.Info), &info)
		if info.Seed != uint64(50+i) {
			t.Errorf("queued job %d answered with seed %d", i, info.Seed)
		}
	}
}

func progressStep(t *testing.T, url string) int {
	resp, err := httpGet(url + "/sdapi/v1/progress")
	if err != nil {
		return 0
	}
	var p struct {
		State struct {
			SamplingStep int `json:"sampling_step"`
		} `json:"state"`
	}
	json.Unmarshal(resp, &p)
	return p.State.SamplingStep
}

// stopWorkers ends the worker processes started so far, gracefully.
func stopWorkers(t *testing.T) {
	t.Helper()
	for _, cmd := range spawned {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	spawned = nil
}

// startNATSBinary runs Debian's nats-server with JetStream on file
// storage, restartable on the same port and directory.
func startNATSBinary(t *testing.T) *natsNode {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	n := &natsNode{t: t, dir: t.TempDir(), port: port, binary: true}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsNode) startBinary() {
	n.t.Helper()
	n.cmd = exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-js", "-sd", n.dir)
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(n.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatal("nats-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
