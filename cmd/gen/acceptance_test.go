//go:build unix

package main

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/internal/pngtest"
)

// pngWithParameters writes a small PNG carrying an A1111 parameters text.
func pngWithParameters(t *testing.T, path, params string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := infotext.EncodePNG(&buf, image.NewNRGBA(image.Rect(0, 0, 8, 8)), map[string]string{"parameters": params}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pngBomb writes pngtest.Bomb to path.
func pngBomb(t *testing.T, path string, w, h uint32) string {
	t.Helper()
	if err := os.WriteFile(path, pngtest.Bomb(w, h), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mkfifo makes a named pipe "p" in dir: opening it would block.
func mkfifo(dir string) {
	if err := syscall.Mkfifo(filepath.Join(dir, "p"), 0o644); err != nil {
		panic(err)
	}
}

// TestEveryBadCommand runs each command of the robustness checklist in a
// fresh working folder: none may panic, each must exit with its status and
// say its message (stderr, or stdout for help), and the folder must hold
// afterwards exactly what the command was asked to write.
func TestEveryBadCommand(t *testing.T) {
	model := tinyModel(t)
	fixtures := t.TempDir()
	hugeSize := pngWithParameters(t, filepath.Join(fixtures, "huge.png"),
		"x\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 9223372036854775800x8, RNG: CPU")
	a1111 := pngWithParameters(t, filepath.Join(fixtures, "a1111.png"),
		"x\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 64x64, Model hash: 0123456789, Clip skip: 2, Variation seed: 5")
	bomb := pngBomb(t, filepath.Join(fixtures, "bomb.png"), 200000, 200000)
	gz := filepath.Join(fixtures, "m.safetensors.gz")
	os.WriteFile(gz, []byte{0x1f, 0x8b}, 0o644)
	tiny := []string{"--model", model, "--device", "cpu", "--steps", "2", "--width", "64", "--height", "64", "-q"}

	cases := []struct {
		name  string
		setup func(dir string) // prepares the working folder
		args  []string
		code  int
		want  string   // regexp matched against stderr (stdout for help)
		files []string // what the folder holds afterwards (regexps)
	}{
		{name: "batch max int", args: []string{"-p", "x", "--batch", "9223372036854775807", "--width", "8", "--height", "8"},
			code: 2, want: `^gen: --batch 9223372036854775807: must be from 1 to 64\n$`},
		{name: "width near max int", args: []string{"-p", "x", "--width", "9223372036854775800", "--height", "8"},
			code: 2, want: `--width 9223372036854775800: at most 16384 pixels`},
		{name: "both sides 2^62 with dump", args: []string{"-p", "x", "--width", "4611686018427387904", "--height", "4611686018427387904", "--dump", "d"},
			code: 2, want: `--width 4611686018427387904: at most 16384`},
		{name: "width 2^31", args: []string{"-p", "x", "--width", "2147483648"}, code: 2, want: `--width 2147483648: at most 16384`},
		{name: "width 100000", args: []string{"-p", "x", "--width", "100000"}, code: 2, want: `--width 100000: at most 16384`},
		{name: "batch 1e9", args: []string{"-p", "x", "--batch", "1000000000"}, code: 2, want: `--batch 1000000000: must be from 1 to 64`},
		{name: "64 megapixels exceeded", args: []string{"-p", "x", "--width", "16384", "--height", "16384"},
			code: 2, want: `--width 16384 --height 16384: 268.4 megapixels, at most 67.1`},
		{name: "from PNG with too many pixels", args: []string{"--from", pngWithParameters(t, filepath.Join(fixtures, "big.png"),
			"x\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 16384x16384, RNG: CPU")},
			code: 2, want: `^gen: --from .*big.png \(Size 16384x16384\): 268.4 megapixels`},
		{name: "from PNG with huge Size", args: []string{"--from", hugeSize},
			code: 2, want: `--from .*huge.png \(Size\) 9223372036854775800: at most 16384`},
		{name: "init image bomb", args: []string{"-p", "x", "--init-image", bomb},
			code: 2, want: `--init-image .*bomb.png: the image is 200000x200000`},
		{name: "steps 1001 as typed", args: []string{"-p", "x", "-steps", "1001"}, code: 2, want: `^gen: -steps 1001: must be from 1 to 1000\n$`},
		{name: "vae precision unknown", args: []string{"-p", "x", "--vae-precision", "fp16"},
			code: 2, want: `^gen: --vae-precision "fp16": must be auto, fp32 or bf16\n$`},
		{name: "vae precision bf16 on the cpu", args: []string{"-p", "x", "--device", "cpu", "--vae-precision", "bf16"},
			code: 2, want: `^gen: --vae-precision bf16 needs the GPU: the CPU backend computes the VAE in float32\n$`},
		{name: "unknown flag one line", args: []string{"-p", "x", "--stepz", "3"}, code: 2, want: `^gen: unknown flag --stepz \(see gen -h\)\n$`},
		{name: "bad number", args: []string{"-p", "x", "--width", "wide"}, code: 2, want: `^gen: --width "wide": not a number`},
		{name: "prompt not UTF-8", args: []string{"-p", "a\xffb"}, code: 2, want: `-p: not valid UTF-8`},
		{name: "model is a device", args: []string{"-p", "x", "--model", os.DevNull}, code: 2, want: `not a regular file or folder`},
		{name: "init image a pipe", setup: mkfifo, args: []string{"-p", "x", "--init-image", "p"}, code: 2,
			want: `--init-image: p: not a regular file`, files: []string{`^p$`}},
		{name: "from a pipe", setup: mkfifo, args: []string{"--from", "p"}, code: 2, want: `--from: p: not a regular file`, files: []string{`^p$`}},
		{name: "model a pipe", setup: mkfifo, args: []string{"-p", "x", "--model", "p"}, code: 2, want: `--model p: not a regular file or folder`, files: []string{`^p$`}},
		{name: "inspect a pipe", setup: mkfifo, args: []string{"inspect", "p"}, code: 1, want: `p: not a regular file or folder`, files: []string{`^p$`}},
		{name: "model gzipped", args: []string{"-p", "x", "--model", gz}, code: 2, want: `gunzip it first`},
		{name: "model gzipped beside", setup: func(d string) { os.WriteFile(filepath.Join(d, "t.safetensors.gz"), []byte{0x1f, 0x8b}, 0o644) },
			args: []string{"-p", "x", "--model", "t.safetensors"}, code: 2, want: `t.safetensors.gz is there: gunzip it first`,
			files: []string{`^t\.safetensors\.gz$`}},
		{name: "model missing", args: []string{"-p", "x", "--model", "nope.safetensors"}, code: 2, want: `^gen: --model nope.safetensors: no such file or folder\n$`},
		{name: "jpg output", args: []string{"-p", "x", "--out", "a.jpg"}, code: 2, want: `--out a.jpg: gen writes PNG files`},
		{name: "output below a file", setup: func(d string) { os.WriteFile(filepath.Join(d, "f"), nil, 0o644) },
			args: []string{"-p", "x", "--out", "f/a.png"}, code: 2, want: `--out f/a.png: f is not a folder`, files: []string{`^f$`}},
		{name: "dump is a file", setup: func(d string) { os.WriteFile(filepath.Join(d, "f"), nil, 0o644) },
			args: []string{"-p", "x", "--dump", "f"}, code: 2, want: `--dump f: not a folder`, files: []string{`^f$`}},
		{name: "from-strict refuses", args: []string{"--from", a1111, "--from-strict", "--model", model},
			code: 2, want: `Clip skip 2.*Variation seed.*no RNG field`},
		{name: "help", args: []string{"help"}, code: 0, want: `Usage: gen`},
		{name: "--help", args: []string{"--help"}, code: 0, want: `Usage: gen`},
		{name: "version", args: []string{"--version"}, code: 0, want: `^gen `},
		{name: "pull help", args: []string{"pull", "-h"}, code: 0, want: `--verify`},
		{name: "pull bad flag", args: []string{"pull", "--bogus"}, code: 2, want: `^gen: pull: unknown flag --bogus`},
		{name: "tokenize prompt-syntax", args: []string{"tokenize", "-p", "a", "--prompt-syntax", "none"}, code: 0, want: `syntax: none`},

		// Runs that generate: exactly the file asked for, nothing else.
		{name: "seed -1 is random", args: append([]string{"-p", "x", "--seed", "-1"}, tiny...),
			code: 0, want: `seed: \d+`, files: []string{`^out/\d+\.png$`}},
		{name: "out DIR", setup: func(d string) { os.Mkdir(filepath.Join(d, "imgs"), 0o755) },
			args: append([]string{"-p", "x", "--seed", "5", "--out", "imgs"}, tiny...), code: 0, files: []string{`^imgs/5\.png$`}},
		{name: "diffusers batch with overwrite keeps every image", args: append([]string{"-p", "x", "--seed", "4", "--batch", "2",
			"--compat", "diffusers", "--overwrite"}, tiny...), code: 0, files: []string{`^out/4-1\.png$`, `^out/4-2\.png$`}},
		{name: "never overwritten", setup: func(d string) { os.WriteFile(filepath.Join(d, "a.png"), []byte("mine"), 0o644) },
			args: append([]string{"-p", "x", "--out", "a.png"}, tiny...), code: 0, files: []string{`^a-1\.png$`, `^a\.png$`}},
		{name: "overwrite", setup: func(d string) { os.WriteFile(filepath.Join(d, "a.png"), []byte("mine"), 0o644) },
			args: append([]string{"-p", "x", "--out", "a.png", "--overwrite"}, tiny...), code: 0, files: []string{`^a\.png$`}},
		{name: "from warns", args: append([]string{"--from", a1111}, tiny...),
			code: 0, want: `warning: --from .*Clip skip 2(.|\n)*Variation seed(.|\n)*no RNG field(.|\n)*model hash 0123456789`, files: []string{`^out/1\.png$`}},
		{name: "prompt syntax warns", args: append([]string{"-p", "[a:b:0.5] [c|d]", "--seed", "3"}, tiny...),
			code: 0, want: `prompt editing "\[a:b:0.5\]"(.|\n)*alternation "\[c\|d\]"`, files: []string{`^out/3\.png$`}},
		{name: "diffusers truncation warns", args: append([]string{"-p", strings.Repeat("cat ", 100), "--compat", "diffusers", "--seed", "3"}, tiny...),
			code: 0, want: `25 tokens beyond the first 75 are dropped`, files: []string{`^out/3\.png$`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if c.setup != nil {
				c.setup(dir)
			}
			var code int
			var out, errOut string
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				code, out, errOut = runCapture(t, c.args...)
			}()
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", code, c.code, errOut)
			}
			text := errOut
			if c.code == 0 && out != "" && c.files == nil {
				text = out
			}
			if c.want != "" && !regexp.MustCompile(c.want).MatchString(text) {
				t.Errorf("output %q does not match %q", text, c.want)
			}
			files := listFiles(t, dir)
			if len(files) != len(c.files) {
				t.Fatalf("folder holds %v, want %d files matching %v", files, len(c.files), c.files)
			}
			for i, f := range files {
				if !regexp.MustCompile(c.files[i]).MatchString(filepath.ToSlash(f)) {
					t.Errorf("file %s does not match %s", f, c.files[i])
				}
			}
			if c.name == "overwrite" {
				if b, _ := os.ReadFile(filepath.Join(dir, "a.png")); bytes.Equal(b, []byte("mine")) {
					t.Error("--overwrite left the old file")
				}
			}
			if c.name == "never overwritten" {
				if b, _ := os.ReadFile(filepath.Join(dir, "a.png")); !bytes.Equal(b, []byte("mine")) {
					t.Error(fmt.Sprintf("the existing file was changed to %d bytes", len(b)))
				}
			}
		})
	}
}
