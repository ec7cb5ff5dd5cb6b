package server

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the headless browser the web page test drives.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on this machine (Debian: apt-get install chromium); the web page test needs a real browser")
	return ""
}

// TestWebPage drives the page at / in headless Chromium: it fills the
// form, generates with the tiny model, watches the progress bar move, and
// finds the image, its parameters and the history entry.
func TestWebPage(t *testing.T) {
	browser := findChromium(t)
	e := tinyEngine(t)
	hold := newGatedRunner(e, 0, 10) // the job waits at step 10 of 40 until the page shows it
	_, hs := startServer(t, Config{Runner: hold, Model: e.Info})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("headless", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(hs.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("generate")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#sampler option").length > 0 && document.getElementById("model").textContent !== "…"`),
		chromedp.SetValue(chromedp.ID("prompt"), "1girl, smile"),
		chromedp.SetValue(chromedp.ID("negative"), "lowres"),
		chromedp.SetValue(chromedp.ID("width"), "64"),
		chromedp.SetValue(chromedp.ID("height"), "64"),
		chromedp.SetValue(chromedp.ID("steps"), "40"),
		chromedp.SetValue(chromedp.ID("cfg"), "6"),
		chromedp.SetValue(chromedp.ID("sampler"), "DPM++ 2M"),
		chromedp.SetValue(chromedp.ID("scheduler"), "karras"),
		chromedp.SetValue(chromedp.ID("seed"), "77"),
		chromedp.Click(chromedp.ID("generate")),
	)
	if err != nil {
		t.Fatal(err)
	}
	model, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("model")))
	if err != nil {
		t.Fatal(err)
	}
	if model != e.Info.Title() {
		t.Errorf("page names the model %q, want %q", model, e.Info.Title())
	}
	// The bar shows the server's progress while the job is held at step 10.
	<-hold.reached
	partial, err := chromedp.Run(ctx, chromedp.Poll[float64](`document.getElementById("progress").value === 0.25 &&
		document.getElementById("status").textContent.startsWith("step 10 of 40") && 0.25`))
	close(hold.release)
	if err != nil {
		t.Fatalf("the page never showed step 10 of 40: %v", err)
	}
	if partial != 0.25 {
		t.Errorf("progress bar at %v", partial)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#result img") !== null`)); err != nil {
		t.Fatal(err)
	}
	type pageState struct {
		Params, Status string
		Width, History int
		Bar            float64
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](`new Promise(resolve => {
		const img = document.querySelector("#result img");
		const report = () => resolve({
			Params: document.getElementById("params").textContent,
			Status: document.getElementById("status").textContent,
			Width: img.naturalWidth,
			History: document.querySelectorAll("#history img").length,
			Bar: document.getElementById("progress").value,
		});
		img.complete ? report() : img.onload = report;
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1girl, smile", "Negative prompt: lowres", "Steps: 40", "Sampler: DPM++ 2M",
		"Schedule type: Karras", "CFG scale: 6", "Seed: 77", "Size: 64x64"} {
		if !strings.Contains(st.Params, want) {
			t.Errorf("parameters shown lack %q:\n%s", want, st.Params)
		}
	}
	if st.Width != 64 || st.History != 1 || st.Bar != 1 || !strings.Contains(st.Status, "seed 77") {
		t.Errorf("page after generating: %+v", st)
	}
}
