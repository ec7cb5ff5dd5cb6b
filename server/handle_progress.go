package server

import (
	"net/http"
	"strings"
	"time"
)

// handleProgress is GET /sdapi/v1/progress: the oldest running job.
func (s *Server) handleProgress(w http.ResponseWriter, r *http.Request) {
	resp := progressResponse{}
	j, count := s.q.current()
	resp.State.JobCount = count
	if j != nil {
		p, started := j.snapshot()
		frac := p.Fraction()
		resp.Progress = frac
		if frac > 0 {
			elapsed := time.Since(started).Seconds()
			resp.ETARelative = elapsed/frac - elapsed
		}
		interrupted, skipped := j.ctl.State()
		resp.State = progressState{
			Skipped: skipped, Interrupted: interrupted, Job: j.spec.ID,
			JobCount: p.Iterations, JobNo: p.Iteration,
			JobTimestamp: started.Format("20060102150405"),
			SamplingStep: p.Step, SamplingSteps: p.Steps,
		}
		if p.Preview != "" && !queryTrue(r, "skip_current_image") {
			resp.CurrentImage = &p.Preview
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// queryTrue reads a boolean query parameter as A1111's (FastAPI's) do:
// true, 1, yes, on in any case.
func queryTrue(r *http.Request, name string) bool {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

// handleInterrupt is POST /sdapi/v1/interrupt: running jobs stop before
// their next step and answer with what they finished plus the current
// iteration's images as far as they got.
func (s *Server) handleInterrupt(w http.ResponseWriter, r *http.Request) {
	s.q.eachRunning(func(j *job) { j.ctl.Interrupt() })
	writeJSON(w, http.StatusOK, map[string]any{})
}

// handleSkip is POST /sdapi/v1/skip: running jobs end their current
// batch iteration before its next step, keep its images as far as they
// got (as A1111), and go on with the next.
func (s *Server) handleSkip(w http.ResponseWriter, r *http.Request) {
	s.q.eachRunning(func(j *job) { j.ctl.Skip() })
	writeJSON(w, http.StatusOK, nil)
}
