package server

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLivePreviews: with show_progress_every_n_steps 2, /progress has no
// current_image after step 1, a PNG of the 8×8 latent after step 2, the
// same one after step 3, and none with ?skip_current_image=true.
func TestLivePreviews(t *testing.T) {
	e := tinyEngine(t)
	at1 := newGatedRunner(e, 0, 1)
	at2 := newGatedRunner(at1, 0, 2)
	at3 := newGatedRunner(at2, 0, 3)
	_, hs := startServer(t, Config{Runner: at3, Model: e.Info})
	if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/options", map[string]any{"show_progress_every_n_steps": 2}); code != 200 {
		t.Fatalf("setting the period: %d %s", code, body)
	}
	_, _, body := call(t, "GET", hs.URL+"/sdapi/v1/options", nil)
	if !strings.Contains(string(body), `"show_progress_every_n_steps":2`) || !strings.Contains(string(body), `"live_previews_enable":true`) {
		t.Errorf("options do not show the preview settings: %s", body)
	}
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post(hs.URL+"/sdapi/v1/txt2img", "application/json", strings.NewReader(
			`{"prompt": "a cat", "width": 64, "height": 64, "steps": 4, "seed": 5}`))
		if err != nil {
			done <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()

	<-at1.reached
	if p := getProgress(t, hs.URL); p.CurrentImage != nil {
		t.Errorf("a preview after step 1 of a 2-step period")
	}
	close(at1.release)
	<-at2.reached
	first := getProgress(t, hs.URL).CurrentImage
	if first == nil {
		t.Fatal("no preview after step 2")
	}
	raw, err := base64.StdEncoding.DecodeString(*first)
	if err != nil {
		t.Fatalf("current_image is not base64: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("current_image is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 8 || b.Dy() != 8 {
		t.Errorf("preview %v, want the 8×8 latent of a 64×64 image", b)
	}
	_, _, skipped := call(t, "GET", hs.URL+"/sdapi/v1/progress?skip_current_image=true", nil)
	if !strings.Contains(string(skipped), `"current_image":null`) {
		t.Errorf("skip_current_image=true still sent an image: %.200s", skipped)
	}
	close(at2.release)
	<-at3.reached
	if p := getProgress(t, hs.URL); p.CurrentImage == nil || *p.CurrentImage != *first {
		t.Error("after step 3 the step-2 preview should still be shown")
	}
	close(at3.release)
	if code := <-done; code != 200 {
		t.Fatalf("txt2img answered %d", code)
	}
}

// TestLivePreviewsOff: live_previews_enable false makes none.
func TestLivePreviewsOff(t *testing.T) {
	e := tinyEngine(t)
	at2 := newGatedRunner(e, 0, 2)
	_, hs := startServer(t, Config{Runner: at2, Model: e.Info})
	call(t, "POST", hs.URL+"/sdapi/v1/options", map[string]any{"show_progress_every_n_steps": 1, "live_previews_enable": false})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.Post(hs.URL+"/sdapi/v1/txt2img", "application/json", strings.NewReader(
			`{"prompt": "a cat", "width": 64, "height": 64, "steps": 3}`)); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-at2.reached
	if p := getProgress(t, hs.URL); p.CurrentImage != nil {
		t.Error("a preview with live_previews_enable false")
	}
	close(at2.release)
	<-done
}

// TestPreviewOptionsRejectBadValues: a wrong type or period is a 422 naming
// the option, and changes nothing (not even the valid option beside it).
func TestPreviewOptionsRejectBadValues(t *testing.T) {
	e := tinyEngine(t)
	_, hs := startServer(t, Config{Runner: e, Model: e.Info})
	for _, c := range []struct {
		opts map[string]any
		name string
	}{
		{map[string]any{"live_previews_enable": "yes", "show_progress_every_n_steps": 3}, "live_previews_enable"},
		{map[string]any{"show_progress_every_n_steps": 2.5, "live_previews_enable": false}, "show_progress_every_n_steps"},
		{map[string]any{"show_progress_every_n_steps": -2}, "show_progress_every_n_steps"},
		{map[string]any{"show_progress_every_n_steps": "10"}, "show_progress_every_n_steps"},
	} {
		code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/options", c.opts)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), c.name) {
			t.Errorf("%v: %d %s, want 422 naming %s", c.opts, code, body, c.name)
		}
	}
	_, _, body := call(t, "GET", hs.URL+"/sdapi/v1/options", nil)
	if !strings.Contains(string(body), `"show_progress_every_n_steps":10`) || !strings.Contains(string(body), `"live_previews_enable":true`) {
		t.Errorf("a refused request changed the settings: %s", body)
	}
}
