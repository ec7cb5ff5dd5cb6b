package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/server"
	"github.com/gosdxl/gosdxl/server/natsqueue"
)

// newQueueRunner connects a front end (gen serve --queue) to NATS. The
// model is not loaded here: its name routes jobs to workers that have it.
func newQueueRunner(url, model string, logger *slog.Logger) (server.Runner, server.ModelInfo, func(), error) {
	nc, err := natsqueue.Connect(url, "gosdxl-serve", logger)
	if err != nil {
		return nil, server.ModelInfo{}, nil, usagef("--queue: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := natsqueue.NewClient(ctx, nc, natsqueue.Options{Logger: logger})
	if err != nil {
		nc.Close()
		return nil, server.ModelInfo{}, nil, fmt.Errorf("--queue %s: %v", url, err)
	}
	info := server.ModelInfo{Name: strings.TrimSuffix(filepath.Base(model), filepath.Ext(model)), File: model}
	logger.Info("jobs go to NATS JetStream", "url", url, "model", info.Name)
	return c, info, func() { c.Close(); nc.Drain() }, nil
}

const workerUsage = `Usage: gen worker --queue nats://HOST:4222 [flags]   run gen serve's jobs on this machine

      --queue URL          the NATS server with JetStream (required)
      --model PATH         checkpoint; jobs for its name come here (default weights/animagine-xl-4.0.safetensors)
      --device D           auto (default), cpu or cuda; run one worker per GPU
` + precisionUsage + `      --lora-dir DIR       where <lora:NAME:W> prompt tags find NAME.safetensors; the worker
                           advertises its LoRAs (default models/lora)
      --embedding-dir DIR  textual-inversion embeddings (default models/embeddings)
      --ack-wait D         redeliver a job when its worker is silent this long (default 30s)
      --max-deliver N      deliveries before a job is dead-lettered (default 3)
      --log-level L        debug, info (default), warn, error
`

// workerOptions are `gen worker`'s flags.
type workerOptions struct {
	residentFlags
	queue, logLevel string
	ackWait         time.Duration
	maxDeliver      int
}

func parseWorkerOptions(args []string) (*workerOptions, error) {
	o := &workerOptions{}
	fs := flag.NewFlagSet("gen worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, workerUsage) }
	fs.StringVar(&o.queue, "queue", "", "")
	o.residentFlags.register(fs)
	fs.DurationVar(&o.ackWait, "ack-wait", 30*time.Second, "")
	fs.IntVar(&o.maxDeliver, "max-deliver", 3, "")
	fs.StringVar(&o.logLevel, "log-level", "info", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return nil, usagef("worker: unexpected argument %q", fs.Arg(0))
	case !strings.HasPrefix(o.queue, "nats://"):
		return nil, usagef("--queue %q: give the NATS server as nats://HOST:4222", o.queue)
	case o.ackWait < time.Second:
		return nil, usagef("--ack-wait %v: must be at least 1s", o.ackWait)
	case o.maxDeliver < 1:
		return nil, usagef("--max-deliver %d: must be at least 1", o.maxDeliver)
	}
	if err := o.residentFlags.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// runWorker is `gen worker`: load the model once, pull jobs until SIGINT
// or SIGTERM, then hand back the job in hand and exit 0.
func runWorker(args []string) error {
	o, err := parseWorkerOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	queue, loraDir, logLevel := o.queue, o.loraDir, o.logLevel
	ackWait, maxDeliver := o.ackWait, o.maxDeliver
	logger, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	engine, closeEngine, err := loadEngine(o.residentFlags, logger)
	if err != nil {
		return err
	}
	defer closeEngine()
	engine.UseAdapterDirs(loraDir, o.embeddingDir, logger)
	nc, err := natsqueue.Connect(queue, "gosdxl-worker", logger)
	if err != nil {
		return usagef("--queue: %v", err)
	}
	defer nc.Close()
	w, err := natsqueue.NewWorker(nc, engine, engine.Info, o.device, nil,
		natsqueue.Options{AckWait: ackWait, MaxDeliver: maxDeliver, Logger: logger})
	if err != nil {
		return err
	}
	w.AdvertiseLoRAs(func() []string {
		names, _ := lora.List(loraDir) // the names its tags can use; none without the folder
		return names
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := w.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	logger.Info("worker stopped")
	return nil
}
