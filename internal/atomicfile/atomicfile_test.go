package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestCommitReplacesOnlyWhenComplete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.png")
	os.WriteFile(path, []byte("old"), 0o644)
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new, half written")
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("before Commit the file reads %q", b)
	}
	f.Abort()
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("after Abort the file reads %q", b)
	}
	if got := names(t, dir); len(got) != 1 {
		t.Fatalf("after Abort the folder holds %v", got)
	}
	f, _ = Create(path)
	f.WriteString("new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("after Commit the file reads %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if got := names(t, dir); len(got) != 1 {
		t.Fatalf("after Commit the folder holds %v", got)
	}
}

func TestCommitNewNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	name := func(i int) string {
		if i == 0 {
			return filepath.Join(dir, "a.png")
		}
		return filepath.Join(dir, fmt.Sprintf("a-%d.png", i))
	}
	os.WriteFile(name(0), []byte("old"), 0o644)
	os.WriteFile(name(1), []byte("old1"), 0o644)
	f, _ := Create(name(0))
	f.WriteString("new")
	got, err := f.CommitNew(name, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got != name(2) {
		t.Fatalf("committed as %s, want %s", got, name(2))
	}
	for i, want := range []string{"old", "old1", "new"} {
		if b, _ := os.ReadFile(name(i)); string(b) != want {
			t.Errorf("%s reads %q, want %q", name(i), b, want)
		}
	}
	if n := names(t, dir); len(n) != 3 {
		t.Fatalf("folder holds %v", n)
	}
}

func TestProbe(t *testing.T) {
	dir := t.TempDir()
	if err := Probe(dir); err != nil {
		t.Fatal(err)
	}
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("Probe left %v", n)
	}
	if err := Probe(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Probe of a missing folder succeeded")
	}
}
