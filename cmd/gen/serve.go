package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/server"
)

// residentFlags are the flags of a process that keeps one model loaded
// (gen serve, gen worker), with gen's defaults.
type residentFlags struct {
	model, device, loraDir, embeddingDir string
	vaePrecision, textPrecision          string
}

func (r *residentFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.model, "model", defaultModel, "")
	fs.StringVar(&r.device, "device", "auto", "")
	fs.StringVar(&r.vaePrecision, "vae-precision", "auto", "")
	fs.StringVar(&r.textPrecision, "text-precision", "auto", "")
	fs.StringVar(&r.loraDir, "lora-dir", defaultLoRADir, "")
	fs.StringVar(&r.embeddingDir, "embedding-dir", defaultEmbeddingDir, "")
}

// check validates the flags before anything is opened or loaded.
func (r *residentFlags) check() error {
	switch r.device {
	case "auto", "cpu", "cuda":
	default:
		return usagef("--device %q: must be auto, cpu or cuda", r.device)
	}
	if err := checkVAEPrecision("--vae-precision", r.vaePrecision, r.device); err != nil {
		return err
	}
	return checkTextPrecision("--text-precision", r.textPrecision, r.device)
}

// serveOptions are `gen serve`'s flags.
type serveOptions struct {
	residentFlags
	listen, outs       string
	maxQueue           int
	timeout            time.Duration
	apiKey, apiKeyFile string
	corsOrigin         string
	queue              string
	inFlight           int
	logLevel           string
	trimWhenIdle       bool
}

const serveUsage = `Usage: gen serve [flags]     serve AUTOMATIC1111's /sdapi/v1 API and a web page at /

      --listen ADDR        address to listen on (default 127.0.0.1:7860, A1111's port)
      --model PATH         checkpoint (default weights/animagine-xl-4.0.safetensors)
      --device D           auto (default), cpu or cuda
` + precisionUsage + `      --lora-dir DIR       where <lora:NAME:W> prompt tags find NAME.safetensors, listed by
                           /sdapi/v1/loras (default models/lora)
      --embedding-dir DIR  textual-inversion embeddings, used by writing their name in a prompt,
                           listed by /sdapi/v1/embeddings (default models/embeddings)
      --outputs DIR        also save every image there (never overwriting)
      --max-queue N        jobs that may wait; more get 503 with Retry-After (default 32)
      --timeout D          per-request limit, waiting included (default 10m; 0: none)
      --api-key KEY        require "Authorization: Bearer KEY" (or Basic auth with password KEY)
                           on every endpoint but /healthz
      --api-key-file FILE  the same, the key read from FILE
      --cors-origin LIST   comma-separated origins allowed to call the API from a browser (* any)
      --queue URL          nats://HOST:4222: publish jobs to NATS JetStream for gen worker
                           processes instead of running them here
      --in-flight N        with --queue: jobs handed to workers at once (default 16)
      --log-level L        debug, info (default), warn, error
      --trim-when-idle     after a job that leaves the queue empty, give the GPU memory kept for
                           reuse back to the driver (the next job re-allocates it; POST /free
                           does the same on request)
`

func parseServeOptions(args []string) (*serveOptions, error) {
	o := &serveOptions{}
	fs := flag.NewFlagSet("gen serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage) }
	fs.StringVar(&o.listen, "listen", "127.0.0.1:7860", "")
	o.residentFlags.register(fs)
	fs.StringVar(&o.outs, "outputs", "", "")
	fs.IntVar(&o.maxQueue, "max-queue", 32, "")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "")
	fs.StringVar(&o.apiKey, "api-key", "", "")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "")
	fs.StringVar(&o.corsOrigin, "cors-origin", "", "")
	fs.StringVar(&o.queue, "queue", "", "")
	fs.IntVar(&o.inFlight, "in-flight", 16, "")
	fs.StringVar(&o.logLevel, "log-level", "info", "")
	fs.BoolVar(&o.trimWhenIdle, "trim-when-idle", false, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	if o.maxQueue < 1 {
		return nil, usagef("--max-queue %d: must be at least 1", o.maxQueue)
	}
	if o.inFlight < 1 {
		return nil, usagef("--in-flight %d: must be at least 1", o.inFlight)
	}
	if o.timeout < 0 {
		return nil, usagef("--timeout %v: must not be negative", o.timeout)
	}
	if err := o.residentFlags.check(); err != nil {
		return nil, err
	}
	if o.apiKey != "" && o.apiKeyFile != "" {
		return nil, usagef("--api-key and --api-key-file: give one")
	}
	if o.apiKeyFile != "" {
		b, err := os.ReadFile(o.apiKeyFile)
		if err != nil {
			return nil, usagef("--api-key-file: %v", err)
		}
		o.apiKey = strings.TrimSpace(string(b))
		if o.apiKey == "" {
			return nil, usagef("--api-key-file %s: the file is empty", o.apiKeyFile)
		}
	}
	if o.queue != "" && !strings.HasPrefix(o.queue, "nats://") {
		return nil, usagef("--queue %q: must be a nats:// URL", o.queue)
	}
	return o, nil
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: must be debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: l})), nil
}

