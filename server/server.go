package server

import (
	"context"
	"errors"
	"github.com/gosdxl/gosdxl/prompt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Config is what `gen serve` passes to New.
type Config struct {
	Runner Runner
	// Model is the checkpoint the runner serves.
	Model ModelInfo
	// Workers is how many jobs run at once: 1 for a local model; the
	// number of jobs in flight to remote workers otherwise.
	Workers  int
	MaxQueue int           // jobs waiting beyond the running ones; more get 503
	Timeout  time.Duration // per request, queueing included; 0: none
	APIKey   string        // "" : no authentication
	// CORSOrigins may call the API from a browser ("*": any).
	CORSOrigins  []string
	LoRADir      string
	EmbeddingDir string
	// RemoteLoRAs, when set (a front end whose jobs run on workers), adds
	// the LoRA names the workers advertise to /sdapi/v1/loras.
	RemoteLoRAs func(context.Context) ([]string, error)
	// OutputsDir, when set, receives a copy of every image.
	OutputsDir string
	Limits     Limits
	Logger     *slog.Logger
	// TrimWhenIdle releases the device memory kept for reuse after each
	// job that leaves the queue empty (gen serve --trim-when-idle), for
	// other processes on the GPU; the next job re-allocates it.
	TrimWhenIdle bool
}

// Server answers the A1111 API. Create it with New; serve Handler; stop
// it with Shutdown.
type Server struct {
	cfg       Config
	q         *queue
	m         *metrics
	tokenizer *prompt.Tokenizer
	log       *slog.Logger
	handler   http.Handler
	draining  atomic.Bool
	started   time.Time
	previews  previewSettings // live previews (previews.go)
}

// New starts the queue's workers.
func New(cfg Config) (*Server, error) {
	if cfg.Runner == nil {
		return nil, errors.New("server: no runner")
	}
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.MaxQueue < 1 {
		cfg.MaxQueue = 32
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tok, err := prompt.NewTokenizer()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, m: newMetrics(), tokenizer: tok, log: cfg.Logger, started: time.Now()}
	s.previews.enabled, s.previews.every = true, defaultPreviewEvery
	s.q = newQueue(cfg.Runner, cfg.MaxQueue, cfg.Workers, s.m, s.trimWhenIdle())
	s.handler = s.routes()
	return s, nil
}

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Shutdown refuses new jobs (503), answers the waiting ones with 503 and
// waits for the running ones to finish. Call it beside http.Server's
// Shutdown, which waits for their responses to be written.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	return s.q.close(ctx)
}

// statusRecorder remembers the status code for the request counter.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		s.m.requests.WithLabelValues(strconv.Itoa(rec.code/100) + "xx").Inc()
	})
}
