package kernels

import (
	"fmt"
	"strings"
	"testing"
)

// A model of shared-memory banks, run on the access patterns of the
// tensor-core tile (cuda/gemm_tile.cuh) over Go mirrors of its address
// functions: the kernels' shared layouts must serve every warp-wide access
// in the fewest wavefronts its bytes allow. The kernel emulation (make
// kernels-emulate) shows the other half: that the CUDA readers use the
// writers' function, or the products come out wrong.

// tileChunkOffset mirrors tile::chunk_offset (cuda/gemm_tile.cuh): the
// element offset of 16-byte chunk `chunk` of row `row` of a ring tile.
func tileChunkOffset(row, chunk int) int { return row*tileK + (chunk^((row>>1)&3))*8 }

// smemBanks is the bank model: 32 banks of 4-byte words, 128 bytes per
// wavefront. A warp's access of `width` bytes per thread is served in
// phases of 128/width threads (lanes 0-7, 8-15, ... for 16 bytes, which is
// also how ldmatrix.x4 reads its four 8x8 matrices); within a phase, a bank
// holding several different words needs a wavefront for each (threads
// reading the same word share it). The result is the sum over phases.
func smemWavefronts(addrs []int, width int) int {
	perPhase := 128 / width
	total := 0
	for p := 0; p < len(addrs); p += perPhase {
		words := make([]map[int]bool, 32)
		for _, a := range addrs[p:min(p+perPhase, len(addrs))] {
			for w := a / 4; w < (a+width)/4; w++ {
				if words[w%32] == nil {
					words[w%32] = map[int]bool{}
				}
				words[w%32][w] = true
			}
		}
		most := 0
		for _, ws := range words {
			most = max(most, len(ws))
		}
		total += most
	}
	return total
}

// tileWarpGrid mirrors tile::Shape's warp layout.
type tileWarpGrid struct{ BM, BN, WM, WN, WTM, WTN, MT, NT int }

func warpGrid(t blockTile) tileWarpGrid {
	g := tileWarpGrid{BM: t.M, BN: t.N, WN: t.N / 32}
	g.WM = 8 / g.WN
	g.WTM, g.WTN = t.M/g.WM, t.N/g.WN
	g.MT, g.NT = g.WTM/16, g.WTN/8
	return g
}

// access is one warp-wide shared-memory instruction: byte addresses by lane.
type access struct {
	what  string
	addrs []int
	width int
}

// ringAccesses lists every warp instruction of the main loop on one stage of
// the ring, laid out by chunk(row, chunk) in elements: the loaders' 16-byte
// stores (cp.async or st.shared, and landed()'s rewrite of the same chunk:
// thread t, row t/4 + 64i, chunk t%4) of the A tile (BM rows) and the B tile
// (BN rows, after A), and the ldmatrix.x4 reads of both k16 halves.
func ringAccesses(t blockTile, chunk func(row, chunk int) int) []access {
	g := warpGrid(t)
	var out []access
	bytes := func(tileBase, row, c int) int { return 2 * (tileBase + chunk(row, c)) }
	for _, op := range []struct {
		name       string
		rows, base int
	}{{"A store", g.BM, 0}, {"B store", g.BN, g.BM * tileK}} {
		for i := 0; i < op.rows/64; i++ {
			for w := 0; w < 8; w++ {
				a := access{what: fmt.Sprintf("%s warp %d pass %d", op.name, w, i), width: 16}
				for lane := 0; lane < 32; lane++ {
					th := 32*w + lane
					a.addrs = append(a.addrs, bytes(op.base, th/4+64*i, th%4))
				}
				out = append(out, a)
			}
		}
	}
	for w := 0; w < 8; w++ {
		wm, wn := w/g.WN, w%g.WN
		for kk := 0; kk < tileK; kk += 16 {
			for mt := 0; mt < g.MT; mt++ {
				a := access{what: fmt.Sprintf("A ldmatrix warp %d k%d mt %d", w, kk, mt), width: 16}
				for lane := 0; lane < 32; lane++ {
					a.addrs = append(a.addrs, bytes(0, wm*g.WTM+lane%16+mt*16, kk/8+lane/16))
				}
				out = append(out, a)
			}
			for np := 0; np < g.NT/2; np++ {
				a := access{what: fmt.Sprintf("B ldmatrix warp %d k%d np %d", w, kk, np), width: 16}
				for lane := 0; lane < 32; lane++ {
					row := wn*g.WTN + lane%8 + (lane/16)*8 + np*16
					a.addrs = append(a.addrs, bytes(g.BM*tileK, row, kk/8+(lane/8)%2))
				}
				out = append(out, a)
			}
		}
	}
	return out
}

