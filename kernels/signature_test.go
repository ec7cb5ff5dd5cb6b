package kernels

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// A kernel launched with the wrong argument list reads garbage or faults on
// the GPU, and nothing on a machine without one would notice. This test finds
// every b.Launch call in the cuda build of this package, works out every
// kernel name it can launch, and checks each against the committed PTX (the
// code the driver actually loads): the entry exists, and each Go argument
// fills its .param (a device address for .u64, an int for .u32, a float32
// for .f32). Arguments are typed with go/types, so no GPU, nvcc or CUDA
// header is needed.

// TestEveryLaunchMatchesItsPTXSignature is the check described above.
func TestEveryLaunchMatchesItsPTXSignature(t *testing.T) {
	entries := ptxEntries(t)
	launches := launchSites(t)
	if len(launches) == 0 {
		t.Fatal("found no b.Launch calls: the source scan is broken")
	}
	launched := map[kernelRef]bool{}
	for _, l := range launches {
		for _, k := range l.kernels {
			launched[k] = true
			params, ok := entries[k]
			if !ok {
				t.Errorf("%s launches %s, which ptx/%s.ptx.gz does not define", l.pos, k, k.module)
				continue
			}
			if problem := matchParams(params, l.args); problem != "" {
				t.Errorf("%s launches %s(%s) with (%s): %s", l.pos, k, strings.Join(params, ", "), strings.Join(l.args, ", "), problem)
			}
		}
	}
	// The other direction catches a launcher that builds a wrong name for
	// some dtype, which the PTX then holds under another name.
	var unused []string
	for k := range entries {
		if !launched[k] {
			unused = append(unused, k.String())
		}
	}
	t.Logf("%d launch sites, %d kernels checked", len(launches), len(launched))
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("PTX entries no launcher can reach: %s", strings.Join(unused, ", "))
	}
}

// matchParams compares a PTX parameter list with the Go argument types.
func matchParams(params, args []string) string {
	if len(params) != len(args) {
		return fmt.Sprintf("%d parameters, %d arguments", len(params), len(args))
	}
	for i, p := range params {
		want, ok := goArgFor(args[i])
		if !ok {
			return fmt.Sprintf("argument %d has type %s, which boxArgs does not take", i, args[i])
		}
		if want != p {
			return fmt.Sprintf("argument %d (%s) fills a %s, the kernel declares %s", i, args[i], want, p)
		}
	}
	return ""
}

// goArgFor maps a Go argument type to the PTX parameter kind its 8-byte slot
// serves (see boxArgs; Launch turns a *tensor.Tensor into its address). A
// bool becomes 0 or 1 for a kernel's int flag.
func goArgFor(goType string) (string, bool) {
	switch goType {
	case "*tensor.Tensor", "devicePtr", "int64", "uint64":
		return "u64", true
	case "int", "int32", "uint32", "bool":
		return "u32", true
	case "float32":
		return "f32", true
	}
	return "", false
}

var (
	ptxEntry = regexp.MustCompile(`\.entry\s+(\w+)\s*\(([^)]*)\)`)
	ptxParam = regexp.MustCompile(`^\.param\s+\.(\w+)\s+\w+$`)
)

// ptxEntries reads every kernel signature in ptx/*.ptx.gz. Signed and untyped
// 32/64-bit parameters are folded into u32/u64: the slot is the same.
func ptxEntries(t *testing.T) map[kernelRef][]string {
	files, err := filepath.Glob("ptx/*.ptx.gz")
	if err != nil || len(files) == 0 {
		t.Fatalf("no ptx/*.ptx.gz (%v)", err)
	}
	out := map[kernelRef][]string{}
	for _, f := range files {
		module := strings.TrimSuffix(filepath.Base(f), ".ptx.gz")
		text, err := committedPTX(module)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ptxEntry.FindAllStringSubmatch(string(text), -1) {
			params := []string{}
			for _, p := range strings.Split(m[2], ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				pm := ptxParam.FindStringSubmatch(p)
				if pm == nil {
					t.Fatalf("%s: kernel %s: cannot read parameter %q", f, m[1], p)
				}
				kind := pm[1]
				switch kind {
				case "s32", "b32":
					kind = "u32"
				case "s64", "b64":
					kind = "u64"
				}
				params = append(params, kind)
			}
			out[kernelRef{module, m[1]}] = params
		}
	}
	return out
}

