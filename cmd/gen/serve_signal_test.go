package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/server"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// TestServeSIGTERM: on SIGTERM gen serve finishes the running job and
// answers it, refuses new connections, and returns without error (exit
// status 0).
func TestServeSIGTERM(t *testing.T) {
	engine, err := server.NewEngine(tinyModel(t), cpu.New())
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	srv, err := server.New(server.Config{Runner: engine, Model: engine.Info})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- serveUntilSignal(ln, srv, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	type answer struct {
		code int
		err  error
	}
	running := make(chan answer, 1)
	go func() {
		resp, err := http.Post(url+"/sdapi/v1/txt2img", "application/json",
			strings.NewReader(`{"prompt": "a cat", "width": 64, "height": 64, "steps": 40, "seed": 1}`))
		if err != nil {
			running <- answer{0, err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		running <- answer{resp.StatusCode, nil}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/sdapi/v1/progress")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), `"sampling_step":0`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the job never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if a := <-running; a.err != nil || a.code != 200 {
		t.Errorf("the running job: %d %v, want 200", a.code, a.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after SIGTERM")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}