// conflicts counts the accesses served in more wavefronts than their bytes
// need, and returns the first such one.
func conflicts(accs []access) (n int, first string) {
	for _, a := range accs {
		need := len(a.addrs) * a.width / 128
		if got := smemWavefronts(a.addrs, a.width); got != need {
			if n == 0 {
				first = fmt.Sprintf("%s: %d wavefronts, %d needed", a.what, got, need)
			}
			n++
		}
	}
	return n, first
}

func TestSmemWavefrontModel(t *testing.T) {
	seq := func(stride, width int) []int {
		var a []int
		for l := 0; l < 32; l++ {
			a = append(a, l*stride)
		}
		return a
	}
	for _, c := range []struct {
		name          string
		addrs         []int
		width, wanted int
	}{
		{"4-byte words in a row", seq(4, 4), 4, 1},
		{"one word for all lanes (broadcast)", make([]int, 32), 4, 1},
		{"4-byte stride 128: one bank", seq(128, 4), 4, 32},
		{"4-byte stride 8: two ways", seq(8, 4), 4, 2},
		{"16-byte chunks in a row", seq(16, 16), 16, 4},
		{"16-byte stride 64: two groups a phase", seq(64, 16), 16, 16},
		{"8-byte pairs in a row", seq(8, 8), 8, 2},
	} {
		if got := smemWavefronts(c.addrs, c.width); got != c.wanted {
			t.Errorf("%s: %d wavefronts, want %d", c.name, got, c.wanted)
		}
	}
}

// The swizzled ring serves every loader store and every ldmatrix in the
// fewest wavefronts, in every tile shape. The same 64-byte rows without the
// swizzle (or a swizzle on the wrong row bits) make ldmatrix conflict. The
// padded 80-byte rows the ring used before read conflict-free but stored
// with two-way conflicts (a quarter warp's second row wraps into the first
// row's bank groups), at 25% more memory.
func TestTileRingSwizzleIsConflictFree(t *testing.T) {
	plain := func(row, chunk int) int { return row*tileK + chunk*8 }
	lowBits := func(row, chunk int) int { return row*tileK + (chunk^(row&3))*8 }
	padded := func(row, chunk int) int { return row*(tileK+8) + chunk*8 }
	split := func(accs []access) (stores, reads []access) {
		for _, a := range accs {
			if strings.Contains(a.what, "store") {
				stores = append(stores, a)
			} else {
				reads = append(reads, a)
			}
		}
		return stores, reads
	}
	for _, tl := range blockTiles {
		if n, first := conflicts(ringAccesses(tl, tileChunkOffset)); n > 0 {
			t.Errorf("%s swizzled: %d conflicting accesses, first %s", tl, n, first)
		}
		stores, reads := split(ringAccesses(tl, padded))
		if n, first := conflicts(reads); n > 0 {
			t.Errorf("%s padded: %d conflicting ldmatrix, first %s", tl, n, first)
		}
		if n, _ := conflicts(stores); n != len(stores) {
			t.Errorf("%s padded: %d of %d stores conflict, want all", tl, n, len(stores))
		}
		for name, layout := range map[string]func(int, int) int{"unswizzled": plain, "swizzled on row bits 0-1": lowBits} {
			_, reads := split(ringAccesses(tl, layout))
			if n, _ := conflicts(reads); n != len(reads) {
				t.Errorf("%s %s: %d of %d ldmatrix conflict, want all", tl, name, n, len(reads))
			}
		}
	}
}

// Every row's four chunks stay in the row's own 64 bytes, each at its own
// place, and 16-byte aligned.
func TestTileChunkOffsetIsAPermutationOfEachRow(t *testing.T) {
	for row := 0; row < 256; row++ {
		seen := map[int]bool{}
		for c := 0; c < 4; c++ {
			off := tileChunkOffset(row, c)
			if off < row*tileK || off >= (row+1)*tileK || off%8 != 0 || seen[off] {
				t.Fatalf("row %d chunk %d at element %d", row, c, off)
			}
			seen[off] = true
		}
	}
}