func TestPTXEntriesReadsParameterKinds(t *testing.T) {
	got := ptxEntries(t)[kernelRef{"norm", "layernorm_warp_f16_f32"}]
	want := []string{"u64", "u64", "u64", "u64", "u32", "u32", "f32"}
	if !slices.Equal(got, want) {
		t.Fatalf("layernorm_warp_f16_f32 parameters %v, want %v", got, want)
	}
}

// launchSite is one b.Launch call: the kernels it may launch and the Go
// types of its kernel arguments.
type launchSite struct {
	pos     string
	kernels []kernelRef
	args    []string
}

// launchSites type-checks the package as `-tags cuda` builds it and returns
// every Launch call with a Kernel argument. gorgonia.org/cu is not imported
// (it needs cuda.h): expressions using it lose their types, and no Launch
// argument may be one of them.
func launchSites(t *testing.T) []launchSite {
	ctx := build.Default
	ctx.BuildTags = []string{"cuda"}
	ctx.CgoEnabled = true
	pkg, err := ctx.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range append(pkg.GoFiles, pkg.CgoFiles...) {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	source := importer.ForCompiler(fset, "source", nil)
	conf := types.Config{
		FakeImportC: true,
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "gorgonia.org/cu" {
				return nil, fmt.Errorf("not type-checked here")
			}
			return source.Import(path)
		}),
		Error: func(err error) {
			if !strings.Contains(err.Error(), `could not import gorgonia.org/cu`) {
				t.Errorf("type-checking the cuda build: %v", err)
			}
		},
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf.Check("kernels", fset, files, info) // errors go to conf.Error
	qualifier := func(p *types.Package) string {
		if p.Path() == "kernels" {
			return ""
		}
		return p.Name()
	}
	var sites []launchSite
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 4 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Launch" || types.TypeString(info.TypeOf(call.Args[0]), qualifier) != "Kernel" {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			if call.Ellipsis.IsValid() {
				t.Errorf("%s: kernel arguments passed as a slice cannot be checked: list them", pos)
				return true
			}
			site := launchSite{pos: pos, kernels: kernelsOf(t, pos, call.Args[0], info)}
			for _, a := range call.Args[4:] {
				typ := info.TypeOf(a)
				if typ == nil {
					t.Errorf("%s: argument %s has no type", pos, types.ExprString(a))
					return true
				}
				site.args = append(site.args, types.TypeString(typ, qualifier))
			}
			sites = append(sites, site)
			return true
		})
	}
	return sites
}

// kernelRef names a kernel as Kernel does (Kernel itself exists only in
// the cuda build).
type kernelRef struct{ module, name string }

func (k kernelRef) String() string { return k.module + "." + k.name }

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// kernelsOf lists every kernel a Kernel{module, name} expression can be.
// Names are string literals joined with suffix(...) (each float type), halfSuffix(...) (f16, bf16) and
// pairSuffix(...) (each pair), or a planner's plan.module and plan.name,
// whose values come from running that planner (planKernels).
func kernelsOf(t *testing.T, pos string, e ast.Expr, info *types.Info) []kernelRef {
	lit, ok := e.(*ast.CompositeLit)
	if !ok || len(lit.Elts) != 2 {
		t.Errorf("%s: kernel %s is not a Kernel{module, name} literal", pos, types.ExprString(e))
		return nil
	}
	fields := make([]ast.Expr, 2)
	for i, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			i = map[string]int{"Module": 0, "Name": 1}[kv.Key.(*ast.Ident).Name]
			el = kv.Value
		}
		fields[i] = el
	}
	if plan, ok := planOf(fields, info); ok {
		ks, known := planKernels[plan]
		if !known {
			t.Errorf("%s: launches from a %s, which this test cannot enumerate: add it to planKernels", pos, plan)
			return nil
		}
		return ks()
	}
	modules, ok1 := stringsOf(fields[0])
	names, ok2 := stringsOf(fields[1])
	if !ok1 || !ok2 {
		t.Errorf("%s: cannot work out the kernel names of %s", pos, types.ExprString(e))
		return nil
	}
	var out []kernelRef
	for _, m := range modules {
		for _, n := range names {
			out = append(out, kernelRef{m, n})
		}
	}
	return out
}

