package weights

import "strings"

// countIndexed counts the numbered children under prefix: for prefix
// "down_blocks." and names down_blocks.0.x ... down_blocks.2.y it returns 3
// (one more than the largest index found; 0 when there is none).
func countIndexed(names []string, prefix string) int {
	count := 0
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		digits, _, found := strings.Cut(rest, ".")
		if !found || digits == "" || len(digits) > 6 {
			continue
		}
		i := 0
		for _, ch := range digits {
			if ch < '0' || ch > '9' {
				i = -1
				break
			}
			i = i*10 + int(ch-'0')
		}
		if i >= count {
			count = i + 1
		}
	}
	return count
}
