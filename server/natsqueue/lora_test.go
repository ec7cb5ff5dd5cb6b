package natsqueue

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/server"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// TestLoRAThroughWorker: the worker advertises its LoRA folder's names; a
// prompt's LoRA tag is resolved on the worker, in that folder, and the
// front end answers with the PNG a local server makes; an unknown name is
// answered at once with the local server's 422, not retried and
// dead-lettered.
func TestLoRAThroughWorker(t *testing.T) {
	ckpt := refdata.TinyCheckpoint(t)
	e, err := server.NewEngine(ckpt, cpu.New())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dir := t.TempDir()
	if _, err := loratest.WriteSmall(ckpt, dir, "mystyle", nil); err != nil {
		t.Fatal(err)
	}
	e.UseAdapterDirs(dir, "", nil)
	n := startNATS(t)
	w, err := NewWorker(connect(t, n), e, e.Info, "cpu", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.AdvertiseLoRAs(func() []string { names, _ := lora.List(dir); return names })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	c, hs := startFrontEnd(t, n, e.Info, Options{}, 0)
	waitFor(t, "the worker's LoRA list", 10*time.Second, func() bool {
		ws, _ := c.Workers(context.Background())
		return len(ws) == 1 && strings.Join(ws[0].LoRAs, ",") == "mystyle"
	})
	if names, err := c.LoRAs(context.Background(), e.Info.Name); err != nil || strings.Join(names, ",") != "mystyle" {
		t.Errorf("the front end's list of the workers' LoRAs: %v %v", names, err)
	}
	if names, _ := c.LoRAs(context.Background(), "another-model"); len(names) != 0 {
		t.Errorf("LoRAs of a model no worker has: %v", names)
	}
	body := `{"prompt": "a cat <lora:mystyle:0.8>", "width": 64, "height": 64, "steps": 2, "seed": 4}`
	got := images(t, <-post(context.Background(), hs.URL, body))
	want := images(t, <-post(context.Background(), localURL(t, e), body))
	if len(got) != 1 || len(want) != 1 || !bytes.Equal(got[0], want[0]) || !bytes.Contains(got[0], []byte(`Lora hashes: "mystyle: `)) {
		t.Errorf("the worker's PNG differs from the local server's or lacks the Lora hashes")
	}
	a := <-post(context.Background(), hs.URL, `{"prompt": "a cat <lora:mystyel:1>", "width": 64, "height": 64, "steps": 1}`)
	if a.code != 422 || !strings.Contains(string(a.body), "did you mean mystyle") {
		t.Errorf("unknown LoRA through NATS: %d %s", a.code, a.body)
	}
}

// TestRefusalNotRetried: a job refused for its content is run once and
// its status reaches the client.
func TestRefusalNotRetried(t *testing.T) {
	n := startNATS(t)
	r := &scriptedRunner{runs: map[string]int{}, fail: server.RequestError(422, "prompt: no such LoRA")}
	opts := Options{MaxDeliver: 3}
	startWorker(t, n, r, server.ModelInfo{Name: "m"}, opts)
	_, hs := startFrontEnd(t, n, server.ModelInfo{Name: "m"}, opts, 0)
	a := <-post(context.Background(), hs.URL, `{"prompt": "x", "steps": 2}`)
	if a.code != 422 || !strings.Contains(string(a.body), "no such LoRA") {
		t.Fatalf("%d %s", a.code, a.body)
	}
	if r.total() != 1 {
		t.Errorf("ran %d times, want 1", r.total())
	}
}