// planOf recognises kernelRef{pl.module, pl.name} and returns pl's type name.
func planOf(fields []ast.Expr, info *types.Info) (string, bool) {
	m, ok1 := fields[0].(*ast.SelectorExpr)
	n, ok2 := fields[1].(*ast.SelectorExpr)
	if !ok1 || !ok2 || m.Sel.Name != "module" || n.Sel.Name != "name" ||
		types.ExprString(m.X) != types.ExprString(n.X) {
		return "", false
	}
	named, ok := info.TypeOf(m.X).(*types.Named)
	if !ok {
		return "", false
	}
	return named.Obj().Name(), true
}

// stringsOf evaluates a kernel-name expression to every value it can take.
func stringsOf(e ast.Expr) ([]string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		return []string{s}, err == nil && e.Kind == token.STRING
	case *ast.ParenExpr:
		return stringsOf(e.X)
	case *ast.BinaryExpr:
		l, ok1 := stringsOf(e.X)
		r, ok2 := stringsOf(e.Y)
		if e.Op != token.ADD || !ok1 || !ok2 {
			return nil, false
		}
		var out []string
		for _, a := range l {
			for _, b := range r {
				out = append(out, a+b)
			}
		}
		return out, true
	case *ast.CallExpr:
		fn, ok := e.Fun.(*ast.Ident)
		if !ok {
			return nil, false
		}
		switch fn.Name {
		case "suffix":
			return floatSuffixes(), true
		case "halfSuffix":
			return []string{"f16", "bf16"}, true
		case "pairSuffix":
			var out []string
			for _, a := range floatSuffixes() {
				for _, b := range floatSuffixes() {
					out = append(out, a+"_"+b)
				}
			}
			return out, true
		}
	}
	return nil, false
}

func floatSuffixes() []string {
	return []string{suffix(tensor.F32), suffix(tensor.F16), suffix(tensor.BF16)}
}

