package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/internal/atomicfile"
)

var (
	genBinaryOnce sync.Once
	genBinary     string
	genBinaryErr  error
)

// buildGen builds the gen command once per test run.
func buildGen(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("signals are POSIX")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build gen with (a test binary run on another host)")
	}
	genBinaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gen-bin-")
		if err != nil {
			genBinaryErr = err
			return
		}
		genBinary = filepath.Join(dir, "gen")
		cmd := exec.Command("go", "build", "-o", genBinary, ".")
		cmd.Env = os.Environ()
		if goBuildCache != "" {
			cmd.Env = append(cmd.Env, "GOCACHE="+goBuildCache)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			genBinaryErr = errors.New(string(out))
		}
	})
	if genBinaryErr != nil {
		t.Fatalf("go build: %v", genBinaryErr)
	}
	return genBinary
}

// listFiles returns every file under dir, relative, sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// interruptAt runs gen stalled at a point, sends the signals once it gets
// there, and returns its exit status and stderr.
func interruptAt(t *testing.T, point string, signals []os.Signal, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(buildGen(t), args...)
	cmd.Env = append(os.Environ(), atomicfile.StallEnv+"="+point)
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	reached := make(chan bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if sc.Text() == "stalled at "+point {
				reached <- true
			}
		}
	}()
	select {
	case <-reached:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("never reached %s; stderr:\n%s", point, log.String())
	}
	for _, s := range signals {
		cmd.Process.Signal(s)
		time.Sleep(50 * time.Millisecond)
	}
	waited := make(chan error, 1)
	go func() { <-done; waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 30 s after the signal; stderr:\n%s", log.String())
	}
	return cmd.ProcessState.ExitCode(), log.String()
}

// SIGINT or SIGTERM at each phase stops gen with status 130 and
// "interrupted", leaves no temporary or partial file, and keeps the images
// of a batch finished before it.
func TestInterruptLeavesNoPartialFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gen")
	}
	model := tinyModel(t)
	base := []string{"-p", "x", "--model", model, "--device", "cpu", "--steps", "2",
		"--width", "64", "--height", "64", "--seed", "7"}
	cases := []struct {
		name, point string
		signal      os.Signal
		extra       []string
		kept        []string // files that must survive, relative to the run's folder
	}{
		{"load", "load", os.Interrupt, nil, nil},
		{"sampling", "sampling", syscall.SIGTERM, nil, nil},
		{"png write", "commit:7.png", os.Interrupt, nil, nil},
		{"second image of a batch", "commit:img-2.png", os.Interrupt,
			[]string{"--batch", "2", "--out", "OUT/img.png"}, []string{"img-1.png"}},
		{"dump", "commit:unet.safetensors", os.Interrupt, []string{"--dump", "OUT/dump"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(append([]string{}, base...), c.extra...)
			hasOut := false
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "OUT", dir)
				hasOut = hasOut || a == "--out"
			}
			if !hasOut {
				args = append(args, "--out", dir+string(os.PathSeparator))
			}
			code, log := interruptAt(t, c.point, []os.Signal{c.signal}, args...)
			if code != exitInterrupted || !strings.Contains(log, "gen: interrupted") {
				t.Errorf("exit %d, stderr:\n%s\nwant 130 and interrupted", code, log)
			}
			files := listFiles(t, dir)
			for _, f := range files {
				if strings.Contains(f, ".tmp-") {
					t.Errorf("temporary file %s left behind", f)
				}
			}
			for _, k := range c.kept {
				f, err := os.Open(filepath.Join(dir, k))
				if err != nil {
					t.Errorf("finished image %s lost: %v (files %v)", k, err, files)
					continue
				}
				if _, err := png.Decode(f); err != nil {
					t.Errorf("finished image %s is not a whole PNG: %v", k, err)
				}
				f.Close()
			}
			if c.name != "second image of a batch" && c.name != "dump" && len(files) != 0 {
				t.Errorf("files left: %v", files)
			}
			for _, f := range files {
				if strings.HasSuffix(f, ".safetensors") {
					if _, err := readSafetensorsNames(filepath.Join(dir, f)); err != nil {
						t.Errorf("dump %s is partial: %v", f, err)
					}
				}
			}
		})
	}
}

// A second signal ends gen at once, even while the first one's cleanup
// waits (here on a commit stalled holding the lock the cleanup needs).
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gen")
	}
	dir := t.TempDir()
	code, log := interruptAt(t, "locked:7.png", []os.Signal{os.Interrupt, os.Interrupt},
		"-p", "x", "--model", tinyModel(t), "--device", "cpu", "--steps", "2",
		"--width", "64", "--height", "64", "--seed", "7", "--out", dir+"/")
	if code != exitInterrupted {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, log)
	}
	for _, f := range listFiles(t, dir) {
		if f == "7.png" {
			t.Errorf("an interrupted run committed %s", f)
		}
	}
}

// readSafetensorsNames checks that a safetensors file is whole (its data
// section exactly as long as the header declares) and returns its names.
func readSafetensorsNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 8 {
		return nil, errors.New("shorter than a header")
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > uint64(len(data)-8) {
		return nil, errors.New("header beyond the end")
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		return nil, err
	}
	var names []string
	end := uint64(0)
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			Offsets [2]uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		end = max(end, e.Offsets[1])
		names = append(names, name)
	}
	if end != uint64(len(data))-8-n {
		return nil, fmt.Errorf("data section %d bytes, header declares %d", uint64(len(data))-8-n, end)
	}
	return names, nil
}

// A write that fails part way (the disk full; here the file size limit of
// `ulimit -f`, which makes writes fail with EFBIG) leaves the file that had
// the name, even with --overwrite, and no partial file.
func TestFailedWriteKeepsOldFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gen")
	}
	bin := buildGen(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "a.png")
	os.WriteFile(out, []byte("old"), 0o644)
	cmd := exec.Command("sh", "-c", `ulimit -f 4 && exec "$@"`, "sh", bin, "-p", "x", "--model", tinyModel(t),
		"--device", "cpu", "--steps", "2", "--width", "64", "--height", "64", "--out", out, "--overwrite", "-q")
	msg, err := cmd.CombinedOutput()
	if err == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(msg), "file too large") {
		t.Fatalf("exit %v, output %q; want status 1 and the write error", err, msg)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("the old file now holds %d bytes", len(b))
	}
	if files := listFiles(t, dir); len(files) != 1 {
		t.Errorf("folder holds %v, want the old file alone", files)
	}
}
