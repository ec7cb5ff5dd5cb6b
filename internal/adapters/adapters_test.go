package adapters

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/lora"
)

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"mystyle", "other"} {
		if err := os.WriteFile(filepath.Join(dir, n+".safetensors"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tags := []lora.Tag{{Name: "mystyle", Text: 1, UNet: 0.5}, {Name: "given", Text: 1, UNet: 1}}
	ls, err := Locate(tags, dir, map[string]string{"given": "/elsewhere/given.safetensors"})
	if err != nil || len(ls) != 2 || ls[0].Path != filepath.Join(dir, "mystyle.safetensors") || ls[1].Path != "/elsewhere/given.safetensors" || ls[0].Tag.UNet != 0.5 {
		t.Fatalf("%+v %v", ls, err)
	}
	_, err = Locate([]lora.Tag{{Name: "mystyel"}}, dir, nil)
	var ne *NameError
	if !errors.As(err, &ne) || ne.Name != "mystyel" || !strings.Contains(err.Error(), "did you mean mystyle") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := Locate([]lora.Tag{{Name: "other"}, {Name: "other"}}, dir, nil); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("a name twice: %v", err)
	}
	h, err := Hashes(ls[:1], func(string) (string, error) { return "0123456789ab", nil })
	if err != nil || h != "mystyle: 0123456789ab" {
		t.Errorf("Hashes: %q %v", h, err)
	}
	if InfotextName("a:b,c") != "abc" {
		t.Errorf("InfotextName %q", InfotextName("a:b,c"))
	}
}

// A file changed in place is hashed again; an unchanged one is not.
func TestHashCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.safetensors")
	if err := os.WriteFile(path, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	c := &HashCache{Hash: func(p string) (string, error) {
		calls++
		b, err := os.ReadFile(p)
		return string(b), err
	}}
	for i := 0; i < 2; i++ {
		if h, err := c.Get(path); err != nil || h != "one" {
			t.Fatalf("%q %v", h, err)
		}
	}
	if calls != 1 {
		t.Errorf("hashed %d times, want 1", calls)
	}
	if err := os.WriteFile(path, []byte("two!"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, time.Now(), time.Now().Add(time.Second))
	if h, err := c.Get(path); err != nil || h != "two!" || calls != 2 {
		t.Errorf("after a change: %q %v, %d hashes", h, err, calls)
	}
	if _, err := c.Get(path + ".missing"); err == nil {
		t.Error("a missing file has a hash")
	}
}