// runServe is `gen serve`: load the model (or connect to NATS), listen,
// and on SIGINT/SIGTERM finish the running job, refuse new ones, exit 0.
func runServe(args []string) error {
	o, err := parseServeOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger, err := newLogger(o.logLevel)
	if err != nil {
		return err
	}
	cfg := server.Config{
		MaxQueue: o.maxQueue, Timeout: o.timeout, APIKey: o.apiKey,
		LoRADir: o.loraDir, EmbeddingDir: o.embeddingDir, OutputsDir: o.outs,
		Logger: logger, TrimWhenIdle: o.trimWhenIdle,
	}
	if o.corsOrigin != "" {
		cfg.CORSOrigins = strings.Split(o.corsOrigin, ",")
	}
	if o.queue != "" {
		runner, info, closeRunner, err := newQueueRunner(o.queue, o.model, logger)
		if err != nil {
			return err
		}
		defer closeRunner()
		cfg.Runner, cfg.Model, cfg.Workers = runner, info, o.inFlight
		if c, ok := runner.(interface {
			LoRAs(context.Context, string) ([]string, error)
		}); ok {
			// The workers have the LoRAs: list theirs beside this folder's.
			cfg.RemoteLoRAs = func(ctx context.Context) ([]string, error) {
				ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				return c.LoRAs(ctx, info.Name)
			}
		}
	} else {
		engine, closeEngine, err := loadEngine(o.residentFlags, logger)
		if err != nil {
			return err
		}
		engine.UseAdapterDirs(o.loraDir, o.embeddingDir, logger)
		defer closeEngine()
		cfg.Runner, cfg.Model, cfg.Workers = engine, engine.Info, 1
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen %s: %v", o.listen, err)
	}
	logger.Info("serving", "url", "http://"+ln.Addr().String()+"/", "model", cfg.Model.Title())
	return serveUntilSignal(ln, srv, logger)
}

// serveUntilSignal serves until SIGINT or SIGTERM, then shuts down
// gracefully.
func serveUntilSignal(ln net.Listener, srv *server.Server, logger *slog.Logger) error {
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case err := <-errc:
		return err
	case s := <-sig:
		logger.Info("shutting down: finishing running jobs, refusing new ones", "signal", s.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	herr := hs.Shutdown(ctx)
	if err := <-done; err != nil {
		return err
	}
	if herr != nil && !errors.Is(herr, http.ErrServerClosed) {
		return herr
	}
	logger.Info("stopped")
	return nil
}

// loadEngine opens the device and loads the model once.
func loadEngine(r residentFlags, logger *slog.Logger) (*server.Engine, func(), error) {
	model := r.model
	if _, err := os.Stat(model); err != nil {
		return nil, nil, usagef("--model %s: %v", model, err)
	}
	backend, closeBackend, err := openBackend(r.device, false)
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	precision, err := loadPrecision("--vae-precision", r.vaePrecision, backend)
	if err == nil {
		err = setTextPrecision(&precision, "--text-precision", r.textPrecision, backend)
	}
	if err != nil {
		closeBackend()
		return nil, nil, err
	}
	start := time.Now()
	engine, err := server.NewEngineWith(model, backend, sdxl.LoadOptions{Precision: precision})
	if err != nil {
		closeBackend()
		return nil, nil, usagef("--model %s: %v", model, err)
	}
	logger.Info("model loaded", "model", model, "backend", backend.Name(), "seconds", time.Since(start).Seconds())
	return engine, func() { engine.Close(); closeBackend() }, nil
}
