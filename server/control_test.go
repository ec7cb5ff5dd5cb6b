package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"io"
	"net/http"
	"strings"
	"testing"
)

func getProgress(t *testing.T, url string) progressResponse {
	t.Helper()
	_, _, body := call(t, "GET", url+"/sdapi/v1/progress", nil)
	var p progressResponse
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProgressSkipInterrupt runs three batch iterations on the tiny
// model: /progress follows them, /skip ends the first after its second
// step, the second finishes, /interrupt ends the third after its second
// step. As A1111, the answer holds all three: the stopped iterations'
// images as far as they got (their last prediction), the second's whole.
func TestProgressSkipInterrupt(t *testing.T) {
	e := tinyEngine(t)
	hold0 := newGatedRunner(e, 0, 2)
	hold2 := newGatedRunner(hold0, 2, 2)
	_, hs := startServer(t, Config{Runner: hold2, Model: e.Info})
	type answer struct {
		code int
		body []byte
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := http.Post(hs.URL+"/sdapi/v1/txt2img", "application/json", strings.NewReader(
			`{"prompt": "a cat", "width": 64, "height": 64, "steps": 30, "n_iter": 3, "seed": 100}`))
		if err != nil {
			done <- answer{-1, []byte(err.Error())}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{resp.StatusCode, b}
	}()
	<-hold0.reached
	p := getProgress(t, hs.URL)
	if p.State.JobNo != 0 || p.State.JobCount != 3 || p.State.SamplingStep != 2 || p.State.SamplingSteps != 30 ||
		p.Progress != 2.0/30/3 {
		t.Errorf("progress in the first iteration: %+v", p)
	}
	if p.State.Job == "" || p.State.JobTimestamp == "" {
		t.Errorf("progress names no job: %+v", p.State)
	}
	call(t, "POST", hs.URL+"/sdapi/v1/skip", nil)
	close(hold0.release)
	<-hold2.reached
	p = getProgress(t, hs.URL)
	if p.State.JobNo != 2 || p.State.SamplingStep != 2 || !(p.Progress > 2.0/3 && p.Progress < 1) || p.ETARelative <= 0 {
		t.Errorf("progress in the third iteration: %+v", p)
	}
	call(t, "POST", hs.URL+"/sdapi/v1/interrupt", nil)
	close(hold2.release)
	a := <-done
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	var res struct {
		Images []string
		Info   string
	}
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	var info generationInfo
	json.Unmarshal([]byte(res.Info), &info)
	if len(res.Images) != 3 || len(info.AllSeeds) != 3 || info.AllSeeds[0] != 100 || info.AllSeeds[2] != 102 {
		t.Fatalf("%d images, seeds %v; want the three iterations' (seeds 100-102)", len(res.Images), info.AllSeeds)
	}
	for i, img := range res.Images {
		png, _ := base64.StdEncoding.DecodeString(img)
		text, _ := infotext.ReadPNGText(bytes.NewReader(png))
		if pp, _ := infotext.Parse(text["parameters"]); pp.Seed != 100+uint64(i) {
			t.Errorf("image %d: PNG seed %d", i, pp.Seed)
		}
	}
	if v := metricValue(t, hs.URL, `gosdxl_jobs_total{outcome="interrupted"}`); v != 1 {
		t.Errorf("interrupted jobs metric %v", v)
	}
	if p := getProgress(t, hs.URL); p.Progress != 0 || p.State.Job != "" {
		t.Errorf("progress when idle: %+v", p)
	}
}
