package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progressBar draws "label [#####-----] 12/28  1.85 it/s  ETA 0:08" on one
// terminal line. It draws nothing when disabled (-q, or stderr is not a
// terminal: logs and pipes get no carriage-return noise).
type progressBar struct {
	w       io.Writer
	label   string
	enabled bool
	start   time.Time
	unit    string // "it" for steps, "MB" for downloads
	scale   float64
	// resumed: the first update's amount was done before this run (a
	// resumed download), so the rate counts only what follows.
	resumed  bool
	base     int64
	started  bool // drawn at least once
	finished bool
	drawn    time.Time // last redraw
}

// stderrIsTerminal is a variable so tests can pretend.
var stderrIsTerminal = func() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

func newProgressBar(w io.Writer, label string, quiet bool) *progressBar {
	return &progressBar{w: w, label: label, enabled: !quiet && stderrIsTerminal(), start: time.Now(), unit: "it", scale: 1}
}

// update redraws the bar for done of total (total < 0: unknown).
func (p *progressBar) update(done, total int64) {
	if !p.enabled {
		return
	}
	if !p.started {
		p.started = true
		if p.resumed {
			p.base = done
		}
	}
	// Hashing and downloads report every 32 KiB: redraw at most ten
	// times a second, and at the end.
	now := time.Now()
	if now.Sub(p.drawn) < 100*time.Millisecond && done != total {
		return
	}
	p.drawn = now
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done-p.base) / p.scale / elapsed
	}
	const width = 30
	var line string
	if total > 0 {
		filled := int(float64(width) * float64(done) / float64(total))
		eta := "?"
		if rate > 0 {
			eta = formatDuration(float64(total-done) / p.scale / rate)
		}
		line = fmt.Sprintf("%s [%s%s] %s/%s  %.2f %s/s  ETA %s", p.label,
			strings.Repeat("#", filled), strings.Repeat("-", width-filled),
			p.amount(done), p.amount(total), rate, p.unit, eta)
	} else {
		line = fmt.Sprintf("%s %s  %.2f %s/s", p.label, p.amount(done), rate, p.unit)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

func (p *progressBar) amount(n int64) string {
	if p.scale == 1 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%.0f", float64(n)/p.scale)
}

// finish ends the bar's line, once however often it is called.
func (p *progressBar) finish() {
	if p.enabled && p.started && !p.finished {
		fmt.Fprintln(p.w)
	}
	p.finished = true
}

func formatDuration(sec float64) string {
	s := int(sec + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
