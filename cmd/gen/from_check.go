package main

import (
	"fmt"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"io"
	"strings"
)

// unreproducedFields are A1111 infotext fields whose effect gen does not
// reproduce, with what the difference is.
var unreproducedFields = []struct{ key, why string }{
	{"Variation seed", "variation seeds are not mixed in"},
	{"Refiner", "the refiner model is not run"},
	{"Eta", "eta is not applied"},
}

// fromIssues lists what a --from PNG asks for that the regenerated image
// will not reproduce.
func fromIssues(p *infotext.Parameters) []string {
	var issues []string
	if v, ok := p.Get("Clip skip"); ok && strings.TrimSpace(v) != "1" {
		issues = append(issues, fmt.Sprintf("Clip skip %s: SDXL always uses the penultimate layer; clip skip is ignored", v))
	}
	for _, f := range unreproducedFields {
		if _, ok := p.Get(f.key); ok {
			issues = append(issues, fmt.Sprintf("%s: %s", f.key, f.why))
		}
	}
	switch {
	case p.RNG == "":
		issues = append(issues, "no RNG field: A1111 drew this noise on the GPU (its default), gen draws torch's CPU noise, so the image will differ")
	case p.RNG != "CPU":
		issues = append(issues, fmt.Sprintf("RNG %s: gen draws torch's CPU noise only, so the image will differ", p.RNG))
	}
	if p.Steps == 0 {
		issues = append(issues, "no Steps field: using --steps")
	}
	if p.Width == 0 || p.Height == 0 {
		issues = append(issues, "no Size field: using --width and --height")
	}
	return issues
}

// reportFrom warns about each issue of the --from PNG, or with
// --from-strict refuses it.
func (o *options) reportFrom(w io.Writer, issues []string) error {
	if len(issues) == 0 {
		return nil
	}
	if o.fromStrict {
		return usagef("--from %s: not reproducible as stored: %s (drop --from-strict to run anyway)",
			o.from, strings.Join(issues, "; "))
	}
	for _, s := range issues {
		fmt.Fprintf(w, "gen: warning: --from %s: %s\n", o.from, s)
	}
	return nil
}

// checkFromModelHash compares the --from PNG's model hash with the loaded
// checkpoint's (known only once the model is hashed).
func (o *options) checkFromModelHash(hash string) error {
	if o.fromParams == nil || o.fromParams.ModelHash == "" || hash == "" ||
		strings.EqualFold(o.fromParams.ModelHash, hash) {
		return nil
	}
	return o.reportFrom(stderr, []string{fmt.Sprintf("made with model hash %s (%s), this checkpoint's is %s",
		o.fromParams.ModelHash, o.fromParams.Model, hash)})
}