// planKernels enumerates what each planner can choose, by asking it for
// every dtype with aligned and unaligned operands.
var planKernels = map[string]func() []kernelRef{
	"gemmPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			p, err := gemmProblem{
				y: operand{"y", tensor.Shape{16, 16}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
				w: operand{"w", tensor.Shape{16, inner}, dt, 256}, tiles: tiles,
			}.plan()
			return p.launchPlan, err
		})
	},
	"gegluPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			p, err := gegluProblem{
				y: operand{"y", tensor.Shape{16, 8}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
				w: operand{"w", tensor.Shape{16, inner}, dt, 256}, tiles: tiles,
			}.plan()
			return p.launchPlan, err
		})
	},
	"convPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			p, err := convProblem{
				y: operand{"y", tensor.Shape{1, 4, 4, 16}, dt, 256}, x: operand{"x", tensor.Shape{1, 4, 4, inner}, dt, addr},
				w: operand{"w", tensor.Shape{16, 3, 3, inner}, dt, 256}, stride: 1, pad: 1, tiles: tiles,
			}.plan()
			return p.launchPlan, err
		})
	},
	"convNormPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			p, err := convProblem{
				y: operand{"y", tensor.Shape{1, 4, 4, 16}, dt, 256}, x: operand{"x", tensor.Shape{1, 4, 4, inner}, dt, addr},
				w: operand{"w", tensor.Shape{16, 3, 3, inner}, dt, 256}, stride: 1, pad: 1, tiles: tiles,
			}.planNormed(operand{}, 0)
			return p.launchPlan, err
		})
	},
	"gemmNormPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			p, err := gemmProblem{
				y: operand{"y", tensor.Shape{16, 16}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
				w: operand{"w", tensor.Shape{16, inner}, dt, 256}, tiles: tiles,
			}.planNormed()
			return p.launchPlan, err
		})
	},
	"qkvPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			w := tensor.Shape{128, inner} // 128 outputs a weight: every tile width divides it
			p, err := qkvProblem{
				y: operand{"y", tensor.Shape{16, 384}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
				wq: operand{"wq", w, dt, 256}, wk: operand{"wk", w, dt, 256}, wv: operand{"wv", w, dt, 256}, tiles: tiles,
			}.plan()
			return p.launchPlan, err
		})
	},
	"normGemmPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			p, err := normGemmProblem{gemmProblem{
				y: operand{"y", tensor.Shape{16, 16}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
				w: operand{"w", tensor.Shape{16, inner}, dt, 256}, tiles: tiles,
			}, normOperands(dt, inner)}.plan()
			return p.launchPlan, err
		})
	},
	"normQkvPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			w := tensor.Shape{128, inner}
			p, err := normQkvProblem{qkvProblem{
				y: operand{"y", tensor.Shape{16, 384}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
				wq: operand{"wq", w, dt, 256}, wk: operand{"wk", w, dt, 256}, wv: operand{"wv", w, dt, 256}, tiles: tiles,
			}, normOperands(dt, inner)}.plan()
			return p.launchPlan, err
		})
	},
	"normGegluPlan": func() []kernelRef {
		return plannedTiles(func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error) {
			p, err := normGegluProblem{gegluProblem{
				y: operand{"y", tensor.Shape{16, 8}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
				w: operand{"w", tensor.Shape{16, inner}, dt, 256}, tiles: tiles,
			}, normOperands(dt, inner)}.plan()
			return p.launchPlan, err
		})
	},
	"streamkLaunch": func() []kernelRef {
		var out []kernelRef
		for _, t := range blockTiles {
			out = append(out, planned(func(dt tensor.DType, inner int, addr uint64) (launchPlan, error) {
				p, err := gemmProblem{
					y: operand{"y", tensor.Shape{16, 16}, dt, 256}, x: operand{"x", tensor.Shape{16, inner}, dt, addr},
					w: operand{"w", tensor.Shape{16, inner}, dt, 256},
				}.streamkPlan(streamkSchedule(16, 16, inner, t, 4))
				return p.launchPlan, err
			})...)
		}
		return out
	},
	"attentionPlan": func() []kernelRef {
		return planned(func(dt tensor.DType, inner int, addr uint64) (launchPlan, error) {
			s := tensor.Shape{1, inner, 64}
			p, err := attentionProblem{
				o: operand{"o", s, dt, addr}, q: operand{"q", s, dt, addr},
				k: operand{"k", s, dt, addr}, v: operand{"v", s, dt, addr}, heads: 1,
			}.plan()
			return p.launchPlan, err
		})
	},
	"normAttentionPlan": func() []kernelRef {
		return planned(func(dt tensor.DType, inner int, addr uint64) (launchPlan, error) {
			s := tensor.Shape{1, 16, 64}
			p, err := normAttentionProblem{
				o: operand{"o", s, dt, 256}, x: operand{"x", tensor.Shape{1, 16, inner}, dt, addr},
				wq: operand{"wq", tensor.Shape{64, inner}, dt, 256},
				k:  operand{"k", s, dt, 256}, v: operand{"v", s, dt, 256}, heads: 1, norm: normOperands(dt, inner),
			}.plan()
			return p.launchPlan, err
		})
	},
}

// normOperands are a LayerNorm's gamma and beta for rows of k.
func normOperands(dt tensor.DType, k int) rowNormOperands {
	return rowNormOperands{gamma: operand{"gamma", tensor.Shape{k}, dt, 256}, beta: operand{"beta", tensor.Shape{k}, dt, 256}}
}

// plannedTiles is planned over every tile shape, each with and without
// split-K.
func plannedTiles(plan func(dt tensor.DType, inner int, addr uint64, tiles tilePlanner) (launchPlan, error)) []kernelRef {
	var out []kernelRef
	for _, t := range blockTiles {
		for _, splits := range []int{1, 2} {
			out = append(out, planned(func(dt tensor.DType, inner int, addr uint64) (launchPlan, error) {
				return plan(dt, inner, addr, fixedTiles(t, splits))
			})...)
		}
	}
	return out
}

// planned collects the kernels a planner picks over the float types, an
// inner size that is and is not a multiple of 8, and 256- and 2-byte
// aligned addresses. Declined cases (an error) launch nothing.
func planned(plan func(dt tensor.DType, inner int, addr uint64) (launchPlan, error)) []kernelRef {
	seen := map[kernelRef]bool{}
	var out []kernelRef
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
		for _, inner := range []int{64, 60} {
			for _, addr := range []uint64{256, 258} {
				p, err := plan(dt, inner, addr)
				k := kernelRef{p.module, p.name}
				if err == nil && p.name != "" && !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	return out
}
