package lora

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Find returns the path of NAME.safetensors in dir, or an error listing
// the closest names there when there is none.
func Find(dir, name, what string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".safetensors")
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return path, nil
	}
	names, err := List(dir)
	if err != nil {
		return "", fmt.Errorf("%s %q: %v", what, name, err)
	}
	close := closeMatches(name, names)
	msg := fmt.Sprintf("%s %q: no %s.safetensors in %s", what, name, name, dir)
	if len(close) > 0 {
		msg += " (did you mean " + strings.Join(close, ", ") + "?)"
	} else if len(names) == 0 {
		msg += " (the folder has no .safetensors files)"
	}
	return "", fmt.Errorf("%s", msg)
}

// List names the .safetensors files of dir, without extension, sorted.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".safetensors"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// closeMatches picks up to five names that differ from name by case, by
// containing it, or by a small edit distance.
func closeMatches(name string, names []string) []string {
	type cand struct {
		n string
		d int
	}
	var cs []cand
	low := strings.ToLower(name)
	for _, n := range names {
		l := strings.ToLower(n)
		d := editDistance(low, l)
		if l == low || strings.Contains(l, low) || strings.Contains(low, l) {
			d = 0
		}
		if d <= max(2, len(name)/3) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 5; i++ {
		out = append(out, cs[i].n)
	}
	return out
}

// editDistance is the Levenshtein distance over runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