// The Go planner's shared sizes are the kernels' (gemm_tile.cuh's
// SMEM_BYTES, ln_attention.cu's lnattn::SMEM_BYTES).
func TestTileSharedBytes(t *testing.T) {
	for tl, want := range map[blockTile]int{{128, 128}: 65536, {128, 64}: 49152, {64, 128}: 49152} {
		if got := tl.sharedBytes(); got != want {
			t.Errorf("%s: %d bytes, want %d", tl, got, want)
		}
	}
	if lnAttnSharedSize != 55296 {
		t.Errorf("ln_attention: %d bytes, want 55296", lnAttnSharedSize)
	}
}

// tileStageOffset mirrors tile::stage_offset (cuda/gemm_tile.cuh): the
// float offset of column col of row `row` of the staged BN-wide tile.
func tileStageOffset(bn, row, col int) int {
	c4 := col / 4
	return row*bn + (c4^((c4>>3)&1)^((row&3)<<1))*4 + col%4
}

// stageAccesses lists the staged epilogue's warp instructions on the
// float32 tile laid out by stage(row, col): the fragment stores (8 bytes a
// thread: row g (+8, +16 per m tile), columns 2t, 2t+1 of each n8 tile)
// and each thread's two 16-byte reads of its 8 columns (chunk q = thread +
// 256i: row q/(BN/8), columns 8(q%(BN/8)) and 4 more).
func stageAccesses(t blockTile, stage func(row, col int) int) []access {
	g := warpGrid(t)
	var out []access
	for w := 0; w < 8; w++ {
		wm, wn := w/g.WN, w%g.WN
		for mt := 0; mt < g.MT; mt++ {
			for nt := 0; nt < g.NT; nt++ {
				for half := 0; half < 2; half++ {
					a := access{what: fmt.Sprintf("stage store warp %d mt %d nt %d half %d", w, mt, nt, half), width: 8}
					for lane := 0; lane < 32; lane++ {
						row := wm*g.WTM + mt*16 + lane/4 + half*8
						a.addrs = append(a.addrs, 4*stage(row, wn*g.WTN+nt*8+2*(lane%4)))
					}
					out = append(out, a)
				}
			}
		}
	}
	octets := g.BN / 8
	for i := 0; i < g.BM*octets/256; i++ {
		for w := 0; w < 8; w++ {
			for part := 0; part < 2; part++ {
				a := access{what: fmt.Sprintf("stage read warp %d pass %d part %d", w, i, part), width: 16}
				for lane := 0; lane < 32; lane++ {
					q := 32*w + lane + 256*i
					a.addrs = append(a.addrs, 4*stage(q/octets, (q%octets)*8+4*part))
				}
				out = append(out, a)
			}
		}
	}
	return out
}

// The staged epilogue's tile is stored and read in the fewest wavefronts in
// every shape; plain rows (a multiple of 128 bytes long) store with 4-way
// conflicts, and the row swizzle alone leaves the reads 2-way conflicted.
func TestTileStageSwizzleIsConflictFree(t *testing.T) {
	for _, tl := range blockTiles {
		bn := tl.N
		if tl.M*tl.N*4 > tl.sharedBytes() {
			t.Errorf("%s: the staged tile (%d bytes) does not fit in the ring (%d)", tl, tl.M*tl.N*4, tl.sharedBytes())
		}
		swizzled := func(row, col int) int { return tileStageOffset(bn, row, col) }
		plain := func(row, col int) int { return row*bn + col }
		rowOnly := func(row, col int) int { return row*bn + ((col/4)^((row&3)<<1))*4 + col%4 }
		if n, first := conflicts(stageAccesses(tl, swizzled)); n > 0 {
			t.Errorf("%s: %d conflicting accesses, first %s", tl, n, first)
		}
		if n, _ := conflicts(stageAccesses(tl, plain)); n == 0 {
			t.Errorf("%s plain rows: no conflicts found", tl)
		}
		if n, _ := conflicts(stageAccesses(tl, rowOnly)); n == 0 {
			t.Errorf("%s row swizzle only: no conflicts found", tl)
		}
	}
}

// stage_offset keeps each row's columns in the row, each at its own place,
// and every 4 aligned columns in one 16-byte chunk.
func TestTileStageOffsetIsAPermutationOfEachRow(t *testing.T) {
	for _, bn := range []int{64, 128} {
		for row := 0; row < 16; row++ {
			seen := map[int]bool{}
			for col := 0; col < bn; col++ {
				off := tileStageOffset(bn, row, col)
				if off < row*bn || off >= (row+1)*bn || seen[off] || off%4 != col%4 {
					t.Fatalf("BN %d row %d col %d at %d", bn, row, col, off)
				}
				seen[off] = true
			}
		}
	}
}
