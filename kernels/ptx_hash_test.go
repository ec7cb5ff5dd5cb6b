package kernels

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The committed PTX must come from the current kernel sources: this catches a
// .cu edited without `make ptx` on machines that have no nvcc. The first line
// of each PTX (inside its .ptx.gz) is written by scripts/ptx.sh; this test
// recomputes it.

var localInclude = regexp.MustCompile(`(?m)^\s*#\s*include\s*"([^"]+)"`)

// localHeaders lists the cuda/*.cuh files that file includes, transitively, sorted.
func localHeaders(t *testing.T, file string) []string {
	seen := map[string]bool{}
	todo := []string{file}
	for len(todo) > 0 {
		src, err := os.ReadFile(todo[0])
		if err != nil {
			t.Fatal(err)
		}
		todo = todo[1:]
		for _, m := range localInclude.FindAllStringSubmatch(string(src), -1) {
			h := "cuda/" + m[1]
			if !seen[h] {
				seen[h] = true
				todo = append(todo, h)
			}
		}
	}
	var out []string
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

func expectedHashLine(t *testing.T, cu string) string {
	files := append([]string{cu}, localHeaders(t, cu)...)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	return "// gosdxl-source-sha256: " + hex.EncodeToString(h.Sum(nil)) + " (" + strings.Join(files, " + ") + ")"
}

// committedPTX reads ptx/<module>.ptx.gz as PTX text, as the backend loads it.
func committedPTX(module string) ([]byte, error) {
	gz, err := os.ReadFile("ptx/" + module + ".ptx.gz")
	if err != nil {
		return nil, err
	}
	return gunzipPTX(module, gz)
}

func TestCommittedPTXMatchesSources(t *testing.T) {
	sources, _ := filepath.Glob("cuda/*.cu")
	if len(sources) == 0 {
		t.Fatal("no kernel sources in cuda/")
	}
	for _, cu := range sources {
		name := strings.TrimSuffix(filepath.Base(cu), ".cu")
		ptx, err := committedPTX(name)
		if os.IsNotExist(err) {
			t.Errorf("%s has no ptx/%s.ptx.gz: run make ptx", cu, name)
			continue
		}
		if err != nil {
			t.Error(err)
			continue
		}
		first, _, _ := bytes.Cut(ptx, []byte("\n"))
		if want := expectedHashLine(t, cu); string(first) != want {
			t.Errorf("ptx/%s.ptx.gz is stale: its first line is\n\t%s\nbut the sources give\n\t%s\nrun make ptx", name, first, want)
		}
	}
	compiled, _ := filepath.Glob("ptx/*.ptx.gz")
	for _, p := range compiled {
		name := strings.TrimSuffix(filepath.Base(p), ".ptx.gz")
		if _, err := os.Stat("cuda/" + name + ".cu"); err != nil {
			t.Errorf("%s has no source cuda/%s.cu: delete it", p, name)
		}
	}
}
